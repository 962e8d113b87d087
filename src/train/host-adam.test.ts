/**
 * HostAdam against tfjs's Adam: the same bits on the cpu and wasm backends, step for step, with
 * clipping and a changing learning rate; its state round-trips through tfjs's (checkpoints); and
 * a host-mode Trainer (the worker pool's) equals the tfjs-mode one, moving average included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { Rng } from '../util/rng.js';
import { assignData, concatData, splitData } from '../util/tensor.js';
import { TfAdam } from './optimizer.js';
import { HostAdam } from './host-adam.js';
import { Trainer } from './loop.js';
import type { Trainable } from '../trainable/trainable.js';

const SHAPES = [[3, 4], [5], [2, 2, 3]];

/** Fresh named variables with values from `seed`, and the same values as one flat buffer. */
function vars(seed: number, tag: string): { map: Map<string, tf.Variable>; flat: Float32Array } {
  const rng = new Rng(seed);
  const map = new Map<string, tf.Variable>();
  SHAPES.forEach((shape, i) =>
    map.set(`w${i}`, tf.variable(tf.tensor(rng.normals(shape.reduce((a, b) => a * b, 1)), shape), true, `${tag}-w${i}-${seed}`)),
  );
  return { map, flat: flatOf(map) };
}

const flatOf = (map: Map<string, tf.Variable>): Float32Array => concatData(map.values());

/** Gradients of step k: magnitudes from 1e-4 to 10, so the moments span many exponents. */
function gradsAt(k: number, size: number): Float32Array {
  const r = new Rng(100 + k);
  return r.normals(size).map((x, i) => x * 10 ** ((i % 6) - 4));
}

/** tfjs's Adam step on `map` from flat gradient `g`, each multiplied by `scale` as Trainer does. */
function applyTf(opt: tf.Optimizer, map: Map<string, tf.Variable>, g: Float32Array, scale = 1): void {
  const vs = [...map.values()];
  tf.tidy(() => opt.applyGradients(splitData(g, vs).map((t, i) => ({ name: vs[i]!.name, tensor: scale === 1 ? t : tf.mul(t, scale) }))));
}

const slots = () => SHAPES.map((shape, i) => ({ name: `w${i}`, shape, size: shape.reduce((a, b) => a * b, 1) }));

for (const backend of ['cpu', 'wasm'] as const) {
  test(`HostAdam gives tfjs Adam's bits on ${backend} (8 steps, clip scales, lr schedule)`, async () => {
    await initBackend(backend);
    const ref = vars(1, `adam-${backend}`);
    const tfa = new TfAdam(1e-2);
    const opt = tfa.adam;
    const host = new HostAdam(slots(), 1e-2);
    const w = ref.flat.slice();
    for (let k = 0; k < 8; k++) {
      const lr = 1e-2 * (1 - k / 10);
      const scale = k % 3 === 1 ? 0.37 : 1;
      (opt as unknown as { learningRate: number }).learningRate = lr;
      host.learningRate = lr;
      const g = gradsAt(k, w.length);
      applyTf(opt, ref.map, g, scale);
      host.applyFlat(w, g, scale);
      assert.deepEqual(w, flatOf(ref.map), `weights after step ${k + 1}`);
    }
    const a = await tfa.snapshot();
    const b = await host.snapshot();
    assert.equal(b.iterations, a.iterations);
    assert.equal(b.accBeta1, a.accBeta1);
    assert.equal(b.accBeta2, a.accBeta2);
    assert.deepEqual(
      b.tensors.map((t) => t.data),
      a.tensors.map((t) => t.data),
    );
    assert.deepEqual(
      b.tensors.map((t) => t.shape),
      a.tensors.map((t) => t.shape),
    );
    opt.dispose();
    for (const v of ref.map.values()) v.dispose();
  });
}

test('HostAdam state round-trips through tfjs Adam both ways: the next step is the same', async () => {
  await initBackend('wasm');
  const ref = vars(2, 'rt');
  const host = new HostAdam(slots(), 3e-3);
  const w = ref.flat.slice();
  for (let k = 0; k < 3; k++) host.applyFlat(w, gradsAt(k, w.length));
  // host → tfjs: continue both one step
  const tfa = new TfAdam(3e-3);
  const opt = tfa.adam;
  assignData([...ref.map.values()], w);
  await tfa.restore(await host.snapshot());
  const g = gradsAt(9, w.length);
  applyTf(opt, ref.map, g);
  host.applyFlat(w, g);
  assert.deepEqual(w, flatOf(ref.map));
  // tfjs → a fresh host: the same again
  const fresh = new HostAdam(slots(), 3e-3);
  await fresh.restore(await tfa.snapshot());
  const w2 = w.slice();
  const g2 = gradsAt(10, w.length);
  fresh.applyFlat(w2, g2);
  host.applyFlat(w, g2);
  assert.deepEqual(w2, w);
  assert.throws(() => fresh.applyFlat(new Float32Array(3), g2), /buffers of 3 and/);
  opt.dispose();
  for (const v of ref.map.values()) v.dispose();
});

test('a host-mode Trainer (flat gradients) equals a tfjs-mode one, moving average and state included', async () => {
  await initBackend('wasm');
  const make = (tag: string): Trainable<null> => ({
    variables: vars(3, tag).map,
    losses: () => ({ total: tf.scalar(0) }),
    lossNorm: () => ({}),
    itemCount: () => 1,
  });
  const ma = make('tfmode');
  const mb = make('hostmode');
  const o = { lr: 1e-2, gradClip: 0, maxBadSteps: 3, ema: 0.9 };
  const ta = new Trainer(ma, o);
  const tb = new Trainer(mb, { ...o, host: true });
  const size = flatOf(ma.variables).length;
  for (let k = 0; k < 5; k++) {
    const g = gradsAt(k, size);
    const ra = await ta.update(g, { total: 1 });
    const rb = await tb.update(g, { total: 1 });
    assert.ok(Math.abs(ra.gradNorm - rb.gradNorm) <= 1e-6 * ra.gradNorm, `norm ${ra.gradNorm} vs ${rb.gradNorm}`);
  }
  assert.deepEqual(flatOf(mb.variables), flatOf(ma.variables));
  assert.deepEqual(flatOf(tb.ema!.shadow), flatOf(ta.ema!.shadow));
  const [sa, sb] = [await ta.optimizer.snapshot(), await tb.optimizer.snapshot()];
  assert.deepEqual(
    sb.tensors.map((t) => t.data),
    sa.tensors.map((t) => t.data),
  );
  // a non-finite gradient skips the step in host mode too
  const before = flatOf(mb.variables);
  const bad = gradsAt(7, size);
  bad[2] = NaN;
  assert.equal((await tb.update(bad, { total: 1 })).ok, false);
  assert.deepEqual(flatOf(mb.variables), before);
  const n0 = tf.memory().numTensors;
  await tb.update(gradsAt(8, size), { total: 1 });
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked by a host-mode update');
  ta.dispose();
  tb.dispose();
  for (const m of [ma, mb]) for (const v of m.variables.values()) v.dispose();
});
