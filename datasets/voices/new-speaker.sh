#!/usr/bin/env bash
# A corpus for adding one speaker to a multi-speaker voice trained on datasets/voices: a Debian
# synthesizer reads N of the voices corpus's prompts, as speaker NAME (ids NAME_<prompt id>, the
# speaker column NAME), in LJSpeech layout. Fine-tune with `difftts train --init RUN --data OUT`
# (recipes/voices-add-speaker.json): the new name gets a new embedding row (docs in the recipe README).
# Usage: datasets/voices/new-speaker.sh VOICES_DIR OUT NAME [flite|espeak-ng|festival] [VOICE] [N]
#   N = how many prompts (default 200: every k-th of the corpus's prompts, so they spread over it).
# Needs what datasets/allison/make-donor.sh needs (the synthesizer and ffmpeg).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VOICES="${1:?usage: new-speaker.sh VOICES_DIR OUT NAME [ENGINE] [VOICE] [N]}"
OUT="${2:?usage: new-speaker.sh VOICES_DIR OUT NAME [ENGINE] [VOICE] [N]}"
NAME="${3:?usage: new-speaker.sh VOICES_DIR OUT NAME [ENGINE] [VOICE] [N]}"
ENGINE="${4:-espeak-ng}"
VOICE="${5:-}"
N="${6:-200}"
[[ "$NAME" =~ ^[A-Za-z0-9._-]+$ ]] || { echo "new-speaker.sh: NAME '$NAME': expected letters, digits, '.', '_' or '-'" >&2; exit 2; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "new-speaker.sh: N '$N': expected a positive integer" >&2; exit 2; }
META="$VOICES/metadata.csv"
[[ -f "$META" ]] || { echo "new-speaker.sh: $META not found (expected the corpus of datasets/voices/prepare.sh)" >&2; exit 2; }

TEXTS="$(mktemp -d)"
trap 'rm -rf "$TEXTS"' EXIT
# The prompts read by the corpus's first speaker, every k-th of them, renamed to the new speaker.
first="$(head -n 1 "$META" | cut -d'|' -f4)"
awk -F'|' -v s="$first" '$4 == s' "$META" > "$TEXTS/prompts.csv"
total=$(wc -l < "$TEXTS/prompts.csv")
((total >= N)) || { echo "new-speaker.sh: $META has $total prompts of speaker '$first'; N = $N is more" >&2; exit 2; }
awk -F'|' -v OFS='|' -v s="$first" -v name="$NAME" -v k="$((total / N))" -v n="$N" \
  '(NR - 1) % k == 0 && c < n { c++; sub("^" s "_", name "_", $1); $4 = name; print }' "$TEXTS/prompts.csv" > "$TEXTS/metadata.csv"
"$HERE/../allison/make-donor.sh" "$TEXTS" "$OUT" "$ENGINE" ${VOICE:+"$VOICE"}
echo "new-speaker.sh: $(wc -l < "$OUT/metadata.csv") prompts of $(basename "$VOICES") read by $ENGINE${VOICE:+ ($VOICE)} as speaker '$NAME' in $OUT" >&2
