/**
 * The wasm-fast conv kernels (registered on wasm, as initBackend does) against tfjs's own kernels on
 * the cpu backend (which has every gradient): forward values and both gradients of a random linear
 * functional ⟨y, r⟩ of tf.conv2d / tf.conv2dTranspose, over odd sizes, batch > 1, stride 1 and 2,
 * and every padding form the model uses.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { convGeometry, type ConvPad } from './conv.js';
import { registerFastWasmKernels } from './register.js';

/** tfjs's spelling of a ConvPad (explicit [t, b, l, r] → [[0,0],[t,b],[l,r],[0,0]]). */
function tfPad(p: ConvPad): 'same' {
  return (
    Array.isArray(p)
      ? [
          [0, 0],
          [p[0], p[1]],
          [p[2], p[3]],
          [0, 0],
        ]
      : p
  ) as 'same';
}

before(async () => {
  await tf.setBackend('wasm');
  registerFastWasmKernels();
});

type Arr = { data: Float32Array; shape: number[] };
const rng = new Rng(1234);
const rand = (shape: number[]): Arr => ({ data: rng.normals(shape.reduce((a, b) => a * b, 1)), shape });

/** Runs fn on `backend` with fresh tensors of the given arrays; returns [y, dx, dw] as arrays. */
async function valueAndGrads(
  backend: string,
  fn: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D,
  x: Arr,
  w: Arr,
  r: Arr,
): Promise<Float32Array[]> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const xt = tf.tensor4d(x.data, x.shape as [number, number, number, number]);
      const wt = tf.tensor4d(w.data, w.shape as [number, number, number, number]);
      const rt = tf.tensor(r.data, r.shape);
      const y = fn(xt, wt);
      assert.deepEqual(y.shape, r.shape, 'output shape');
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(fn(a as tf.Tensor4D, b as tf.Tensor4D), rt)))([xt, wt]);
      return [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    await tf.setBackend(prev);
  }
}

function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let worst = 0,
    at = -1;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  // float32 sums of up to a few hundred products: relative to the largest entry.
  assert.ok(worst <= 1e-4 * Math.max(1, scale), `${what}: max |error| ${worst} at ${at} (scale ${scale})`);
}

const convCases: { name: string; x: number[]; k: number; cout: number; stride: 1 | 2; pad: ConvPad }[] = [
  { name: '3×3 s1 same, odd sizes', x: [2, 7, 9, 3], k: 3, cout: 5, stride: 1, pad: 'same' },
  { name: '3×3 s1 pad 1 (torch padding=1)', x: [3, 6, 5, 4], k: 3, cout: 2, stride: 1, pad: 1 },
  { name: '3×3 s1 valid', x: [2, 8, 7, 3], k: 3, cout: 4, stride: 1, pad: 'valid' },
  {
    name: '3×3 s1 same, 20 → 37 channels (two full 16-column panels + a partial one)',
    x: [2, 5, 11, 20],
    k: 3,
    cout: 37,
    stride: 1,
    pad: 'same',
  },
  { name: '3×3 s2 pad 1 (Grad-TTS Downsample), even', x: [2, 8, 10, 4], k: 3, cout: 4, stride: 2, pad: 1 },
  { name: '3×3 s2 pad 1, odd', x: [2, 7, 9, 3], k: 3, cout: 5, stride: 2, pad: 1 },
  { name: '3×3 s2 same (tf pads bottom/right)', x: [2, 8, 9, 3], k: 3, cout: 2, stride: 2, pad: 'same' },
  { name: '3×3 s2 valid, odd', x: [1, 9, 7, 2], k: 3, cout: 3, stride: 2, pad: 'valid' },
  { name: '3×3 s2 explicit [1, 0, 0, 1]', x: [2, 7, 8, 3], k: 3, cout: 2, stride: 2, pad: [1, 0, 0, 1] },
  { name: '1×1 s1', x: [3, 5, 7, 6], k: 1, cout: 4, stride: 1, pad: 'same' },
  { name: '1×1 s1 to one channel (final conv)', x: [2, 4, 6, 8], k: 1, cout: 1, stride: 1, pad: 'valid' },
  { name: '4×4 s2 same', x: [2, 8, 6, 3], k: 4, cout: 2, stride: 2, pad: 'same' },
  { name: '1×1 s2 (dx phases without taps stay zero)', x: [2, 5, 6, 3], k: 1, cout: 4, stride: 2, pad: 'valid' },
  { name: '3×3 s1 explicit pad 3 ≥ filter (dx by the cropped fallback)', x: [1, 4, 5, 2], k: 3, cout: 3, stride: 1, pad: [3, 3, 3, 3] },
  { name: '3×3 s2 same, 40 → 24 channels (full + partial panels)', x: [2, 6, 7, 40], k: 3, cout: 24, stride: 2, pad: 'same' },
];

for (const c of convCases) {
  test(`conv2d ${c.name}: value, dx, dw equal tf.conv2d on cpu`, async () => {
    const x = rand(c.x);
    const w = rand([c.k, c.k, c.x[3]!, c.cout]);
    const g = convGeometry(c.x, w.shape, c.stride, c.pad);
    const r = rand([g.b, g.outH, g.outW, g.cout]);
    const want = await valueAndGrads('cpu', (a, b) => tf.conv2d(a, b, c.stride, tfPad(c.pad)), x, w, r);
    const got = await assertNoLeak(() => valueAndGrads('wasm', (a, b) => tf.conv2d(a, b, c.stride, tfPad(c.pad)), x, w, r), c.name);
    ['y', 'dx', 'dw'].forEach((n, i) => assertClose(got[i]!, want[i]!, `${c.name} ${n}`));
  });
}

const tCases: { name: string; out: [number, number, number, number]; k: number; cin: number; stride: 1 | 2; pad: ConvPad }[] = [
  { name: '4×4 s2 same (Grad-TTS Upsample)', out: [2, 8, 12, 3], k: 4, cin: 5, stride: 2, pad: 'same' },
  { name: '4×4 s2 pad 1, batch 3', out: [3, 6, 4, 2], k: 4, cin: 3, stride: 2, pad: 1 },
  { name: '3×3 s2 pad 1, odd output', out: [2, 7, 9, 2], k: 3, cin: 4, stride: 2, pad: 1 },
  { name: '4×4 s2 explicit [1, 1, 1, 1] (src/model/ops.ts form)', out: [2, 6, 8, 2], k: 4, cin: 3, stride: 2, pad: [1, 1, 1, 1] },
  { name: '3×3 s1 same', out: [2, 5, 7, 3], k: 3, cin: 2, stride: 1, pad: 'same' },
];

for (const c of tCases) {
  test(`conv2dTranspose ${c.name}: value, dx, dw equal tf.conv2dTranspose on cpu`, async () => {
    const w = rand([c.k, c.k, c.out[3], c.cin]);
    const g = convGeometry(c.out, w.shape, c.stride, c.pad);
    const x = rand([g.b, g.outH, g.outW, c.cin]);
    const r = rand(c.out);
    const want = await valueAndGrads('cpu', (a, b) => tf.conv2dTranspose(a, b, c.out, c.stride, tfPad(c.pad)), x, w, r);
    const got = await assertNoLeak(
      () => valueAndGrads('wasm', (a, b) => tf.conv2dTranspose(a, b, c.out, c.stride, tfPad(c.pad)), x, w, r),
      c.name,
    );
    ['y', 'dx', 'dw'].forEach((n, i) => assertClose(got[i]!, want[i]!, `${c.name} ${n}`));
  });
}
