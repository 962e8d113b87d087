#!/usr/bin/env bash
# Computes the SPTK reference that src/eval/mcep.test.ts compares difftts's mel-cepstra and MCD with,
# so the test itself needs no sptk. Needs Debian's sptk (apt-get install sptk; installed when run as root)
# and a built difftts (npm run build).
#
# Clips: two Allison prompts, the same texts by flite slt (datasets/allison-mini-donor), and a
# Griffin-Lim resynthesis of each Allison clip (difftts audio mel → griffinlim, 32 iterations, seed 1,
# committed as test/fixtures/sptk/<id>.gl.wav since Griffin-Lim code may change).
# Per clip: frame -l 1024 -p 256 | window -l 1024 -L 1024 -w 0 -n 1 | mcep -l 1024 -m 24 -a 0.455 -e 1e-10
# (float32 [−1, 1] samples in) → test/fixtures/sptk/<clip>.mcep.npy, float32 [frames, 25].
# Per pair (generated-like, reference): DTW with SPTK's dtw on c1…c24 (-l 24, default path -p 5,
# L2 norm), then cdist -o 0 (dB) over the aligned pairs (a zero c0 prepended: cdist skips c0)
# → test/fixtures/sptk/sptk-reference.json, with the path ([test frame, ref frame] flattened).
# Usage: scripts/sptk-reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SPTK=/usr/libexec/sptk/bin
if [[ ! -x "$SPTK/mcep" ]]; then
  if [[ $(id -u) == 0 ]]; then apt-get install -y sptk >/dev/null; else echo "sptk-reference.sh: Debian's sptk is not installed (apt-get install sptk)" >&2; exit 2; fi
fi
export PATH="$SPTK:$PATH"
[[ -f dist/src/eval/mcep.js ]] || { echo "sptk-reference.sh: run npm run build first" >&2; exit 2; }
OUT=test/fixtures/sptk
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
IDS=(agent-loginok call-fwd-on-busy)
CLIPS=()
for id in "${IDS[@]}"; do
  node bin/difftts.js audio mel "datasets/allison-mini/wavs/$id.wav" --out "$TMP/$id.mel.npy" >/dev/null
  node bin/difftts.js audio griffinlim "$TMP/$id.mel.npy" --out "$OUT/$id.gl.wav" --iters 32 --seed 1 >/dev/null
  CLIPS+=("allison:datasets/allison-mini/wavs/$id.wav" "slt:datasets/allison-mini-donor/wavs/$id.wav" "gl:$OUT/$id.gl.wav")
done
# float32 raw samples of a WAV, and the .npy writer, through difftts's own readers (same input for both sides)
cat > "$TMP/io.mjs" <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
import { readWav } from './dist/src/audio/wav.js';
import { writeNpy } from './dist/src/util/npy.js';
const [cmd, a, b, c] = process.argv.slice(2);
if (cmd === 'raw') writeFileSync(b, Buffer.from(new Float32Array(readWav(a).samples).buffer));
if (cmd === 'npy') { const d = new Float32Array(readFileSync(a).buffer.slice(0)); writeNpy(b, d, [d.length / Number(c), Number(c)]); }
if (cmd === 'mean') { const d = new Float32Array(readFileSync(a).buffer.slice(0)); console.log(d.reduce((s, v) => s + v, 0) / d.length); }
JS
cp "$TMP/io.mjs" ./.sptk-io.mjs
trap 'rm -rf "$TMP" ./.sptk-io.mjs' EXIT
mcep_of() { frame -l 1024 -p 256 < "$1" | window -l 1024 -L 1024 -w 0 -n 1 | mcep -l 1024 -m 24 -a 0.455 -e 1e-10; }
pairs_json=""
for id in "${IDS[@]}"; do
  for kind in allison slt gl; do
    case $kind in allison) wav="datasets/allison-mini/wavs/$id.wav";; slt) wav="datasets/allison-mini-donor/wavs/$id.wav";; gl) wav="$OUT/$id.gl.wav";; esac
    node .sptk-io.mjs raw "$wav" "$TMP/$kind-$id.f32"
    mcep_of "$TMP/$kind-$id.f32" > "$TMP/$kind-$id.mcep"
    node .sptk-io.mjs npy "$TMP/$kind-$id.mcep" "$OUT/$kind-$id.mcep.npy" 25
    bcp +f -l 25 -s 1 -e 24 "$TMP/$kind-$id.mcep" > "$TMP/$kind-$id.c24"
  done
  for kind in slt gl; do
    # test = $kind, reference = allison; dtw writes [test c1…c24, ref c1…c24] per path pair
    dtw -l 24 -v "$TMP/path.i32" "$TMP/allison-$id.c24" < "$TMP/$kind-$id.c24" > "$TMP/pair.f32"
    # prepend c0 = 0 to each half (cdist measures c1…c24 and skips c0)
    pathLength=$(( $(stat -c %s "$TMP/pair.f32") / 192 ))
    head -c $(( pathLength * 4 )) /dev/zero > "$TMP/zeros"
    bcp +f -l 48 -s 0 -e 23 "$TMP/pair.f32" | merge -s 0 -l 24 -L 1 "$TMP/zeros" > "$TMP/t25"
    bcp +f -l 48 -s 24 -e 47 "$TMP/pair.f32" | merge -s 0 -l 24 -L 1 "$TMP/zeros" > "$TMP/r25"
    mcd=$(cdist -m 24 -o 0 "$TMP/r25" "$TMP/t25" | x2x +fa)
    pairs_json+="${pairs_json:+,}
    { \"test\": \"$kind-$id\", \"ref\": \"allison-$id\", \"mcd\": $mcd, \"pathLength\": $pathLength,
      \"path\": [$(x2x +ia "$TMP/path.i32" | paste -sd,)] }"
  done
done
cat > "$OUT/sptk-reference.json" <<JSON
{
  "tool": "$(dpkg-query -W -f='${Package} ${Version}' sptk)",
  "command": "frame -l 1024 -p 256 | window -l 1024 -L 1024 -w 0 -n 1 | mcep -l 1024 -m 24 -a 0.455 -e 1e-10; dtw -l 24 (c1…c24); cdist -m 24 -o 0",
  "clips": {
$(for id in "${IDS[@]}"; do printf '    "allison-%s": "datasets/allison-mini/wavs/%s.wav",\n    "slt-%s": "datasets/allison-mini-donor/wavs/%s.wav",\n    "gl-%s": "test/fixtures/sptk/%s.gl.wav",\n' "$id" "$id" "$id" "$id" "$id" "$id"; done | sed '$ s/,$//')
  },
  "pairs": [$pairs_json
  ]
}
JSON
echo "sptk-reference.sh: wrote $OUT/sptk-reference.json and $(ls $OUT/*.mcep.npy | wc -l) mel-cepstra" >&2
