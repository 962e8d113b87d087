// The ceiling a trained speaker can reach: pocketsphinx WER of the synthesizer a speaker of
// datasets/voices was made from, reading the unseen sentences itself, through difftts's log-mel →
// Griffin-Lim 32 (the vocoder the trained voice speaks through). Same recogniser and sentences as
// scripts/unseen-wer.mjs / speaker-matrix.mjs.
// Usage: npm run build && node scripts/source-voice-wer.mjs [--sentences FILE] [--out DIR] SPEAKER...
//   SPEAKER: kal, awb, rms, slt (flite's voices) or slt-hts (festival's cmu_us_slt_arctic_hts)
// Prints one JSON line: { speaker: { wer, sentences } }.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', 'src', p));
const { scoreWav, corpusWer } = await dist('eval/intelligibility.js');
const { readSentences } = await dist('eval/sentences.js');
const { readWav, writeWav } = await dist('audio/wav.js');
const { logMel } = await dist('audio/mel.js');
const { griffinLim } = await dist('audio/griffinlim.js');

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const sentences = readSentences(opt('sentences', join(root, 'datasets', 'sentences', 'unseen.txt')));
const out = opt('out', mkdtempSync(join(tmpdir(), 'difftts-source-wer-')));
const FLITE = new Set(['kal', 'awb', 'rms', 'slt']);
const unknown = argv.filter((s) => !FLITE.has(s) && s !== 'slt-hts');
if (argv.length === 0 || unknown.length) {
  console.error(
    `source-voice-wer: ${unknown.length ? `unknown speaker '${unknown[0]}'` : 'no speaker named'} (expected kal, awb, rms, slt or slt-hts)`,
  );
  process.exit(2);
}
const result = {};
for (const speaker of argv) {
  const dir = join(out, speaker);
  mkdirSync(dir, { recursive: true });
  const rows = [];
  for (const [i, text] of sentences.entries()) {
    const raw = join(dir, `${i}.raw.wav`);
    const wav22 = join(dir, `${i}.22k.wav`);
    if (speaker === 'slt-hts') execFileSync('text2wave', ['-eval', '(voice_cmu_us_slt_arctic_hts)', '-o', raw], { input: `${text}\n` });
    else execFileSync('flite', ['-voice', speaker, '-t', text, '-o', raw]);
    execFileSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', raw, '-ar', '22050', '-ac', '1', '-c:a', 'pcm_s16le', wav22]);
    const gl = join(dir, `${String(i + 1).padStart(3, '0')}.wav`);
    writeWav(gl, griffinLim(logMel(readWav(wav22).samples), { iters: 32, seed: 7 + i }), 22050, 'pcm16');
    const r = await scoreWav(text, gl);
    if (r === null) {
      console.error('source-voice-wer: pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)');
      process.exit(1);
    }
    rows.push(r);
  }
  result[speaker] = { wer: corpusWer(rows), sentences: rows.length };
  process.stderr.write(`source-voice-wer: ${speaker} ${result[speaker].wer.toFixed(3)}\n`);
}
console.log(JSON.stringify(result));
