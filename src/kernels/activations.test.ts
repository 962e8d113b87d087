/** Fused Mish / masked GroupNorm against autodiff of their textbook formulas on the cpu backend. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { groupNorm, mish } from './activations.js';
import { registerPointwiseKernels, unregisterPointwiseKernels } from './pointwise.js';

before(async () => {
  await tf.setBackend('wasm');
});

const rng = new Rng(77);

/** Runs f on 'cpu', 'wasm' (tfjs ops) or 'wasm+kernels' (pointwise.ts's SIMD kernels registered). */
async function on<T>(backend: string, f: () => T): Promise<T> {
  const prev = tf.getBackend();
  const kernels = backend === 'wasm+kernels';
  await tf.setBackend(kernels ? 'wasm' : backend);
  if (kernels) registerPointwiseKernels();
  try {
    return f();
  } finally {
    if (kernels) unregisterPointwiseKernels();
    await tf.setBackend(prev);
  }
}

const BACKENDS = ['cpu', 'wasm', 'wasm+kernels'];

function close(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol * Math.max(1, Math.abs(want[i]!)), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

test('mish: value and gradient equal x·tanh(softplus(x)) autodiff, including large |x|', async () => {
  // 213 values: the SIMD kernel's last partial vector goes through its scalar tail
  const xs = Float32Array.from([...rng.normals(200).map((v) => v * 4), -100, -60, -30, -5, 0, 5, 19, 21, 30, 60, 95, 1e-3, -1e-3]);
  const ref = (x: tf.Tensor) => tf.mul(x, tf.tanh(tf.softplus(x)));
  const vg = (f: (x: tf.Tensor) => tf.Tensor) => () =>
    tf.tidy(() => {
      const x = tf.tensor1d(xs);
      const r = tf.tensor1d(xs.map((_, i) => Math.cos(i)));
      const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(f(t), r)))(x);
      return [f(x).dataSync() as Float32Array, grad.dataSync() as Float32Array, value.dataSync()[0]!] as const;
    });
  const want = await on('cpu', vg(ref));
  for (const be of BACKENDS) {
    const got = await assertNoLeak(() => on(be, vg(mish)), `mish on ${be}`);
    close(got[0], want[0], 1e-5, `${be} mish`);
    close(got[1], want[1], 1e-5, `${be} mish'`);
  }
  // closed forms: Mish(0) = 0, Mish'(0) = tanh(ln 2) = 0.6
  const at0 = tf.tidy(
    () =>
      tf
        .grad((t: tf.Tensor) => mish(t))(tf.scalar(0))
        .dataSync()[0]!,
  );
  assert.ok(Math.abs(at0 - 0.6) < 1e-6);
});

/** The textbook masked GroupNorm (as src/model/layers.ts), differentiated by tfjs. */
function refGroupNorm(x: tf.Tensor4D, mask: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, groups: number, eps = 1e-5): tf.Tensor4D {
  const [bs, h, w, c] = x.shape;
  const cg = c / groups;
  const x5 = tf.reshape(x, [bs, h, w, groups, cg]);
  const m5 = tf.reshape(mask, [bs, 1, w, 1, 1]);
  const n = tf.mul(tf.sum(m5, [1, 2, 3, 4], true), h * cg);
  const mean = tf.div(tf.sum(tf.mul(x5, m5), [1, 2, 4], true), n);
  const v = tf.div(tf.sum(tf.mul(tf.square(tf.sub(x5, mean)), m5), [1, 2, 4], true), n);
  const y = tf.reshape(tf.div(tf.sub(x5, mean), tf.sqrt(tf.add(v, eps))), [bs, h, w, c]);
  return tf.add(tf.mul(y, g), b) as tf.Tensor4D;
}

for (const [name, shape, groups, lens] of [
  ['B2 H5 W7 C8 G4, second sample half masked', [2, 5, 7, 8], 4, [7, 3]],
  ['B3 H3 W6 C6 G2', [3, 3, 6, 6], 2, [6, 6, 1]],
  ['B1 H4 W5 C16 G8 (no padding)', [1, 4, 5, 16], 8, [5]],
  ['B2 H6 W9 C32 G8 (U-Net width), padded', [2, 6, 9, 32], 8, [9, 4]],
] as const) {
  test(`groupNorm ${name}: value and grads (x, γ, β) equal autodiff of the textbook formula`, async () => {
    const [bs, h, w, c] = shape;
    const xd = rng.normals(bs * h * w * c).map((v, i) => v * 2 + (i % 3));
    const gd = rng.normals(c),
      bd = rng.normals(c),
      rd = rng.normals(bs * h * w * c);
    const md = new Float32Array(bs * w);
    lens.forEach((l, s) => md.fill(1, s * w, s * w + l));
    const run = (f: typeof groupNorm) => () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xd, [bs, h, w, c]),
          m = tf.tensor4d(md, [bs, 1, w, 1]);
        const g = tf.tensor1d(gd),
          b = tf.tensor1d(bd),
          r = tf.tensor4d(rd, [bs, h, w, c]);
        const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(f(a as tf.Tensor4D, m, gg as tf.Tensor1D, bb as tf.Tensor1D, groups), r)),
        )([x, g, b]);
        return [f(x, m, g, b, groups), ...grads].map((t) => t.dataSync() as Float32Array);
      });
    const want = await on('cpu', run(refGroupNorm));
    for (const be of BACKENDS) {
      const got = await assertNoLeak(() => on(be, run(groupNorm)), `groupNorm on ${be}`);
      ['y', 'dx', 'dγ', 'dβ'].forEach((n, i) => close(got[i]!, want[i]!, 2e-4, `${be} ${name} ${n}`));
    }
  });
}
