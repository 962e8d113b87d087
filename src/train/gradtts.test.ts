/**
 * The real GradTTS through the training run and synthesis, at minuscule sizes on a synthetic
 * 6-utterance corpus: resume equals an uninterrupted run, a checkpoint synthesizes to a WAV of the
 * right length, and a checkpoint of another config is refused.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWav, writeWav } from '../audio/wav.js';
import { DEFAULT_MEL } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { initBackend } from '../backend/index.js';
import { readNpy } from '../util/npy.js';
import { Rng } from '../util/rng.js';
import { exportWeights, readCheckpoint } from './checkpoint.js';
import { assertNoLeak } from '../testing/tensors.js';
import { MICRO_MODEL } from '../testing/recipes.js';
import { readMetrics } from './metrics.js';
import { runTraining, type TrainRunOptions } from './run.js';
import { loadModel } from '../synthesis/model.js';
import { synthesizeToFiles } from '../synthesis/batch.js';
import { textToIds } from '../text/index.js';

before(async () => {
  await initBackend('wasm');
});

const root = mkdtempSync(join(tmpdir(), 'difftts-gradtts-'));

function makeCorpus(): string {
  const dir = join(root, 'corpus');
  mkdirSync(join(dir, 'wavs'), { recursive: true });
  const texts = ['One two.', 'Three four.', 'Five six.', 'Seven.', 'Eight nine.', 'Ten.', 'Hello.', 'Yes no.'];
  const rng = new Rng(1);
  texts.forEach((_t, i) => {
    const n = Math.round(0.55 * 22050);
    const x = new Float32Array(n);
    const hz = 150 + 40 * i;
    for (let k = 0; k < n; k++) x[k] = 0.4 * Math.sin((2 * Math.PI * hz * k) / 22050) + 0.01 * rng.normal();
    writeWav(join(dir, 'wavs', `u${i}.wav`), x, 22050);
  });
  writeFileSync(join(dir, 'metadata.csv'), texts.map((t, i) => `u${i}|${t}|${t}`).join('\n') + '\n');
  return dir;
}

const corpus = makeCorpus();
const micro = MICRO_MODEL;
const recipePath = join(root, 'micro.json');
writeFileSync(
  recipePath,
  JSON.stringify({
    model: micro,
    loss: { type: 'pseudo-huber', schedule: 'exponential', c: 0.1 },
    data: { textMode: 'characters', addBlank: true },
    train: { steps: 4, batchSize: 2, lr: 0.001, checkpointEvery: 2, keepCheckpoints: 2, logEvery: 1, pngEvery: 2, seed: 9 },
    synth: { steps: 2, temperature: 1.5, lengthScale: 1 },
  }),
);
const quiet: Partial<TrainRunOptions> = { progress: false, log: () => {} };
const strip = (run: string) => readMetrics(join(run, 'metrics.jsonl')).map(({ sPerStep: _t, ...m }) => JSON.stringify(m));

test('gradtts run: resume after 2 steps equals 4 uninterrupted steps bitwise; terms are logged', async () => {
  const full = join(root, 'full');
  const a = await assertNoLeak(() => runTraining({ ...quiet, recipePath, dataPath: corpus, outDir: full }), 'GradTTS training run');
  const part = join(root, 'part');
  await runTraining({ ...quiet, recipePath, dataPath: corpus, outDir: part, steps: 2 });
  const b = await runTraining({ ...quiet, recipePath, dataPath: corpus, outDir: part, resume: true });
  assert.deepEqual(readCheckpoint(b.checkpoint).weights, readCheckpoint(a.checkpoint).weights);
  assert.deepEqual(strip(part), strip(full));
  const m = readMetrics(join(full, 'metrics.jsonl'));
  assert.deepEqual(
    m.map((l) => l.step),
    [1, 2, 3, 4],
  );
  for (const k of ['total', 'duration', 'prior', 'diffusion', 'deltaMean', 'gradNorm']) assert.ok(Number.isFinite(m[0]![k] as number), k);
  assert.ok((m[0]!.deltaMean as number) > 0 && (m[0]!.deltaMean as number) < 1, 'pseudo-Huber δ with an exponential schedule');
  const png = readFileSync(join(full, 'samples', 'step-000004.png'));
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
});

test('gradtts synthesize: a checkpoint speaks a sentence to WAV/npy/png of consistent lengths', async () => {
  const run = join(root, 'full');
  const out = join(root, 'say.wav');
  const [w] = await synthesizeToFiles({
    checkpoint: run,
    texts: ['Hello two.'],
    out,
    melOut: join(root, 'say.npy'),
    png: join(root, 'say.png'),
    iters: 4,
  });
  const audio = readWav(out);
  const mel = readNpy(join(root, 'say.npy'));
  assert.equal(mel.shape[0], 80);
  assert.equal(mel.shape[1], w!.frames);
  assert.equal(audio.sampleRate, DEFAULT_MEL.sampleRate);
  assert.equal(audio.samples.length, w!.frames * DEFAULT_MEL.hop);
  assert.ok(audio.samples.some((v) => v !== 0));
  // numbered outputs for several sentences, same seed → same audio as the single call for sentence 1
  const many = await synthesizeToFiles({
    checkpoint: run,
    texts: ['Hello two.', 'Ten.'],
    out: join(root, 'many.wav'),
    many: true,
    iters: 4,
  });
  assert.deepEqual(
    many.map((f) => f.wav),
    [join(root, 'many-001.wav'), join(root, 'many-002.wav')],
  );
  assert.deepEqual(readWav(many[0]!.wav).samples, audio.samples);
  // the same sentences over 2 workers (src/parallel/map-pool.ts): the same files, in order
  const par = await synthesizeToFiles({
    checkpoint: run,
    texts: ['Hello two.', 'Ten.', 'Yes.'],
    out: join(root, 'par.wav'),
    many: true,
    iters: 4,
    workers: 2,
  });
  assert.deepEqual(
    par.map((f) => f.wav),
    [1, 2, 3].map((i) => join(root, `par-00${i}.wav`)),
  );
  many.forEach((f, i) => assert.deepEqual(readWav(par[i]!.wav).samples, readWav(f.wav).samples, f.text));
  // steps 0: the encoder's prior alone, exactly the model's prior mel
  const lm0 = loadModel(run);
  const zero = await synthesizeToFiles({
    checkpoint: run,
    texts: ['Hello two.'],
    out: join(root, 'zero.wav'),
    melOut: join(root, 'zero.npy'),
    steps: 0,
    iters: 4,
    loaded: lm0,
  });
  const prior = await lm0.model.prior(textToIds('Hello two.', lm0.textConfig).ids, 1);
  assert.equal(zero[0]!.frames, prior.frames);
  assert.deepEqual(readNpy(join(root, 'zero.npy')).data, prior.data);
  lm0.model.dispose();
  // a line with nothing to speak: skipped in a batch with a notice (before any worker starts), an error alone
  const notices: string[] = [];
  const some = await synthesizeToFiles({
    checkpoint: run,
    texts: ['Ten.', '☃☃'],
    out: join(root, 'bad.wav'),
    many: true,
    iters: 4,
    workers: 2,
    notice: (m) => notices.push(m),
  });
  assert.deepEqual(
    some.map((f) => f.index),
    [1],
  );
  assert.deepEqual(notices, ['text "☃☃": nothing to speak after cleaning (no character has a symbol: ☃) — skipped']);
  await assert.rejects(
    synthesizeToFiles({ checkpoint: run, texts: ['☃☃'], out: join(root, 'bad.wav'), iters: 4 }),
    (e: unknown) => e instanceof UserError && e.message === 'text "☃☃": nothing to speak after cleaning (no character has a symbol: ☃)',
  );
});

test('gradtts flow decoder, decoder only: --init from a score run, encoder and duration predictor frozen; the checkpoint, export and synthesis carry the objective', async () => {
  const flow = join(root, 'flow.json');
  writeFileSync(
    flow,
    JSON.stringify({
      model: { ...micro, decoder: { ...micro.decoder, objective: 'flow' } },
      loss: { type: 'pseudo-huber', schedule: 'exponential', c: 0.1 },
      data: { textMode: 'characters', addBlank: true },
      train: {
        steps: 2,
        batchSize: 2,
        lr: 0.01,
        checkpointEvery: 2,
        logEvery: 1,
        pngEvery: 0,
        seed: 9,
        workers: 1,
        freeze: ['encoder', 'durationPredictor'],
      },
      synth: { steps: 3 },
    }),
  );
  const src = readCheckpoint(join(root, 'full', 'checkpoints', 'step-000004'));
  const r = await runTraining({ ...quiet, recipePath: flow, dataPath: corpus, outDir: join(root, 'flow'), init: join(root, 'full') });
  const ck = readCheckpoint(r.checkpoint);
  assert.equal((ck.meta.model.config as { decoder: { objective?: string } }).decoder.objective, 'flow');
  let moved = 0;
  for (const [name, w] of ck.weights) {
    if (name.startsWith('encoder.') || name.startsWith('dp.')) assert.deepEqual(w.data, src.weights.get(name)!.data, `${name} is frozen`);
    else if (w.data.some((x, i) => x !== src.weights.get(name)!.data[i])) moved++;
  }
  assert.ok(moved > 10, `${moved} decoder weights changed`);
  const voice = join(root, 'flow-voice');
  exportWeights(r.runDir, voice);
  const lm = loadModel(voice);
  assert.equal(lm.model.cfg.decoder.objective, 'flow');
  const [w] = await synthesizeToFiles({ checkpoint: voice, texts: ['Hello two.'], out: join(root, 'flow.wav'), iters: 4, loaded: lm });
  assert.ok(w!.frames > 0);
  lm.model.dispose();
  // train.initParts: the encoder and duration predictor come from --init, the decoder starts fresh (as without --init)
  const parts = join(root, 'flow-parts.json');
  writeFileSync(
    parts,
    JSON.stringify({
      ...JSON.parse(readFileSync(flow, 'utf8')),
      train: {
        steps: 1,
        batchSize: 2,
        lr: 1e-12,
        checkpointEvery: 1,
        logEvery: 1,
        pngEvery: 0,
        seed: 9,
        workers: 1,
        freeze: ['encoder', 'durationPredictor'],
        initParts: ['encoder', 'durationPredictor'],
      },
    }),
  );
  const said: string[] = [];
  const withParts = readCheckpoint(
    (
      await runTraining({
        ...quiet,
        log: (m) => said.push(m),
        recipePath: parts,
        dataPath: corpus,
        outDir: join(root, 'flow-parts'),
        init: join(root, 'full'),
      })
    ).checkpoint,
  );
  const fresh = readCheckpoint(
    (await runTraining({ ...quiet, recipePath: parts, dataPath: corpus, outDir: join(root, 'flow-fresh') })).checkpoint,
  );
  assert.ok(
    said.some((l) =>
      /^partial --init from .*: \d+ of \d+ tensors loaded; \d+ freshly initialised: decoder\..* \(not in train\.initParts\)/.test(l),
    ),
    said.join('\n'),
  );
  for (const [name, w] of withParts.weights) {
    const want = (name.startsWith('decoder.') ? fresh.weights : src.weights).get(name)!.data;
    w.data.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-6, `${name}[${i}]: ${x} vs ${want[i]}`));
  }
  // a score config stores no objective (runs from before it resume); a bad one is one line
  assert.equal((src.meta.model.config as { decoder: { objective?: string } }).decoder.objective, undefined);
  writeFileSync(
    join(root, 'bad-objective.json'),
    JSON.stringify({ model: { ...micro, decoder: { objective: 'ddim' } }, data: { textMode: 'characters' } }),
  );
  await assert.rejects(
    runTraining({ ...quiet, recipePath: join(root, 'bad-objective.json'), dataPath: corpus, outDir: join(root, 'bad-objective') }),
    (e: unknown) =>
      e instanceof UserError &&
      /bad-objective\.json: model: decoder\.objective is "ddim" \(expected one of "score", "flow"\)$/.test(e.message),
  );
});

test('gradtts evaluate: 2 workers score the same utterances to the same numbers, in order', async () => {
  const { evaluateRun } = await import('../eval/evaluate-run.js');
  const base = {
    checkpoint: join(root, 'full'),
    refs: corpus,
    split: 'train' as const,
    steps: 2,
    seed: 3,
    max: 3,
    iters: 4,
    wer: false,
    progress: false,
  };
  const one = await evaluateRun({ ...base, out: join(root, 'eval1') });
  const two = await evaluateRun({ ...base, out: join(root, 'eval2'), features: join(root, 'eval1', 'ref-features'), workers: 2 });
  assert.equal(one.n, 3);
  assert.deepEqual(two.utterances, one.utterances);
  assert.deepEqual(two.aggregate, one.aggregate);
});

test('gradtts load: damaged or foreign checkpoints are one-line UserErrors naming the file', async () => {
  const lm = loadModel(join(root, 'full'));
  assert.equal((lm.checkpoint.meta.model.config as { decoder: { dim: number } }).decoder.dim, 4);
  lm.model.dispose();
  assert.throws(
    () => loadModel(join(root, 'nowhere')),
    (e: unknown) => e instanceof UserError && /nowhere: no such run/.test(e.message),
  );
  const ck = readCheckpoint(join(root, 'full', 'checkpoints', 'step-000004'));
  assert.equal(ck.meta.nSymbols !== null && ck.meta.nSymbols > 10, true);
  writeFileSync(join(root, 'full', 'checkpoints', 'step-000004', 'weights.bin'), 'x');
  assert.throws(
    () => loadModel(join(root, 'full', 'checkpoints', 'step-000004')),
    (e: unknown) => e instanceof UserError && /step-000004\/weights\.bin: 1 bytes, expected \d+ \(truncated\)/.test(e.message),
  );
});

test('gradtts step: live tensor count after N steps equals the count after 1 step', async () => {
  const { GradTTS, MODEL_CONFIGS } = await import('../model/index.js');
  const { parseLossConfig } = await import('../loss/index.js');
  const { Trainer } = await import('./loop.js');
  const { gradTTSTrainable } = await import('./gradtts-task.js');
  const { mergeChecked } = await import('./recipe.js');
  const tf = await import('@tensorflow/tfjs');
  const { base: _b, ...over } = micro;
  const cfg = mergeChecked(MODEL_CONFIGS.tiny, over, 'micro');
  const model = GradTTS.create(cfg, 20, 1);
  const loss = parseLossConfig({ type: 'l2' }, 'test');
  const trainer = new Trainer(gradTTSTrainable(model, loss, 0), { lr: 1e-3, gradClip: 1, maxBadSteps: 3 });
  const rng = new Rng(5);
  const batch = () => ({
    ids: [Int32Array.from([1, 2, 3, 4]), Int32Array.from([5, 6, 7])],
    mels: [20, 28].map((frames) => ({ data: rng.normals(80 * frames), nMels: 80, frames })),
  });
  await trainer.step(batch(), rng);
  const after1 = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await trainer.step(batch(), rng);
  assert.equal(tf.memory().numTensors, after1);
  trainer.dispose();
  model.dispose();
});
