import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { Rng } from '../util/rng.js';
import { dropout, groupNorm, layerNorm, mish, type Ctx } from './layers.js';
import { ParamStore } from './params.js';

before(async () => {
  await initBackend('wasm');
});

function ctxOf(seed = 1, training = false, rng: Rng | null = null, len = 1000): Ctx {
  return { ps: new ParamStore(seed), training, rng: rng ? { rngs: [rng], lens: [len] } : null };
}

test('Mish value and gradient on wasm equal the closed form', async () => {
  const xs = [-6, -2, -0.5, 0, 0.3, 1, 4, 12];
  const { y, g } = await assertNoLeak(() =>
    tf.tidy(() => {
      const x = tf.tensor1d(xs);
      return {
        y: mish(x).dataSync(),
        g: tf
          .grad((v: tf.Tensor) => tf.sum(mish(v)))(x)
          .dataSync(),
      };
    }),
  );
  xs.forEach((x, i) => {
    const sp = Math.log1p(Math.exp(x));
    const th = Math.tanh(sp);
    const dy = th + (x * (1 - th * th)) / (1 + Math.exp(-x));
    assert.ok(Math.abs(y[i]! - x * th) < 1e-5, `mish(${x})`);
    assert.ok(Math.abs(g[i]! - dy) < 1e-4, `mish'(${x}) = ${g[i]} vs ${dy}`);
  });
});

test('masked GroupNorm: valid cells of each group have mean 0, variance 1; padded frames do not matter', async () => {
  const [b, h, w, c, groups] = [2, 4, 6, 4, 2];
  const rng = new Rng(5);
  const x = rng.normals(b * h * w * c).map((v, i) => v * 3 + (i % 7));
  const maskData = new Float32Array(b * w);
  maskData.fill(1, 0, 6); // sample 0: all 6 frames
  maskData.fill(1, 6, 10); // sample 1: 4 frames
  const ctx = ctxOf();
  const run = (data: Float32Array) =>
    tf.tidy(() => groupNorm(ctx, 'gn', tf.tensor4d(data, [b, h, w, c]), tf.tensor4d(maskData, [b, 1, w, 1]), groups).dataSync());
  run(x); // creates the gain/bias variables
  const y = await assertNoLeak(() => run(x), 'groupNorm');
  for (let s = 0; s < b; s++) {
    const frames = s === 0 ? 6 : 4;
    for (let g = 0; g < groups; g++) {
      const vals: number[] = [];
      for (let i = 0; i < h; i++)
        for (let j = 0; j < frames; j++) for (let k = g * 2; k < g * 2 + 2; k++) vals.push(y[((s * h + i) * w + j) * c + k]!);
      const m = vals.reduce((p, q) => p + q, 0) / vals.length;
      const v = vals.reduce((p, q) => p + (q - m) ** 2, 0) / vals.length;
      assert.ok(Math.abs(m) < 1e-4 && Math.abs(v - 1) < 1e-3, `sample ${s} group ${g}: mean ${m}, var ${v}`);
    }
  }
  // change sample 1's padded frames: its valid outputs stay the same
  const x2 = Float32Array.from(x);
  for (let i = 0; i < h; i++) for (let j = 4; j < w; j++) for (let k = 0; k < c; k++) x2[((1 * h + i) * w + j) * c + k] = 100;
  const y2 = run(x2);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < 4; j++)
      for (let k = 0; k < c; k++) {
        const idx = ((1 * h + i) * w + j) * c + k;
        assert.ok(Math.abs(y2[idx]! - y[idx]!) < 1e-5);
      }
  ctx.ps.dispose();
});

test('GroupNorm and LayerNorm gradients on wasm equal cpu', async () => {
  const shape: [number, number, number, number] = [2, 4, 5, 4];
  const x = new Rng(6).normals(2 * 4 * 5 * 4);
  const g = new Rng(7).normals(x.length);
  const mask = new Float32Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  const grads = () =>
    tf.tidy(() => {
      const ctx = ctxOf();
      const f = (v: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.add(groupNorm(ctx, 'gn', v as tf.Tensor4D, tf.tensor4d(mask, [2, 1, 5, 1]), 2), layerNorm(ctx, 'ln', v)),
            tf.tensor(g, shape),
          ),
        );
      const out = tf.grad(f)(tf.tensor4d(x, shape)).dataSync();
      ctx.ps.dispose();
      return out;
    });
  const onWasm = grads();
  await tf.setBackend('cpu');
  const onCpu = grads();
  await tf.setBackend('wasm');
  let d = 0;
  for (let i = 0; i < onCpu.length; i++) d = Math.max(d, Math.abs(onCpu[i]! - onWasm[i]!));
  assert.ok(d < 1e-4, `max difference ${d}`);
});

test('dropout: reproducible from the Rng, inverted scaling, identity when not training', () => {
  const x = tf.ones([1, 1000]);
  const a = dropout(ctxOf(1, true, new Rng(9)), x, 0.2).dataSync();
  const b = dropout(ctxOf(1, true, new Rng(9)), x, 0.2).dataSync();
  assert.deepEqual(a, b);
  const zeros = Array.from(a).filter((v) => v === 0).length;
  assert.ok(zeros > 150 && zeros < 250, `${zeros} dropped of 1000 at p = 0.2`);
  assert.ok(Array.from(a).every((v) => v === 0 || Math.abs(v - 1.25) < 1e-6));
  assert.equal(dropout(ctxOf(1, false, new Rng(9)), x, 0.2), x);
  x.dispose();
});

test('dropout: each item draws from its own stream over its valid positions only (shard- and padding-invariant)', () => {
  tf.tidy(() => {
    const ps = new ParamStore(1);
    const streams = () => [new Rng(1), new Rng(2)];
    // batch of two items [2, T=6, C=3], valid lengths 4 and 6
    const both = dropout(
      { ps, training: true, rng: { rngs: streams(), lens: [4, 6] } },
      tf.ones([2, 6, 3]),
      0.5,
    ).arraySync() as number[][][];
    // item 1 alone, unpadded; item 0 alone, padded to 5
    const alone1 = dropout(
      { ps, training: true, rng: { rngs: [streams()[1]!], lens: [6] } },
      tf.ones([1, 6, 3]),
      0.5,
    ).arraySync() as number[][][];
    const alone0 = dropout(
      { ps, training: true, rng: { rngs: [streams()[0]!], lens: [4] } },
      tf.ones([1, 5, 3]),
      0.5,
    ).arraySync() as number[][][];
    assert.deepEqual(both[1], alone1[0]);
    assert.deepEqual(both[0]!.slice(0, 4), alone0[0]!.slice(0, 4));
    assert.deepEqual(
      both[0]!.slice(4),
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      'padding is zeroed',
    );
    assert.notDeepEqual(both[0]!.slice(0, 4), both[1]!.slice(0, 4));
  });
});
