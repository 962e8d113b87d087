/**
 * GradTTS on the webgpu backend (Dawn) against cpu: the loss and the gradient of every weight, a
 * few training steps without tensor or GPU-buffer growth, and synthesis. Runs on any adapter —
 * on CI that is Mesa's lavapipe (software Vulkan, installed by .ci/run) — and is skipped, with
 * the reason, where Dawn finds none. Sizes are minuscule: lavapipe compiles every shader on the
 * CPU (Mesa caches them on disk, so later runs are much faster).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend/index.js';
import { makeCorpus } from '../testing/corpora.js';
import { readMetrics } from '../train/metrics.js';
import { runTraining } from '../train/run.js';
import { synthesizeToFiles } from '../synthesis/batch.js';
import { readWav } from '../audio/wav.js';
import { assertGradsClose } from '../testing/tensors.js';
import { gpuBufferStats, probeAdapter } from '../backend/webgpu.js';
import { parseLossConfig } from '../loss/index.js';
import { Trainer } from '../train/loop.js';
import { gradTTSTrainable } from '../train/gradtts-task.js';
import { Rng } from '../util/rng.js';
import { GradTTS, type Batch } from './gradtts.js';
import { TEST_CFG } from '../testing/model-config.js';

const probe = await probeAdapter();
const skip = 'reason' in probe ? `no WebGPU adapter: ${probe.reason}` : false;
const L2 = parseLossConfig({ type: 'l2' }, 'test');
const N_SYMBOLS = 12;

/** Per-token mel patterns (+ noise), tokens held 2–4 frames: a batch MAS has something to align. */
function makeBatch(seed: number): Batch {
  const rng = new Rng(seed);
  const f = TEST_CFG.nFeats;
  const pattern = Array.from({ length: N_SYMBOLS }, () => rng.normals(f));
  const batch: Batch = { ids: [], mels: [] };
  for (const n of [4, 5]) {
    const ids = Int32Array.from({ length: n }, () => 1 + rng.int(N_SYMBOLS - 1));
    const cols: Float32Array[] = [];
    for (const id of ids) for (let k = 0, d = 2 + rng.int(3); k < d; k++) cols.push(pattern[id]!);
    const data = new Float32Array(f * cols.length);
    for (let r = 0; r < f; r++) for (let j = 0; j < cols.length; j++) data[r * cols.length + j] = cols[j]![r]! - 4 + 0.1 * rng.normal();
    batch.ids.push(ids);
    batch.mels.push({ data, nMels: f, frames: cols.length });
  }
  return batch;
}

function freshModel(): GradTTS {
  const m = GradTTS.create(TEST_CFG, N_SYMBOLS, 8);
  tf.tidy(() => {
    for (const [name, v] of m.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.5)); // open the ReZero gates
  });
  return m;
}

/** Loss and every weight's gradient (dropout on). On webgpu the alignment is read first, as the trainer does. */
async function lossAndGrads(batch: Batch): Promise<{ total: number; grads: Map<string, Float32Array> }> {
  const model = freshModel();
  const b = tf.getBackend() === 'webgpu' ? { ...batch, paths: await model.alignments(batch, new Rng(2), true) } : batch;
  const { value, grads } = tf.variableGrads(() => model.losses(b, L2, new Rng(2), true).total);
  const out = { total: (await value.data())[0]!, grads: new Map<string, Float32Array>() };
  for (const [name, v] of model.variables) {
    const g = grads[v.name];
    if (g) out.grads.set(name, (await g.data()) as Float32Array);
  }
  tf.dispose([value, grads]);
  model.dispose();
  return out;
}

async function onCpu<T>(fn: () => Promise<T>): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    await tf.setBackend('webgpu');
  }
}

test('alignments() returns the MAS paths losses() finds itself: with them the terms are identical (cpu)', async () => {
  await tf.setBackend('cpu');
  const model = freshModel();
  const batch = makeBatch(4);
  const terms = (b: Batch) => {
    const t = model.losses(b, L2, new Rng(6), true);
    const v = Object.fromEntries(Object.entries(t).map(([k, x]) => [k, (x as tf.Scalar).dataSync()[0]!]));
    tf.dispose(Object.values(t));
    return v;
  };
  const before = tf.memory().numTensors;
  const paths = await model.alignments(batch, new Rng(6), true);
  assert.equal(tf.memory().numTensors, before, 'alignments() leaked tensors');
  assert.deepEqual(
    paths.map((p) => p.length),
    batch.mels.map((m) => m.frames),
  );
  assert.deepEqual(terms({ ...batch, paths }), terms(batch));
  // and the paths are what is used: every frame on token 0 but the last changes the duration and prior terms
  const crude = paths.map((p) => Int32Array.from(p, (_v, j) => (j === p.length - 1 ? batch.ids[0]!.length - 1 : 0)));
  assert.notEqual(terms({ ...batch, paths: crude }).prior, terms(batch).prior);
  model.dispose();
});

test('webgpu: the loss and the gradient of every weight equal cpu’s (max |Δ| ≤ 2e-3 × max |g| + 1e-6 per weight)', { skip }, async () => {
  await initBackend('webgpu');
  const batch = makeBatch(8);
  const ref = await onCpu(() => lossAndGrads(batch));
  const got = await lossAndGrads(batch);
  assert.ok(Math.abs(got.total - ref.total) < 1e-3 * Math.abs(ref.total), `total ${got.total} vs ${ref.total}`);
  assert.ok(ref.grads.size > 100, `${ref.grads.size} gradients`);
  const worst = assertGradsClose(got.grads, ref.grads, 2e-3);
  // the gradient that differs most, for the record when the tolerance is revisited
  process.stdout.write(`# webgpu vs cpu: worst relative gradient difference ${worst.rel.toExponential(2)} (${worst.name})\n`);
});

