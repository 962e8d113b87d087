/**
 * With the fast kernels registered on wasm, tfjs's OWN ops and gradients (tf.conv2d, tf.conv1d,
 * tf.conv2dTranspose under tf.grads) equal the cpu backend's.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { fastWasmKernelsInstalled, registerFastWasmKernels, unregisterFastWasmKernels } from './register.js';

before(async () => {
  await tf.setBackend('wasm');
});

const rng = new Rng(99);
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** value and grads of ⟨fn(x, w), r⟩ on `backend`, as arrays. */
async function run(
  backend: string,
  fn: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor,
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
  r: Float32Array,
): Promise<Float32Array[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const xt = tf.tensor(x, xs),
        wt = tf.tensor(w, ws);
      const y = fn(xt, wt);
      const rt = tf.tensor(r, y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a, b), rt)))([xt, wt]);
      return [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    await tf.setBackend(prev);
  }
}

function close(got: Float32Array[], want: Float32Array[], what: string): void {
  ['y', 'dx', 'dw'].forEach((n, k) => {
    const g = got[k]!,
      w = want[k]!;
    assert.equal(g.length, w.length, `${what} ${n} length`);
    let worst = 0,
      scale = 1;
    for (let i = 0; i < g.length; i++) {
      worst = Math.max(worst, Math.abs(g[i]! - w[i]!));
      scale = Math.max(scale, Math.abs(w[i]!));
    }
    assert.ok(worst <= 1e-4 * scale, `${what} ${n}: max error ${worst}`);
  });
}

const cases: { name: string; xs: number[]; ws: number[]; ys: number[]; fn: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor }[] = [
  {
    name: 'tf.conv2d 3×3 s1 same',
    xs: [2, 6, 7, 3],
    ws: [3, 3, 3, 4],
    ys: [2, 6, 7, 4],
    fn: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
  },
  {
    name: 'tf.conv2d 3×3 s2 pad 1',
    xs: [2, 8, 6, 2],
    ws: [3, 3, 2, 3],
    ys: [2, 4, 3, 3],
    fn: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 1),
  },
  {
    name: 'tf.conv2dTranspose 4×4 s2 same',
    xs: [3, 3, 4, 2],
    ws: [4, 4, 3, 2],
    ys: [3, 6, 8, 3],
    fn: (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [3, 6, 8, 3], 2, 'same'),
  },
  {
    name: 'tf.conv1d k5 same (encoder convs)',
    xs: [2, 11, 4],
    ws: [5, 4, 3],
    ys: [2, 11, 3],
    fn: (x, w) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, 1, 'same'),
  },
];

for (const c of cases) {
  test(`registered kernels: ${c.name} and its tf.grads equal the cpu backend`, async () => {
    registerFastWasmKernels();
    assert.ok(fastWasmKernelsInstalled());
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'wasm now has Conv2DBackpropFilter');
    const x = rng.normals(size(c.xs)),
      w = rng.normals(size(c.ws)),
      r = rng.normals(size(c.ys));
    const want = await run('cpu', c.fn, x, c.xs, w, c.ws, r);
    const got = await assertNoLeak(() => run('wasm', c.fn, x, c.xs, w, c.ws, r), c.name);
    close(got, want, c.name);
  });
}

test('unregister restores tfjs: no Conv2DBackpropFilter on wasm, original Conv2DBackpropInput still correct', async () => {
  registerFastWasmKernels();
  unregisterFastWasmKernels();
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  const xs = [1, 4, 4, 2],
    ws = [3, 3, 3, 2];
  const x = rng.normals(size(xs)),
    w = rng.normals(size(ws));
  const f = (t: tf.Tensor) =>
    tf.conv2dTranspose(t as tf.Tensor4D, tf.tensor4d(w, ws as [number, number, number, number]), [1, 4, 4, 3], 1, 'same');
  const on = async (b: string) => {
    await tf.setBackend(b);
    return tf.tidy(() => f(tf.tensor(x, xs)).dataSync() as Float32Array);
  };
  const want = await on('cpu'),
    got = await on('wasm');
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4);
});

