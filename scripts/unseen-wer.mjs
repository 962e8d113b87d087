// Word error rate of a checkpoint on datasets/sentences/unseen.txt under chosen sampler settings —
// the sweep behind docs/quality/LEVERS.md. pocketsphinx must be installed (apt-get install
// pocketsphinx pocketsphinx-en-us).
// Usage: npm run build && node scripts/unseen-wer.mjs --checkpoint DIR [--steps 10] [--temperature 1.5]
//          [--length-scale 1] [--iters 32] [--prior] [--sentences FILE] [--out DIR]
// Prints one JSON line: the settings, corpus WER, and per-sentence errors/words (for paired comparisons).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist', 'src', p);
const { initBackend } = await import(dist('backend/index.js'));
const { loadModel, vocode } = await import(dist('train/synthesize.js'));
const { scoreWav, corpusWer } = await import(dist('eval/intelligibility.js'));
const { readSentences } = await import(dist('eval/sentences.js'));
const { textToIds } = await import(dist('text/index.js'));
const { writeWav } = await import(dist('audio/wav.js'));
const { Rng } = await import(dist('util/rng.js'));

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const checkpoint = arg('checkpoint');
if (!checkpoint) {
  console.error('unseen-wer: --checkpoint DIR is required');
  process.exit(2);
}
const steps = Number(arg('steps', 10));
const temperature = Number(arg('temperature', 1.5));
const lengthScale = Number(arg('length-scale', 1));
const iters = Number(arg('iters', 32));
const prior = argv.includes('--prior');
const out = arg('out', mkdtempSync(join(tmpdir(), 'difftts-unseen-wer-')));

await initBackend('wasm');
const lm = loadModel(checkpoint);
const texts = readSentences(arg('sentences', join(root, 'datasets', 'sentences', 'unseen.txt')));
mkdirSync(out, { recursive: true });
const rows = [];
for (const [i, text] of texts.entries()) {
  const { ids } = textToIds(text, lm.textConfig);
  const mel = prior ? await lm.model.prior(ids, lengthScale) : await lm.model.synthesize(ids, { steps, temperature, lengthScale, stochastic: false, rng: new Rng(7 + i) });
  const wav = join(out, `${String(i + 1).padStart(3, '0')}.wav`);
  writeWav(wav, vocode(mel, lm.melConfig, iters, 7 + i), lm.melConfig.sampleRate, 'pcm16');
  const r = await scoreWav(text, wav);
  if (r === null) {
    console.error('unseen-wer: pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)');
    process.exit(1);
  }
  rows.push(r);
}
const perSentence = rows.map((r) => [r.substitutions + r.deletions + r.insertions, r.refWords]);
console.log(JSON.stringify({ checkpoint, mode: prior ? 'prior' : 'diffusion', steps, temperature, lengthScale, iters, sentences: rows.length, wer: corpusWer(rows), perSentence, wavs: out }));
