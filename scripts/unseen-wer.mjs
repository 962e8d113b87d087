// Word error rate of a checkpoint on datasets/sentences/unseen.txt under chosen sampler settings —
// the sweep behind docs/quality/LEVERS.md (src/eval/intelligibility.ts's speakAndScore: sentence i
// is synthesized and vocoded with seed 7 + i). pocketsphinx must be installed (apt-get install
// pocketsphinx pocketsphinx-en-us).
// Usage: npm run build && node scripts/unseen-wer.mjs --checkpoint DIR [--steps 10] [--temperature 1.5]
//          [--length-scale 1] [--iters 32] [--prior (= --steps 0)] [--start-time 1] [--stochastic]
//          [--sentences FILE] [--speaker NAME (multi-speaker voices)] [--out DIR]
// Prints one JSON line: the settings, corpus WER, and per-sentence errors/words (for paired comparisons).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist', 'src', p);
const { initBackend } = await import(dist('backend/index.js'));
const { loadModel } = await import(dist('synthesis/model.js'));
const { speakAndScore } = await import(dist('eval/intelligibility.js'));
const { readSentences } = await import(dist('eval/sentences.js'));

const { argv, arg, num, fail } = scriptArgs('unseen-wer');

const checkpoint = arg('checkpoint');
if (!checkpoint) fail('--checkpoint DIR is required');
// --prior is --steps 0: the encoder's μ alone
const settings = {
  steps: argv.includes('--prior') ? 0 : num('steps', 10),
  temperature: num('temperature', 1.5),
  lengthScale: num('length-scale', 1),
  iters: num('iters', 32),
  startTime: num('start-time', 1),
  stochastic: argv.includes('--stochastic'),
  ...(arg('speaker') !== undefined ? { speaker: arg('speaker') } : {}),
};
const outDir = arg('out', mkdtempSync(join(tmpdir(), 'difftts-unseen-wer-')));

try {
  await initBackend('wasm');
  const lm = loadModel(checkpoint);
  const texts = readSentences(arg('sentences', join(root, 'datasets', 'sentences', 'unseen.txt')));
  const r = await speakAndScore(lm, texts, { ...settings, seed: 7, outDir });
  if (r === null) fail('pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)', 1);
  const perSentence = r.rows.map((s) => [s.substitutions + s.deletions + s.insertions, s.refWords]);
  console.log(
    JSON.stringify({
      checkpoint,
      mode: settings.steps === 0 ? 'prior' : 'diffusion',
      ...settings,
      sentences: r.rows.length,
      wer: r.corpusWer,
      perSentence,
      wavs: outDir,
    }),
  );
} catch (err) {
  // bad checkpoints, sentence files and settings are UserErrors with their own one-line message
  fail(err instanceof Error ? err.message.split('\n')[0] : String(err), 1);
}
