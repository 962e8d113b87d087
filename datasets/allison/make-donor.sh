#!/usr/bin/env bash
# Synthesizes every transcript of an LJSpeech-layout corpus with a Debian synthesizer, giving a
# "donor" corpus with the same ids and texts for the replace-voice corruption
# (difftts data corrupt ... --mode replace-voice --donor OUT).
# Usage: datasets/allison/make-donor.sh CORPUS OUT [flite|espeak-ng|festival] [VOICE]
#   default: flite with voice slt (CMU ARCTIC, US female; also kal, awb, rms); espeak-ng default
#   voice en-us; festival default voice cmu_us_slt_arctic_hts (Debian festvox-us-slt-hts).
# Output: OUT/metadata.csv (copied), OUT/wavs/<id>.wav mono 16-bit 22050 Hz, OUT/README.md.
set -euo pipefail
CORPUS="${1:?usage: make-donor.sh CORPUS OUT [flite|espeak-ng|festival] [VOICE]}"
OUT="${2:?usage: make-donor.sh CORPUS OUT [flite|espeak-ng|festival] [VOICE]}"
ENGINE="${3:-flite}"
case "$ENGINE" in
  flite) VOICE="${4:-slt}" ;;
  espeak-ng) VOICE="${4:-en-us}" ;;
  festival) VOICE="${4:-cmu_us_slt_arctic_hts}" ;;
  *) echo "make-donor.sh: unknown synthesizer '$ENGINE' (expected flite, espeak-ng or festival)" >&2; exit 2 ;;
esac
[[ -f "$CORPUS/metadata.csv" ]] || { echo "make-donor.sh: $CORPUS/metadata.csv not found (expected an LJSpeech-layout corpus)" >&2; exit 2; }
TOOL="$ENGINE"; [[ "$ENGINE" == festival ]] && TOOL=text2wave
for tool in "$TOOL" ffmpeg; do
  command -v "$tool" >/dev/null || { echo "make-donor.sh: '$tool' not installed (apt-get install flite espeak-ng festival festvox-us-slt-hts ffmpeg)" >&2; exit 2; }
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
  case "$ENGINE" in
    flite) flite -voice "$VOICE" -t "$say" -o "$TMP/raw.wav" ;;
    espeak-ng) espeak-ng -v "$VOICE" -w "$TMP/raw.wav" -- "$say" ;;
    festival) printf '%s\n' "$say" > "$TMP/say.txt"; text2wave -eval "(voice_$VOICE)" "$TMP/say.txt" -o "$TMP/raw.wav" ;;
  esac
  ffmpeg -nostdin -loglevel error -y -i "$TMP/raw.wav" -ar 22050 -ac 1 -c:a pcm_s16le -bitexact -map_metadata -1 \
    "$TMP/wavs/$id.wav"
done
rm -f "$TMP/raw.wav" "$TMP/say.txt"
sed '1s/^\xEF\xBB\xBF//; s/\r$//' "$CORPUS/metadata.csv" > "$TMP/metadata.csv"
n=$(ls "$TMP/wavs" | wc -l)
cat > "$TMP/README.md" <<README
# Synthetic donor corpus for $(basename "$CORPUS")

Every transcript of \`$(basename "$CORPUS")\` spoken by the $ENGINE synthesizer (voice \`$VOICE\`,
Debian package $(dpkg-query -W -f='${Package} ${Version}' "$ENGINE" 2>/dev/null || echo "$ENGINE")$([[ "$ENGINE" == festival ]] && dpkg-query -W -f=', ${Package} ${Version}' festvox-us-slt-hts 2>/dev/null)), resampled to 22050 Hz mono 16-bit, same ids and metadata.csv.
Built by \`datasets/allison/make-donor.sh $(basename "$CORPUS") $(basename "$OUT") $ENGINE $VOICE\`.
Used by \`difftts data corrupt --mode replace-voice --donor\` to swap a fraction of the recordings
for a different (synthetic) voice. The texts come from the source corpus (see its README/LICENSE:
CC-BY-SA-3.0 for the Allison prompts); flite, festival and the CMU ARCTIC voices (also the slt HTS
voice) are under BSD-style licences; espeak-ng is GPL-3.0 (its output is not covered).
README
rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "make-donor.sh: wrote $n utterances to $OUT ($(du -sh "$OUT" | cut -f1))" >&2
