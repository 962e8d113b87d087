/** The wasm BatchMatMul replacement against the cpu backend's matMul: every transpose flag, batches, broadcasts. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { registerFastMatMul, unregisterFastMatMul } from './matmul.js';

before(async () => {
  await tf.setBackend('wasm');
  registerFastMatMul();
});

const rng = new Rng(5);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

async function on(backend: string, f: () => tf.Tensor): Promise<{ data: Float32Array; shape: number[] }> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const y = f();
      return { data: y.dataSync() as Float32Array, shape: y.shape };
    });
  } finally {
    await tf.setBackend(prev);
  }
}

const shapes: { name: string; a: number[]; b: number[] }[] = [
  { name: '2-D 33×17 · 17×9', a: [33, 17], b: [17, 9] },
  { name: 'batch 3', a: [3, 5, 7], b: [3, 7, 4] },
  { name: 'batch 2×2 (rank 4)', a: [2, 2, 6, 5], b: [2, 2, 5, 3] },
  { name: 'right operand broadcast over batch', a: [4, 6, 5], b: [5, 7] },
  { name: 'left operand broadcast over batch', a: [6, 5], b: [3, 5, 2] },
  { name: 'tall skinny (gradient shapes)', a: [300, 8], b: [8, 40] },
];

for (const s of shapes) {
  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    test(`matMul ${s.name}, transposeA=${tA} transposeB=${tB} equals cpu`, async () => {
      const sa = tA ? [...s.a.slice(0, -2), s.a[s.a.length - 1]!, s.a[s.a.length - 2]!] : s.a;
      const sb = tB ? [...s.b.slice(0, -2), s.b[s.b.length - 1]!, s.b[s.b.length - 2]!] : s.b;
      const a = rng.normals(size(sa)),
        b = rng.normals(size(sb));
      const f = () => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), tA, tB);
      const want = await on('cpu', f);
      const got = await assertNoLeak(() => on('wasm', f));
      assert.deepEqual(got.shape, want.shape);
      for (let i = 0; i < want.data.length; i++)
        assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-4, `${i}: ${got.data[i]} vs ${want.data[i]}`);
    });
  }
}

test('gradients of a batched attention-like product equal cpu', async () => {
  const q = rng.normals(2 * 9 * 4),
    k = rng.normals(2 * 9 * 4),
    v = rng.normals(2 * 9 * 4);
  const f = () => {
    const [tq, tk, tv] = [q, k, v].map((d) => tf.tensor3d(d, [2, 9, 4]));
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.sin(tf.matMul(a, tf.matMul(b, c, true, false)))))([
      tq!,
      tk!,
      tv!,
    ]);
    return tf.concat(grads.map((g) => tf.reshape(g, [-1])));
  };
  const want = await on('cpu', f);
  const got = await on('wasm', f);
  for (let i = 0; i < want.data.length; i++) assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-4);
});

test('unregister restores the original kernel (still correct)', async () => {
  unregisterFastMatMul();
  const a = rng.normals(12),
    b = rng.normals(12);
  const f = () => tf.matMul(tf.tensor2d(a, [4, 3]), tf.tensor2d(b, [4, 3]), true, false);
  const want = await on('cpu', f),
    got = await on('wasm', f);
  for (let i = 0; i < want.data.length; i++) assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-4);
  registerFastMatMul();
});

test('Aᵀ·B with a long inner dimension (cut into L2-sized blocks) equals cpu', async () => {
  const k = 3000,
    m = 5,
    n = 300; // kBlock(300) = 131072 / 304 = 431 → 7 blocks, the last one short
  const a = rng.normals(k * m),
    b = rng.normals(k * n);
  const f = () => tf.matMul(tf.tensor2d(a, [k, m]), tf.tensor2d(b, [k, n]), true, false);
  const want = await on('cpu', f);
  const got = await assertNoLeak(() => on('wasm', f));
  assert.deepEqual(got.shape, [m, n]);
  for (let i = 0; i < want.data.length; i++)
    assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-3, `${i}: ${got.data[i]} vs ${want.data[i]}`);
});

test('A·B with a long inner dimension, batched, odd m, n not a multiple of 16, equals cpu', async () => {
  const b = 2,
    m = 7,
    k = 5000,
    n = 100; // kBlock(100) = 1170 → 5 blocks per batch entry
  const a = rng.normals(b * m * k),
    bb = rng.normals(b * k * n);
  const f = () => tf.matMul(tf.tensor3d(a, [b, m, k]), tf.tensor3d(bb, [b, k, n]));
  const want = await on('cpu', f);
  const got = await assertNoLeak(() => on('wasm', f));
  assert.deepEqual(got.shape, [b, m, n]);
  for (let i = 0; i < want.data.length; i++)
    assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-3, `${i}: ${got.data[i]} vs ${want.data[i]}`);
});
