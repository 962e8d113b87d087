#!/usr/bin/env bash
# Builds the Allison Smith corpus (Asterisk core sounds, CC-BY-SA-3.0) in LJSpeech layout:
#   OUT_DIR/metadata.csv   id|text|normalized text
#   OUT_DIR/wavs/<id>.wav  mono 16-bit PCM, 22050 Hz
#   OUT_DIR/LICENSE, OUT_DIR/README.md
# Usage: datasets/allison/prepare.sh OUT_DIR [--mini]
# --mini keeps the deterministic subset committed as datasets/allison-mini (see select.mjs).
# Needs Debian packages asterisk-core-sounds-en-g722, asterisk-core-sounds-en and ffmpeg
# (installed with apt-get when missing and running as root), and node ≥ 20.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:?usage: prepare.sh OUT_DIR [--mini]}"
MINI="${2:-}"
if [[ -n "$MINI" && "$MINI" != "--mini" ]]; then echo "prepare.sh: unknown option '$MINI' (expected --mini)" >&2; exit 2; fi

SOUNDS=/usr/share/asterisk/sounds/en_US_f_Allison
TRANSCRIPTS=/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz
COPYRIGHT=/usr/share/doc/asterisk-core-sounds-en/copyright
if [[ ! -d "$SOUNDS" || ! -f "$TRANSCRIPTS" ]] || ! command -v ffmpeg >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update && apt-get install -y asterisk-core-sounds-en-g722 asterisk-core-sounds-en ffmpeg
  else
    echo "prepare.sh: install asterisk-core-sounds-en-g722 asterisk-core-sounds-en ffmpeg first (sudo apt-get install ...)" >&2
    exit 2
  fi
fi

# Build into a temporary sibling and rename at the end: never a half-built corpus.
mkdir -p "$(dirname "$OUT")"
TMP="$(mktemp -d "$(dirname "$OUT")/.$(basename "$OUT").tmp-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/wavs"

# 1. transcripts → candidate list "id<TAB>prompt path<TAB>text" (non-speech prompts dropped).
zcat "$TRANSCRIPTS" | node "$HERE/select.mjs" list "$SOUNDS" > "$TMP/candidates.tsv"

# 2. decode G.722 (16 kHz) → 22050 Hz mono 16-bit; -bitexact and no metadata keep files reproducible.
while IFS=$'\t' read -r id path _text; do
  ffmpeg -nostdin -loglevel error -y -f g722 -i "$SOUNDS/$path.g722" -ar 22050 -ac 1 -c:a pcm_s16le \
    -bitexact -map_metadata -1 "$TMP/wavs/$id.wav"
done < "$TMP/candidates.tsv"

# 3. metadata.csv (all, or the deterministic mini subset) and unused wavs removed.
node "$HERE/select.mjs" metadata "$TMP" ${MINI:+--mini} > "$TMP/metadata.csv"
rm "$TMP/candidates.tsv"

# 4. licence and attribution travel with the audio.
awk '/^License: CC-BY-SA-3.0$/ && prev == "" { p = 1; print; next } p && /^License:|^For more details/ { exit } p; { prev = $0 }' \
  "$COPYRIGHT" > "$TMP/LICENSE.body"
{
  echo "Voice prompts recorded by Allison Smith (http://www.theivrvoice.com), 2003-2010,"
  echo "financial contributions by Digium, Inc. (http://www.digium.com)."
  echo "Source: Asterisk core sounds (http://downloads.asterisk.org/pub/telephony/asterisk/),"
  echo "Debian packages asterisk-core-sounds-en-g722 and asterisk-core-sounds-en (1.6.1)."
  echo "Modified: decoded from G.722 (16 kHz) and resampled to 22050 Hz mono 16-bit WAV; a subset may be kept."
  echo "Licence: Creative Commons Attribution-ShareAlike 3.0 (CC-BY-SA-3.0), full text below as shipped by Debian."
  echo
  sed 's/^ //; s/^\.$//' "$TMP/LICENSE.body"
} > "$TMP/LICENSE"
rm "$TMP/LICENSE.body"
cp "$HERE/CORPUS-README.md" "$TMP/README.md"

rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
echo "prepare.sh: wrote $(($(wc -l < "$OUT/metadata.csv"))) utterances to $OUT ($(du -sh "$OUT" | cut -f1))" >&2
