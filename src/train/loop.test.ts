import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { ItemDraws, Rng } from '../util/rng.js';
import { Trainer, TrainingStopped, DIVERGE_MIN_HISTORY } from './loop.js';
import { DataOrder } from '../trainable/trainable.js';
import { TOY_CONFIG, ToyModel, toyBatch, toyData, type ToyBatch } from './toy.js';

const opts = { lr: 0.05, gradClip: 0, maxBadSteps: 3 };

function setup(o: Partial<typeof opts & { divergeFactor: number }> = {}) {
  const model = ToyModel.create(TOY_CONFIG, 7);
  const trainer = new Trainer<ToyBatch>(model, { ...opts, ...o });
  const data = toyData(TOY_CONFIG, 7);
  const order = DataOrder.create(TOY_CONFIG.items, 8, 7);
  const rng = new Rng(11);
  return { model, trainer, data, order, rng, next: () => toyBatch(data, order.next()) };
}

function weights(model: ToyModel): Float32Array[] {
  return [...model.variables.values()].map((v) => v.dataSync().slice() as Float32Array);
}

test('loop: training lowers the toy loss by over 10×', async () => {
  const { model, trainer, next, rng } = setup();
  const first = (await trainer.step(next(), rng)).terms.total!;
  let last = first;
  for (let i = 0; i < 150; i++) last = (await trainer.step(next(), rng)).terms.total!;
  assert.ok(last < first / 10, `loss ${first} → ${last}`);
  trainer.dispose();
  model.dispose();
});

test('loop: the reported gradient norm equals the closed-form least-squares gradient norm', async () => {
  const { model, trainer, next, rng } = setup();
  const batch = next();
  // the step draws one seed; item k's noise comes from its own stream (ItemDraws)
  const draws = new ItemDraws(Rng.fromState(rng.state()).nextU32());
  const noise = batch.y.map((_, k) => draws.rng(k).normal() * 0.01);
  const [w, b] = weights(model);
  const d = TOY_CONFIG.dim;
  const n = batch.y.length;
  // loss = mean((x·w + b − y − ε)²) → ∂w = 2/n Σ r x, ∂b = 2/n Σ r
  const gw = new Float64Array(d);
  let gb = 0;
  for (let i = 0; i < n; i++) {
    let r = b![0]! - batch.y[i]! - noise[i]!;
    for (let j = 0; j < d; j++) r += batch.x[i * d + j]! * w![j]!;
    for (let j = 0; j < d; j++) gw[j]! += (2 / n) * r * batch.x[i * d + j]!;
    gb += (2 / n) * r;
  }
  const expected = Math.sqrt(gw.reduce((s, v) => s + v * v, 0) + gb * gb);
  const res = await trainer.step(batch, rng);
  assert.ok(Math.abs(res.gradNorm - expected) < 1e-4 * expected, `${res.gradNorm} vs ${expected}`);
  trainer.dispose();
  model.dispose();
});

