import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { registerFastWasmKernels, unregisterFastWasmKernels } from '../kernels/register.js';
import { assertNoLeak } from '../testing/tensors.js';
import { Rng } from '../util/rng.js';
import { conv1d, conv2d, conv2dTranspose, embedding, forceReplacementGrads, usesReplacementGrads, type Pad } from './ops.js';

before(async () => {
  await initBackend('wasm');
});
after(() => forceReplacementGrads(null));

function rand(shape: number[], seed: number): Float32Array {
  return new Rng(seed).normals(shape.reduce((a, b) => a * b, 1));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * Value and gradients (w.r.t. x and w) of Σ y·g for a fixed random g, so every output element
 * gets a distinct upstream gradient.
 */
function valueAndGrads(
  f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
): { y: Float32Array; dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const xt = tf.tensor(x, xs);
    const wt = tf.tensor(w, ws);
    const y = f(xt, wt);
    const g = tf.tensor(rand(y.shape, 99), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), g)))([xt, wt]);
    return { y: y.dataSync() as Float32Array, dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

interface Case {
  name: string;
  xs: number[];
  ws: number[];
  f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
  /** The same computation with tfjs's own ops, the reference on the cpu backend. */
  ref: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;
}

const c2 = (s: number | [number, number], p: Pad) => (x: tf.Tensor, w: tf.Tensor) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p);
const CASES: Case[] = [
  {
    name: 'conv2d 3×3 stride 1 same',
    xs: [2, 6, 7, 3],
    ws: [3, 3, 3, 4],
    f: c2(1, 'same'),
    ref: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  },
  {
    name: 'conv2d 3×3 stride 2 explicit pad 1',
    xs: [2, 8, 6, 2],
    ws: [3, 3, 2, 3],
    f: c2(2, [1, 1, 1, 1]),
    ref: (x, w) =>
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
  },
  {
    name: 'conv2d 3×3 stride 2 valid, odd size (unused last row)',
    xs: [1, 8, 7, 2],
    ws: [3, 3, 2, 2],
    f: c2(2, 'valid'),
    ref: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid'),
  },
  {
    name: 'conv2d 2×4 stride [1,2] same',
    xs: [2, 5, 9, 3],
    ws: [2, 4, 3, 2],
    f: c2([1, 2], 'same'),
    ref: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, [1, 2], 'same'),
  },
  {
    name: 'conv2d 1×1',
    xs: [2, 4, 5, 3],
    ws: [1, 1, 3, 5],
    f: c2(1, 'same'),
    ref: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  },
  {
    name: 'conv1d k5 same',
    xs: [2, 11, 4],
    ws: [5, 4, 3],
    f: (x, w) => conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 1, 'same'),
    ref: (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 1, 'same'),
  },
  {
    name: 'conv1d k3 valid',
    xs: [1, 9, 3],
    ws: [3, 3, 2],
    f: (x, w) => conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 1, 'valid'),
    ref: (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 1, 'valid'),
  },
  {
    name: 'conv2dTranspose 4×4 stride 2 pad 1 (U-Net upsample)',
    xs: [2, 3, 4, 3],
    ws: [4, 4, 2, 3],
    f: (x, w) => conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, 6, 8, 2, [1, 1, 1, 1]),
    ref: (x, w) => tf.slice(tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 8, 10, 2], 2, 'valid'), [0, 1, 1, 0], [2, 6, 8, 2]),
  },
  {
    name: 'conv2dTranspose 3×3 stride 2 same',
    xs: [1, 4, 3, 2],
    ws: [3, 3, 3, 2],
    f: (x, w) => conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, 8, 6, 2, 'same'),
    ref: (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [1, 8, 6, 3], 2, 'same'),
  },
];

test('the replacement is used only where the backend lacks Conv2DBackpropFilter: bare wasm, not wasm after initBackend (src/kernels registered) nor cpu', async () => {
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(usesReplacementGrads(), false, 'initBackend registered the wasm kernel');
  unregisterFastWasmKernels();
  try {
    assert.equal(usesReplacementGrads(), true, 'bare tfjs-backend-wasm lacks the kernel');
  } finally {
    registerFastWasmKernels();
  }
  await tf.setBackend('cpu');
  assert.equal(usesReplacementGrads(), false);
  await tf.setBackend('wasm');
});

