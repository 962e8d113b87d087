#!/usr/bin/env bash
# Builds the multi-voice corpus "voices" in LJSpeech layout with a speaker column:
#   OUT_DIR/metadata.csv   <speaker>_<prompt id>|text|normalized text|<speaker>
#   OUT_DIR/wavs/<id>.wav  mono 16-bit PCM, 22050 Hz
#   OUT_DIR/README.md, OUT_DIR/LICENSE (Allison, CC-BY-SA-3.0), OUT_DIR/licences/*.copyright
# Six speakers read the same Allison Smith prompts (a parallel corpus):
#   allison  the recordings (datasets/allison/prepare.sh)
#   slt-hts  festival, cmu_us_slt_arctic_hts (Debian festvox-us-slt-hts)
#   kal awb rms slt   flite's voices
# A prompt is kept only when all six renditions last 0.5–15 s (difftts's default bounds), so every
# row is usable and every speaker has the same texts.
# Usage: [JOBS=4] datasets/voices/prepare.sh OUT_DIR
# Needs Debian packages asterisk-core-sounds-en(-g722), ffmpeg, flite, festival, festvox-us-slt-hts
# (installed with apt-get when missing and running as root) and node ≥ 20. Deterministic: flite,
# festival's HTS engine and ffmpeg -bitexact give the same bytes on every run with the same packages.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALLISON="$HERE/../allison"
OUT="${1:?usage: prepare.sh OUT_DIR}"
[[ $# -eq 1 ]] || { echo "prepare.sh: expected one argument OUT_DIR, got $#" >&2; exit 2; }
SPEAKERS=(allison slt-hts kal awb rms slt)
PACKAGES=(asterisk-core-sounds-en-g722 asterisk-core-sounds-en ffmpeg flite festival festvox-us-slt-hts)

missing=()
for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update && apt-get install -y "${missing[@]}"
  else
    echo "prepare.sh: install ${missing[*]} first (sudo apt-get install ${missing[*]})" >&2
    exit 2
  fi
fi
command -v node >/dev/null || { echo "prepare.sh: node ≥ 20 not found (needed by datasets/allison/select.mjs)" >&2; exit 2; }

# Build into a temporary sibling and rename at the end: never a half-built corpus.
mkdir -p "$(dirname "$OUT")"
TMP="$(mktemp -d "$(dirname "$OUT")/.$(basename "$OUT").tmp-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/wavs" "$TMP/licences" "$TMP/src"

# 1. Allison's recordings (full corpus), then every synthetic voice reading the same prompts
#    (the normalized column), JOBS files at a time (default 4: each file is a short, mostly waiting
#    process; the bytes do not depend on the order). Festival's HTS voice is the slow one: first.
"$ALLISON/prepare.sh" "$TMP/src/allison"
sed 's/\r$//' "$TMP/src/allison/metadata.csv" > "$TMP/src/prompts.csv"
synth() { # SPEAKER LINE: one prompt of src/prompts.csv → src/SPEAKER/ID.wav, 22050 Hz mono 16-bit
  local spk="$1" line id text norm
  line="$(sed -n "${2}p" "$TMP/src/prompts.csv")"
  IFS='|' read -r id text norm _ <<< "$line"
  local raw="$TMP/src/$spk/$id.raw.wav"
  if [[ "$spk" == slt-hts ]]; then
    printf '%s\n' "${norm:-$text}" > "$TMP/src/$spk/$id.txt"
    text2wave -eval "(voice_cmu_us_slt_arctic_hts)" "$TMP/src/$spk/$id.txt" -o "$raw"
    rm "$TMP/src/$spk/$id.txt"
  else
    flite -voice "$spk" -t "${norm:-$text}" -o "$raw"
  fi
  ffmpeg -nostdin -loglevel error -y -i "$raw" -ar 22050 -ac 1 -c:a pcm_s16le -bitexact -map_metadata -1 "$TMP/src/$spk/wavs/$id.wav"
  rm "$raw"
}
export -f synth
export TMP
n=$(wc -l < "$TMP/src/prompts.csv")
for spk in "${SPEAKERS[@]:1}"; do mkdir -p "$TMP/src/$spk/wavs"; for ((i = 1; i <= n; i++)); do echo "$spk $i"; done; done |
  xargs -P "${JOBS:-4}" -n 2 bash -c 'synth "$@"' _
echo "prepare.sh: synthesized $((n * (${#SPEAKERS[@]} - 1))) files" >&2

# 2. Keep the prompts whose six renditions are all 0.5–15 s; rename wavs to <speaker>_<id>.wav.
node - "$TMP" "${SPEAKERS[@]}" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [tmp, ...speakers] = process.argv.slice(2);
/** Seconds of a PCM WAV, from its fmt and data chunks. */
function seconds(file) {
  const b = fs.readFileSync(file);
  let rate = 0, block = 0;
  for (let at = 12; at + 8 <= b.length;) {
    const id = b.toString('latin1', at, at + 4), size = b.readUInt32LE(at + 4);
    if (id === 'fmt ') { rate = b.readUInt32LE(at + 12); block = b.readUInt16LE(at + 20); }
    if (id === 'data') return Math.min(size, b.length - at - 8) / block / rate;
    at += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}
const rows = fs.readFileSync(path.join(tmp, 'src/allison/metadata.csv'), 'utf8').split('\n').filter(Boolean);
const out = [];
let dropped = 0;
const keep = rows.filter((line) => {
  const id = line.split('|')[0];
  const ok = speakers.every((s) => { const d = seconds(path.join(tmp, 'src', s, 'wavs', `${id}.wav`)); return d >= 0.5 && d <= 15; });
  if (!ok) dropped++;
  return ok;
});
for (const s of speakers) {
  for (const line of keep) {
    const [id, text, norm] = line.split('|');
    fs.renameSync(path.join(tmp, 'src', s, 'wavs', `${id}.wav`), path.join(tmp, 'wavs', `${s}_${id}.wav`));
    out.push(`${s}_${id}|${text}|${norm ?? text}|${s}`);
  }
}
fs.writeFileSync(path.join(tmp, 'metadata.csv'), `${out.join('\n')}\n`);
const minutes = speakers.map((s) => {
  const sec = keep.reduce((t, line) => t + seconds(path.join(tmp, 'wavs', `${s}_${line.split('|')[0]}.wav`)), 0);
  return `| \`${s}\` | ${keep.length} | ${(sec / 60).toFixed(1)} |`;
});
fs.writeFileSync(path.join(tmp, 'stats.md'), `${minutes.join('\n')}\n`);
process.stderr.write(`prepare.sh: ${keep.length} prompts × ${speakers.length} speakers (${dropped} prompts dropped: a rendition outside 0.5–15 s)\n`);
JS

# 3. Licences travel with the audio; the README says who is who.
cp "$TMP/src/allison/LICENSE" "$TMP/LICENSE"
cp /usr/share/doc/flite/copyright "$TMP/licences/flite.copyright"
cp /usr/share/doc/festival/copyright "$TMP/licences/festival.copyright"
cp /usr/share/doc/festvox-us-slt-hts/copyright "$TMP/licences/festvox-us-slt-hts.copyright"
ver() { dpkg-query -W -f='${Package} ${Version}' "$1"; }
{
  cat <<README
# voices: six speakers reading the Allison Smith prompts (LJSpeech layout with a speaker column)

A parallel multi-speaker corpus for difftts's multi-speaker models: the same prompts spoken by one
recorded voice and five synthetic ones. Built by \`datasets/voices/prepare.sh OUT_DIR\` of difftts.

| speaker | utterances | minutes |
|---|---|---|
README
  cat "$TMP/stats.md"
  cat <<README

- \`allison\`: Allison Smith's recordings of the Asterisk core sounds (US-English female), built by
  \`datasets/allison/prepare.sh\` ($(ver asterisk-core-sounds-en-g722)): decoded from G.722 (16 kHz) and
  resampled. **CC-BY-SA-3.0** (\`LICENSE\`): attribute "Allison Smith (http://www.theivrvoice.com),
  Asterisk core sounds" and share derived audio under the same licence. The prompt texts are part of
  that work, so every speaker's rows carry CC-BY-SA-3.0 texts.
- \`slt-hts\`: festival ($(ver festival)) with the HTS voice \`cmu_us_slt_arctic_hts\`
  ($(ver festvox-us-slt-hts); CMU ARCTIC speaker slt, US female). Festival: CSTR, University of
  Edinburgh, BSD-style licence (\`licences/festival.copyright\`); the voice: Carnegie Mellon University
  (EST-2003/EST-2000, permissive) and the HTS working group (BSD-3-clause)
  (\`licences/festvox-us-slt-hts.copyright\`).
- \`kal\` (US male, 8 kHz diphone voice), \`awb\` (Scottish-English male), \`rms\` (US male), \`slt\` (US female,
  the same ARCTIC speaker as \`slt-hts\` through a different synthesizer): flite's built-in voices
  ($(ver flite)), Carnegie Mellon University, BSD-style licence (\`licences/flite.copyright\`).
  The synthesizers' licences cover the programs and voices; the audio they produce here reads
  CC-BY-SA-3.0 texts.
- Every file: mono 16-bit PCM at 22050 Hz (\`ffmpeg -ar 22050 -ac 1 -bitexact -map_metadata -1\`).
  Synthetic voices read the normalized column (keypad symbols spelt out).
- Ids are \`<speaker>_<prompt id>\` (e.g. \`rms_agent-alreadyon\`); the fourth column names the speaker.
  A prompt is kept only when all six renditions last 0.5–15 s, so every row is usable with
  difftts's default bounds and every speaker reads the same texts.
- Deterministic: the same Debian packages give byte-identical files.
README
} > "$TMP/README.md"
rm -rf "$TMP/src" "$TMP/stats.md"

rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "prepare.sh: wrote $(($(wc -l < "$OUT/metadata.csv"))) utterances to $OUT ($(du -sh "$OUT" | cut -f1))" >&2
