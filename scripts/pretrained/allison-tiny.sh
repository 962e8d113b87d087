#!/usr/bin/env bash
# Rebuilds pretrained/allison-tiny: the full Allison corpus (datasets/allison/prepare.sh, Debian's
# asterisk sounds), `difftts train` with recipes/allison-tiny.json, then `difftts export` of the
# moving-average weights into pretrained/allison-tiny (its README, LICENSE stay). Resumable: run it again after an interruption and training continues.
# Usage: scripts/pretrained/allison-tiny.sh [WORK_DIR]   (default: runs/allison-tiny-build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${1:-$ROOT/runs/allison-tiny-build}"
mkdir -p "$WORK"
[[ -f "$WORK/allison/metadata.csv" ]] || "$ROOT/datasets/allison/prepare.sh" "$WORK/allison"
RESUME=()
[[ -d "$WORK/run/checkpoints" ]] && RESUME=(--resume)
node "$ROOT/bin/difftts.js" train --recipe "$ROOT/recipes/allison-tiny.json" --data "$WORK/allison" --out "$WORK/run" "${RESUME[@]}"
node "$ROOT/bin/difftts.js" export --checkpoint "$WORK/run" --out "$ROOT/pretrained/allison-tiny"
cp "$WORK/run/metrics.jsonl" "$ROOT/pretrained/allison-tiny/metrics.jsonl"