for (const c of CASES) {
  test(`${c.name}: replacement value and gradients on wasm and on cpu equal cpu's own`, async () => {
    const x = rand(c.xs, 1);
    const w = rand(c.ws, 2);
    await tf.setBackend('cpu');
    forceReplacementGrads(null);
    const ref = valueAndGrads(c.ref, x, c.xs, w, c.ws);
    const tol = (a: Float32Array) => 1e-4 * Math.max(1, maxAbs(a));
    try {
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        forceReplacementGrads(true);
        const got = await assertNoLeak(() => valueAndGrads(c.f, x, c.xs, w, c.ws), `${c.name} on ${backend}`);
        assert.ok(maxAbsDiff(got.y, ref.y) <= tol(ref.y), `${backend} value differs by ${maxAbsDiff(got.y, ref.y)}`);
        assert.ok(maxAbsDiff(got.dx, ref.dx) <= tol(ref.dx), `${backend} dx differs by ${maxAbsDiff(got.dx, ref.dx)}`);
        assert.ok(maxAbsDiff(got.dw, ref.dw) <= tol(ref.dw), `${backend} dw differs by ${maxAbsDiff(got.dw, ref.dw)}`);
      }
      // the wrapper without forcing (cpu's own kernels) agrees too, explicit padding included
      await tf.setBackend('cpu');
      forceReplacementGrads(false);
      const own = valueAndGrads(c.f, x, c.xs, w, c.ws);
      assert.ok(maxAbsDiff(own.y, ref.y) <= tol(ref.y) && maxAbsDiff(own.dw, ref.dw) <= tol(ref.dw));
    } finally {
      forceReplacementGrads(null);
      await tf.setBackend('wasm');
    }
  });
}

test('conv2d weight gradient matches central finite differences (float64 in JS)', async () => {
  // f(w) = Σ conv2d(x, w)·g with stride 2 'same': linear in w, so the difference quotient is exact up to rounding
  const xs = [1, 5, 6, 2];
  const ws = [3, 3, 2, 2];
  const x = rand(xs, 3);
  const w = rand(ws, 4);
  const f = (wv: Float32Array) =>
    tf.tidy(() => {
      const y = conv2d(
        tf.tensor4d(x, xs as [number, number, number, number]),
        tf.tensor4d(wv, ws as [number, number, number, number]),
        2,
        'same',
      );
      return tf.sum(tf.mul(y, tf.tensor(rand(y.shape, 99), y.shape))).dataSync()[0]!;
    });
  const { dw } = valueAndGrads(c2(2, 'same'), x, xs, w, ws);
  const eps = 0.05;
  for (const i of [0, 7, 17, 35]) {
    const wp = Float32Array.from(w);
    const wm = Float32Array.from(w);
    wp[i]! += eps;
    wm[i]! -= eps;
    const fd = (f(wp) - f(wm)) / (2 * eps);
    assert.ok(Math.abs(fd - dw[i]!) < 2e-3 * Math.max(1, Math.abs(fd)), `dw[${i}] ${dw[i]} vs finite difference ${fd}`);
  }
});

test('embedding: one-hot lookup and its gradient equal gather (cpu) — repeated ids accumulate', async () => {
  const ids = [
    [3, 1, 3, 0],
    [2, 2, 2, 4],
  ];
  const table = rand([5, 3], 5);
  const run = (forced: boolean | null) =>
    tf.tidy(() => {
      forceReplacementGrads(forced);
      const idt = tf.tensor2d(ids, [2, 4], 'int32');
      const tt = tf.tensor2d(table, [5, 3]);
      const g = tf.tensor(rand([2, 4, 3], 6), [2, 4, 3]);
      const y = embedding(idt, tt);
      const dt = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embedding(idt, t as tf.Tensor2D), g)))(tt);
      return { y: y.dataSync(), dt: dt.dataSync() };
    });
  try {
    await tf.setBackend('cpu');
    const ref = run(false);
    await tf.setBackend('wasm');
    const got = await assertNoLeak(() => run(null), 'embedding on wasm');
    assert.ok(maxAbsDiff(got.y, ref.y) < 1e-5, `value differs by ${maxAbsDiff(got.y, ref.y)}`);
    assert.ok(maxAbsDiff(got.dt, ref.dt) < 1e-5);
    // row 2 is used three times: its gradient is the sum of three upstream rows
    const g = rand([2, 4, 3], 6);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(got.dt[2 * 3 + c]! - (g[12 + c]! + g[15 + c]! + g[18 + c]!)) < 1e-5);
  } finally {
    forceReplacementGrads(null);
    await tf.setBackend('wasm');
  }
});