test('loop: clipping bounds the update direction (clip to 1e-6 vs none differ after the 2nd step)', async () => {
  // Adam's first step is scale-invariant, so compare after two steps with different gradient norms.
  const run = async (gradClip: number) => {
    const s = setup({ gradClip });
    await s.trainer.step(s.next(), s.rng);
    await s.trainer.step(s.next(), s.rng);
    const w = weights(s.model);
    s.trainer.dispose();
    s.model.dispose();
    return w;
  };
  const a = await run(0);
  const b = await run(1e6); // never triggers: must equal no clipping exactly
  const c = await run(1e-6);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('loop: a NaN loss skips the step: weights and Adam state unchanged, counted, then recovered', async () => {
  const { model, trainer, next, rng } = setup();
  await trainer.step(next(), rng);
  const before = weights(model);
  const itBefore = (await trainer.optimizer.snapshot()).iterations;
  const res = await trainer.step({ ...next(), poison: true }, rng);
  assert.equal(res.ok, false);
  assert.ok(Number.isNaN(res.terms.total));
  assert.deepEqual(weights(model), before);
  assert.equal((await trainer.optimizer.snapshot()).iterations, itBefore);
  assert.deepEqual([trainer.loop.badSteps, trainer.loop.badInRow], [1, 1]);
  assert.equal((await trainer.step(next(), rng)).ok, true);
  assert.deepEqual([trainer.loop.badSteps, trainer.loop.badInRow], [1, 0]);
  trainer.dispose();
  model.dispose();
});

test('loop: maxBadSteps non-finite steps in a row stop training with a clear message', async () => {
  const { model, trainer, next, rng } = setup({ maxBadSteps: 3 });
  await trainer.step(next(), rng);
  await trainer.step({ ...next(), poison: true }, rng);
  await trainer.step({ ...next(), poison: true }, rng);
  await assert.rejects(
    () => trainer.step({ ...next(), poison: true }, rng),
    (e: unknown) => e instanceof TrainingStopped && /3 steps in a row had a non-finite loss/.test(e.message) && e.exitCode === 3,
  );
  trainer.dispose();
  model.dispose();
});

test('loop: a loss far above the running median stops training (divergeFactor)', async () => {
  const { model, trainer, next, rng } = setup({ divergeFactor: 10 });
  for (let i = 0; i < DIVERGE_MIN_HISTORY + 5; i++) await trainer.step(next(), rng);
  const before = weights(model);
  const b = next();
  const blown = { ...b, y: b.y.map((v) => v * 1e4) };
  await assert.rejects(
    () => trainer.step(blown, rng),
    (e: unknown) => e instanceof TrainingStopped && /loss diverged/.test(e.message),
  );
  assert.deepEqual(weights(model), before, 'a diverging step must not be applied');
  trainer.dispose();
  model.dispose();
});

test('loop: live tensor count after N steps equals the count after 1 step', async () => {
  const { model, trainer, next, rng } = setup();
  await trainer.step(next(), rng);
  const after1 = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) await trainer.step(next(), rng);
  await trainer.step({ ...next(), poison: true }, rng);
  await trainer.step(next(), rng);
  assert.equal(tf.memory().numTensors, after1);
  trainer.dispose();
  model.dispose();
});

test('data order: seeded, every item once per epoch, and resumable from its state', async () => {
  const a = DataOrder.create(10, 3, 5);
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) seen.push(...a.next());
  assert.deepEqual([...seen].sort((x, y) => x - y).length, 9);
  assert.equal(new Set(seen).size, 9);
  const s = a.state();
  const b = DataOrder.fromState(10, 3, JSON.parse(JSON.stringify(s)));
  for (let i = 0; i < 7; i++) assert.deepEqual(b.next(), a.next());
  assert.notDeepEqual(DataOrder.create(10, 3, 6).next(), DataOrder.create(10, 3, 5).next());
});

test('loop: gradient accumulation over two half-batches matches one full batch (to float rounding)', async () => {
  const a = setup({ gradClip: 1 });
  const b = setup({ gradClip: 1 });
  for (let i = 0; i < 5; i++) {
    const idx = a.order.next();
    b.order.next();
    const full = toyBatch(a.data, idx);
    const ra = await a.trainer.step(full, a.rng);
    const rb = await b.trainer.stepMicro([toyBatch(b.data, idx.slice(0, 4)), toyBatch(b.data, idx.slice(4))], b.rng);
    assert.ok(Math.abs(ra.terms.total! - rb.terms.total!) < 1e-5 * Math.max(1, ra.terms.total!), `${ra.terms.total} vs ${rb.terms.total}`);
    assert.ok(Math.abs(ra.gradNorm - rb.gradNorm) < 1e-4 * ra.gradNorm);
  }
  const wa = weights(a.model);
  const wb = weights(b.model);
  wa.forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - wb[i]![j]!) < 1e-5, `${v} vs ${wb[i]![j]}`)));
  const before = tf.memory().numTensors;
  await b.trainer.stepMicro([toyBatch(b.data, [0, 1]), toyBatch(b.data, [2, 3]), toyBatch(b.data, [4])], b.rng);
  assert.equal(tf.memory().numTensors, before, 'accumulation leaks nothing');
  for (const s of [a, b]) {
    s.trainer.dispose();
    s.model.dispose();
  }
});
