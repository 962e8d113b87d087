#!/usr/bin/env bash
# Synthesizes every transcript of an LJSpeech-layout corpus with a Debian synthesizer, giving a
# "donor" corpus with the same ids and texts for the replace-voice corruption
# (difftts data corrupt ... --mode replace-voice --donor OUT).
# Usage: datasets/allison/make-donor.sh CORPUS OUT [flite|espeak-ng] [VOICE]
#   default: flite with voice slt (CMU ARCTIC, US female); espeak-ng default voice en-us.
# Output: OUT/metadata.csv (copied), OUT/wavs/<id>.wav mono 16-bit 22050 Hz, OUT/README.md.
set -euo pipefail
CORPUS="${1:?usage: make-donor.sh CORPUS OUT [flite|espeak-ng] [VOICE]}"
OUT="${2:?usage: make-donor.sh CORPUS OUT [flite|espeak-ng] [VOICE]}"
ENGINE="${3:-flite}"
case "$ENGINE" in
  flite) VOICE="${4:-slt}" ;;
  espeak-ng) VOICE="${4:-en-us}" ;;
  *) echo "make-donor.sh: unknown synthesizer '$ENGINE' (expected flite or espeak-ng)" >&2; exit 2 ;;
esac
[[ -f "$CORPUS/metadata.csv" ]] || { echo "make-donor.sh: $CORPUS/metadata.csv not found (expected an LJSpeech-layout corpus)" >&2; exit 2; }
for tool in "$ENGINE" ffmpeg; do
  command -v "$tool" >/dev/null || { echo "make-donor.sh: '$tool' not installed (apt-get install flite espeak-ng ffmpeg)" >&2; exit 2; }
done

mkdir -p "$(dirname "$OUT")"
TMP="$(mktemp -d "$(dirname "$OUT")/.$(basename "$OUT").tmp-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/wavs"
n=0
# Strip a BOM and CRs; the normalized text (3rd field) is spoken when present, else the text.
sed '1s/^\xEF\xBB\xBF//; s/\r$//' "$CORPUS/metadata.csv" | while IFS='|' read -r id text norm _rest; do
  [[ -z "$id" ]] && continue
  say="${norm:-$text}"
  if [[ "$ENGINE" == flite ]]; then
    flite -voice "$VOICE" -t "$say" -o "$TMP/raw.wav"
  else
    espeak-ng -v "$VOICE" -w "$TMP/raw.wav" -- "$say"
  fi
  ffmpeg -nostdin -loglevel error -y -i "$TMP/raw.wav" -ar 22050 -ac 1 -c:a pcm_s16le -bitexact -map_metadata -1 \
    "$TMP/wavs/$id.wav"
done
rm -f "$TMP/raw.wav"
sed '1s/^\xEF\xBB\xBF//; s/\r$//' "$CORPUS/metadata.csv" > "$TMP/metadata.csv"
n=$(ls "$TMP/wavs" | wc -l)
cat > "$TMP/README.md" <<README
# Synthetic donor corpus for $(basename "$CORPUS")

Every transcript of \`$(basename "$CORPUS")\` spoken by the $ENGINE synthesizer (voice \`$VOICE\`,
Debian package $(dpkg-query -W -f='${Package} ${Version}' "$ENGINE" 2>/dev/null || echo "$ENGINE")), resampled to 22050 Hz mono 16-bit, same ids and metadata.csv.
Built by \`datasets/allison/make-donor.sh $(basename "$CORPUS") $(basename "$OUT") $ENGINE $VOICE\`.
Used by \`difftts data corrupt --mode replace-voice --donor\` to swap a fraction of the recordings
for a different (synthetic) voice. The texts come from the source corpus (see its README/LICENSE:
CC-BY-SA-3.0 for the Allison prompts); flite and its CMU ARCTIC voices are under a BSD-style licence.
README
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "make-donor.sh: wrote $n utterances to $OUT ($(du -sh "$OUT" | cut -f1))" >&2
