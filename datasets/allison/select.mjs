#!/usr/bin/env node
// Helper for prepare.sh (plain Node, no build needed).
//   select.mjs list SOUNDS_DIR < core-sounds-en.txt      → "id\tpath\ttext" for every speech prompt
//   select.mjs metadata BUILD_DIR [--mini]               → metadata.csv on stdout; drops unused wavs
// The mini subset is deterministic: prompts of 1–4 s with at least MIN_WORDS words, ordered by
// sha256(id), taken in that order until MAX_CLIPS clips or MAX_SECONDS of audio.
import { readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

// 335 s of 22050 Hz 16-bit audio is ~14.8 MB: short multi-word prompts give ~150 clips within that.
const MIN_SEC = 1, MAX_SEC = 4, MIN_WORDS = 2, MAX_CLIPS = 250, MAX_SECONDS = 335;

const [cmd, dir, flag] = process.argv.slice(2);

/** "digits/1" → "digits_1": ids are safe as file names on every OS. */
const safeId = (path) => path.replace(/[^A-Za-z0-9_-]/g, '_');

/** Prompts that are not speech: empty, or a bracketed description such as "[ascending tones]" or "<beep ascending>". */
const isSpeech = (text) => text.length > 0 && !/[[\]<>]/.test(text) && /[A-Za-z0-9]/.test(text);

/** Spoken forms of the keypad symbols the prompts use; numbers are left to the text cleaner. */
const normalise = (text) =>
  text.replace(/#/g, ' pound ').replace(/\*/g, ' star ').replace(/\s+/g, ' ').replace(/ ([,.!?;:])/g, '$1').trim();

/** Duration of a PCM WAV in seconds, from its fmt and data chunks. */
function wavSeconds(file) {
  const b = readFileSync(file);
  let off = 12, rate = 0, blockAlign = 0;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') { rate = b.readUInt32LE(off + 12); blockAlign = b.readUInt16LE(off + 20); }
    if (id === 'data') return size / blockAlign / rate;
    off += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

if (cmd === 'list') {
  const seen = new Set();
  for (const line of readFileSync(0, 'utf8').split(/\r?\n/)) {
    if (!line.trim() || line.startsWith(';')) continue;
    const m = /^([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const [, path, raw] = m;
    const text = raw.replace(/\s+/g, ' ').trim();
    if (!isSpeech(text) || !existsSync(join(dir, `${path}.g722`))) continue;
    let id = safeId(path);
    while (seen.has(id)) id += '_';
    seen.add(id);
    process.stdout.write(`${id}\t${path}\t${text}\n`);
  }
} else if (cmd === 'metadata') {
  const rows = readFileSync(join(dir, 'candidates.tsv'), 'utf8').trim().split('\n').map((l) => {
    const [id, , text] = l.split('\t');
    return { id, text, sec: wavSeconds(join(dir, 'wavs', `${id}.wav`)) };
  });
  let keep = rows;
  if (flag === '--mini') {
    const hash = (id) => createHash('sha256').update(id).digest('hex');
    const pool = rows
      .filter((r) => r.sec >= MIN_SEC && r.sec <= MAX_SEC && r.text.split(' ').length >= MIN_WORDS)
      .sort((a, b) => (hash(a.id) < hash(b.id) ? -1 : 1));
    keep = [];
    let total = 0;
    for (const r of pool) {
      if (keep.length >= MAX_CLIPS) break;
      if (total + r.sec > MAX_SECONDS) continue;
      keep.push(r);
      total += r.sec;
    }
    keep.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  const kept = new Set(keep.map((r) => r.id));
  for (const f of readdirSync(join(dir, 'wavs'))) if (!kept.has(f.replace(/\.wav$/, ''))) rmSync(join(dir, 'wavs', f));
  for (const r of keep) process.stdout.write(`${r.id}|${r.text}|${normalise(r.text)}\n`);
  const secs = keep.reduce((s, r) => s + r.sec, 0);
  process.stderr.write(`select.mjs: ${keep.length} of ${rows.length} prompts, ${secs.toFixed(1)} s of audio\n`);
} else {
  process.stderr.write('usage: select.mjs list SOUNDS_DIR < transcripts | select.mjs metadata BUILD_DIR [--mini]\n');
  process.exit(2);
}