test('webgpu: tf.addN of more tensors than a shader may bind (the gradient norm’s sum) is right, and frees its partial sums', {
  skip,
}, async () => {
  await initBackend('webgpu');
  const xs = Array.from({ length: 23 }, (_v, i) => tf.fill([3, 5], i + 1));
  const sum = async () => {
    const s = tf.addN(xs);
    const v = Array.from(await s.data());
    s.dispose();
    return v;
  };
  assert.deepEqual(await sum(), new Array(15).fill((23 * 24) / 2));
  const before = tf.memory().numTensors;
  const gpu = gpuBufferStats().bytesInTensors; // once the inputs are on the GPU
  await sum();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(gpuBufferStats().bytesInTensors, gpu, 'partial sums freed');
  tf.dispose(xs);
});

test('webgpu: training steps leave the tensor count and the GPU buffer pool unchanged', { skip }, async () => {
  await initBackend('webgpu');
  const model = freshModel();
  const trainer = new Trainer<Batch>(gradTTSTrainable(model, L2, 0), { lr: 1e-3, gradClip: 1, maxBadSteps: 1 });
  const batch = makeBatch(3);
  const rng = new Rng(5);
  const first = await trainer.step(batch, rng);
  assert.ok(first.ok && first.gradNorm > 0, JSON.stringify(first));
  // the first step's staging and uniform buffers return to the pool at the next submit: count from step 2
  assert.ok((await trainer.step(batch, rng)).ok);
  const tensors = tf.memory().numTensors;
  const gpu = gpuBufferStats();
  assert.ok(gpu.bytesInTensors > 0 && gpu.buffers > 0, JSON.stringify(gpu));
  assert.ok((await trainer.step(batch, rng)).ok);
  assert.equal(tf.memory().numTensors, tensors, 'tensors after 3 steps vs after 2');
  assert.deepEqual(gpuBufferStats(), gpu, 'GPU bytes in tensors, bytes allocated, pooled buffers after 3 steps vs after 2');
  trainer.dispose();
  model.dispose();
});

test('webgpu: synthesis gives cpu’s mel (deterministic sampler, same noise) and leaks nothing', { skip }, async () => {
  await initBackend('webgpu');
  const ids = Int32Array.from([1, 5, 2, 7, 3]);
  const opts = { steps: 3, temperature: 1.5, lengthScale: 1, stochastic: false };
  const synth = async () => {
    const m = freshModel();
    try {
      return await m.synthesize(ids, { ...opts, rng: new Rng(1) });
    } finally {
      m.dispose();
    }
  };
  const ref = await onCpu(synth);
  const before = tf.memory().numTensors;
  const got = await synth();
  assert.equal(tf.memory().numTensors, before, 'synthesis leaked tensors');
  assert.equal(got.frames, ref.frames);
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ref.data.length; i++) {
    scale = Math.max(scale, Math.abs(ref.data[i]!));
    diff = Math.max(diff, Math.abs(ref.data[i]! - got.data[i]!));
  }
  assert.ok(diff <= 1e-3 * scale, `mel differs by ${diff} (scale ${scale})`);
});

test('webgpu: a difftts training run (micro GradTTS): run.json names the adapter, finite logged terms, a sample image, synthesis to WAV', {
  skip,
}, async () => {
  const choice = await initBackend('webgpu');
  const root = mkdtempSync(join(tmpdir(), 'difftts-webgpu-'));
  const recipePath = join(root, 'micro.json');
  writeFileSync(
    recipePath,
    JSON.stringify({
      model: {
        base: 'tiny',
        encoder: { channels: 8, filterChannels: 16, layers: 1, heads: 2, prenetLayers: 1 },
        durationPredictor: { channels: 8 },
        decoder: { dim: 4, groups: 2 },
        segmentFrames: 16,
      },
      loss: { type: 'l2' },
      data: { textMode: 'characters', addBlank: true },
      train: { steps: 2, batchSize: 2, lr: 0.001, checkpointEvery: 2, keepCheckpoints: 1, logEvery: 1, pngEvery: 2, seed: 3 },
      synth: { steps: 2, temperature: 1.5, lengthScale: 1 },
    }),
  );
  const out = join(root, 'run');
  const before = tf.memory().numTensors;
  await runTraining({
    recipePath,
    dataPath: makeCorpus(4, { texts: ['One two.', 'Three.', 'Four five.', 'Six.'] }),
    outDir: out,
    backend: choice,
    progress: false,
    log: () => {},
  });
  assert.equal(tf.memory().numTensors, before, 'the run left tensors behind');
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.backend.name, 'webgpu');
  assert.deepEqual(run.backend.adapter, 'adapter' in probe ? probe.adapter : null);
  const m = readMetrics(join(out, 'metrics.jsonl'));
  assert.deepEqual(
    m.map((l) => l.step),
    [1, 2],
  );
  for (const l of m) assert.ok(Number.isFinite(l.total) && (l.gradNorm as number) > 0, JSON.stringify(l));
  assert.ok(
    readFileSync(join(out, 'samples', 'step-000002.png'))
      .subarray(1, 4)
      .equals(Buffer.from('PNG')),
  );
  const [w] = await synthesizeToFiles({ checkpoint: out, texts: ['Two.'], out: join(root, 'say.wav'), iters: 2 });
  assert.ok(readWav(w!.wav).samples.length > 0 && w!.frames > 0);
});
