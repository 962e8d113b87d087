#!/usr/bin/env bash
# Builds a copy of difftts that runs on a linux-x64 machine without network (e.g. a GPU box) and
# fits in 64 MiB: bin + dist (no tests) + recipes + the production node_modules, pruned to what
# Node loads — each @tensorflow package's "main" bundle (+ the wasm binaries), Dawn's
# dawn.node for linux-x64 only, no source maps, type declarations or docs.
#
#   scripts/pack-portable.sh [OUT_DIR]      (default: /tmp/difftts-portable; prints its size)
#   then, on the other machine: node OUT_DIR/bin/difftts.js --backend webgpu backend
#
# The target still needs Node ≥ 20 and, for webgpu, a Vulkan driver (see README "GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/difftts-portable}
LIMIT_MIB=64

npm run build >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT/dist"
cp -r bin recipes package.json README.md LICENSE "$OUT"/
cp -r dist/src dist/bench "$OUT/dist/"
find "$OUT/dist" -name '*.test.js' -delete

# every production package (nested ones included), as npm resolved them
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | while read -r dir; do
  rel=${dir#"$PWD"/}
  mkdir -p "$OUT/$rel"
  cp -r "$dir/." "$OUT/$rel/"
done

nm="$OUT/node_modules"
# tfjs packages: Node loads only the "main" bundle (a single file) and, for wasm, the .wasm binaries
for pkg in "$nm"/@tensorflow/*; do
  main=$(node -e "process.stdout.write(require(require('path').resolve(process.argv[1], 'package.json')).main || '')" "$pkg")
  find "$pkg" -type f ! -path "$pkg/$main" ! -name package.json ! -name '*.wasm' ! -name 'LICENSE*' -delete
done
# Dawn: this platform's dawn.node only
find "$nm/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
rm -rf "$nm/webgpu/build" "$nm/webgpu/node_modules/@webgpu"
# polyfills no Node bundle requires, type declarations, maps, docs
rm -rf "$nm/core-js" "$nm/@types"
find "$nm" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -iname 'README*' -o -iname 'CHANGELOG*' -o -name '*.md' \) -delete
find "$nm" -type d -empty -delete

mib=$(du -sm "$OUT" | cut -f1)
echo "pack-portable: $OUT is ${mib} MiB (limit ${LIMIT_MIB})"
# it must still start: the backend report loads tfjs, wasm and Dawn from the copy
node "$OUT/bin/difftts.js" --backend wasm backend >/dev/null
[ "$mib" -le "$LIMIT_MIB" ] || { echo "pack-portable: over ${LIMIT_MIB} MiB" >&2; exit 1; }