test('registering before the wasm backend is initialised still works (original setup kept)', async () => {
  const { spawnSync } = await import('node:child_process');
  // A fresh process: register first, then initialise wasm, then run a transposed matMul and a conv grad.
  const code = `
    import * as tf from '@tensorflow/tfjs';
    import '@tensorflow/tfjs-backend-wasm';
    const { registerFastWasmKernels } = await import(${JSON.stringify(new URL('./register.js', import.meta.url).href)});
    registerFastWasmKernels();
    await tf.setBackend('wasm');
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const m = tf.matMul(a, a, true, false).dataSync();
    const g = tf.grad((x) => tf.sum(tf.conv2d(x, tf.ones([3, 3, 1, 1]), 1, 'same')))(tf.ones([1, 4, 4, 1])).dataSync();
    console.log(JSON.stringify([Array.from(m), Array.from(g)]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: process.cwd() });
  assert.equal(r.status, 0, r.stderr);
  const [m, g] = JSON.parse(r.stdout.trim().split('\n').pop()!) as [number[], number[]];
  assert.deepEqual(m, [35, 44, 44, 56]); // aᵀa
  // d/dx of sum(conv 3×3 of ones, 'same') = number of output windows covering each pixel
  assert.deepEqual(g, [4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4]);
});

test('Identity shares data on wasm: a clone outlives its source, values intact, nothing leaks', async () => {
  registerFastWasmKernels();
  try {
    await assertNoLeak(async () => {
      const x = tf.tensor1d([1, 2, 3, 4, 5]);
      const y = tf.clone(x);
      x.dispose();
      assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5]);
      const z = tf.add(y, 1);
      y.dispose();
      assert.deepEqual(Array.from(z.dataSync()), [2, 3, 4, 5, 6]);
      z.dispose();
    });
    // a variable assigned from a clone keeps its value when the clone's source goes away
    const v = tf.variable(tf.zeros([3]));
    const src = tf.tensor1d([7, 8, 9]);
    const c = tf.clone(src);
    v.assign(c);
    c.dispose();
    src.dispose();
    assert.deepEqual(Array.from(v.dataSync()), [7, 8, 9]);
    v.dispose();
  } finally {
    unregisterFastWasmKernels();
  }
});

test('Sum over leading axes (bias gradients) equals the cpu backend; other reductions fall back', async () => {
  const x = rng.normals(3 * 5 * 7 * 8);
  const cases: [number[], number | number[], boolean][] = [
    [[3, 5, 7, 8], [0, 1, 2], false], // conv bias gradient
    [[3, 5, 7, 8], [2, 0, 1], true], // unsorted, keepDims
    [[3 * 5 * 7, 8], 0, false], // linear bias gradient
    [[3 * 5, 7 * 8], [-2], false], // negative axis; 56 columns
    [[3, 5, 7, 8], [1, 2], false], // not leading: tfjs's own
    [[(3 * 5 * 7 * 8) / 6, 6], 0, false], // 6 columns (not a multiple of 4): tfjs's own
  ];
  for (const [shape, axis, keep] of cases) {
    const f = () =>
      tf.tidy(() => {
        const y = tf.sum(tf.tensor(x, shape), axis, keep);
        return { data: y.dataSync() as Float32Array, shape: y.shape };
      });
    const want = await runOn('cpu', f);
    registerFastWasmKernels();
    try {
      const got = await assertNoLeak(() => runOn('wasm', f));
      assert.deepEqual(got.shape, want.shape, `${shape} ${axis}`);
      for (let i = 0; i < want.data.length; i++)
        assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-4, `${shape} ${axis} [${i}]: ${got.data[i]} vs ${want.data[i]}`);
    } finally {
      unregisterFastWasmKernels();
    }
  }
});

async function runOn<T>(backend: string, f: () => T): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend(prev);
  }
}

test('without WebAssembly SIMD nothing is registered (tfjs keeps its own kernels)', () => {
  unregisterFastWasmKernels();
  const validate = WebAssembly.validate;
  WebAssembly.validate = () => false;
  try {
    assert.equal(registerFastWasmKernels(), false);
    assert.equal(fastWasmKernelsInstalled(), false);
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  } finally {
    WebAssembly.validate = validate;
  }
  assert.equal(registerFastWasmKernels(), true);
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  unregisterFastWasmKernels();
});
