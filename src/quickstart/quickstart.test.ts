/** The quickstart flow on a synthetic corpus with a minuscule model: trains, speaks, and a second call resumes. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend/index.js';
import { readWav, writeWav } from '../audio/wav.js';
import { repoRoot } from '../testing/paths.js';
import { Rng } from '../util/rng.js';
import { exportWeights, listCheckpoints } from '../train/checkpoint.js';
import { readMetrics } from '../train/metrics.js';
import { parseOverrideArgs } from '../train/overrides.js';
import { quickstartSummary, runQuickstart } from './quickstart.js';

before(async () => {
  await initBackend('wasm');
});

const root = mkdtempSync(join(tmpdir(), 'difftts-quickstart-'));
const corpus = join(root, 'corpus');
mkdirSync(join(corpus, 'wavs'), { recursive: true });
const texts = ['One two.', 'Three four.', 'Five six.', 'Seven eight.', 'Nine ten.', 'Hello there.'];
const rng = new Rng(3);
texts.forEach((_, i) => {
  const x = new Float32Array(Math.round(0.6 * 22050));
  for (let k = 0; k < x.length; k++) x[k] = 0.3 * Math.sin((2 * Math.PI * (120 + 30 * i) * k) / 22050) + 0.01 * rng.normal();
  writeWav(join(corpus, 'wavs', `q${i}.wav`), x, 22050);
});
writeFileSync(join(corpus, 'metadata.csv'), texts.map((t, i) => `q${i}|${t}|${t}`).join('\n') + '\n');

// recipes/tiny.json itself, shrunk through command-line style overrides
const overrides = parseOverrideArgs([
  '--model.encoder.channels',
  '8',
  '--model.encoder.filterChannels',
  '16',
  '--model.encoder.layers',
  '1',
  '--model.durationPredictor.channels',
  '8',
  '--model.decoder.dim',
  '4',
  '--model.decoder.groups',
  '2',
  '--model.segmentFrames',
  '16',
  '--train.batchSize',
  '2',
  '--train.checkpointEvery',
  '1',
  '--train.pngEvery',
  '1',
  '--synth.steps',
  '2',
  '--train.logEvery',
  '1',
]);

test('quickstart: trains, writes quickstart.wav/png and the summary; a second call resumes', async () => {
  const out = join(root, 'qs');
  const quiet = { progress: false, log: () => {} };
  const a = await runQuickstart({
    corpus,
    recipePath: join(repoRoot, 'recipes', 'tiny.json'),
    out,
    minutes: 10,
    steps: 1,
    overrides,
    ...quiet,
  });
  assert.equal(a.train.step, 1);
  assert.ok(readWav(a.wav).samples.length > 0);
  assert.ok(existsSync(a.png) && existsSync(join(out, 'samples', 'step-000001.png')));
  const text = quickstartSummary(a, out);
  assert.match(text, /1 of 1 training steps/);
  assert.match(text, /blurry but speech-shaped/);
  const b = await runQuickstart({
    corpus,
    recipePath: join(repoRoot, 'recipes', 'tiny.json'),
    out,
    minutes: 10,
    steps: 2,
    overrides,
    ...quiet,
  });
  assert.equal(b.train.step, 2);
  assert.deepEqual(
    readMetrics(join(out, 'metrics.jsonl')).map((m) => m.step),
    [1, 2],
  );
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).resumedFromStep, 1);
  assert.deepEqual(
    listCheckpoints(out).map((c) => c.step),
    [1, 2],
  );
});

test('quickstart: with a pretrained voice installed it also speaks the sentence with it, and says so', async () => {
  const out = join(root, 'qs-voice');
  const quiet = { progress: false, log: () => {} };
  const first = await runQuickstart({
    corpus,
    recipePath: join(repoRoot, 'recipes', 'tiny.json'),
    out,
    minutes: 10,
    steps: 1,
    overrides,
    ...quiet,
  });
  assert.equal(first.pretrained, null, 'no voice at that path: nothing extra');
  const voice = join(root, 'voice');
  exportWeights(first.train.runDir, voice);
  const r = await runQuickstart({
    corpus,
    recipePath: join(repoRoot, 'recipes', 'tiny.json'),
    out,
    minutes: 10,
    steps: 2,
    overrides,
    pretrained: voice,
    ...quiet,
  });
  assert.ok(r.pretrained);
  assert.equal(r.pretrained.wav, join(out, 'quickstart-pretrained.wav'));
  assert.ok(readWav(r.pretrained.wav).samples.length > 0);
  assert.ok(existsSync(join(out, 'quickstart-pretrained.png')));
  assert.equal(r.pretrained.step, 1);
  assert.match(quickstartSummary(r, out), /pretrained: +.*quickstart-pretrained\.wav/);
});
