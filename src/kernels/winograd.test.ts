/**
 * Winograd F(2×2, 3×3) and F(4×4, 3×3) (winograd.ts) against the direct implicit-GEMM kernels
 * (conv-gemm.ts) through plain tf.conv2d and its gradients on wasm: forward values, dx and dW of a
 * random linear functional ⟨y, r⟩ over every 3×3 stride-1 geometry the tiny/small/full U-Nets use
 * (80 mels × T frames and the two halved levels) and over odd sizes, 1-pixel images and every
 * padding form; and both against float64 sums for the small cases.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { convGeometry, type ConvPad } from './conv.js';
import { registerFastWasmKernels } from './register.js';
import { setWinogradMode, unetConvs, winogradApplies, winogradVariant, type WinogradMode } from './winograd.js';

before(async () => {
  await tf.setBackend('wasm');
  registerFastWasmKernels();
});
after(() => {
  setWinogradMode('auto');
});

const rng = new Rng(4321);
const tfPad = (p: ConvPad) =>
  (Array.isArray(p)
    ? [
        [0, 0],
        [p[0], p[1]],
        [p[2], p[3]],
        [0, 0],
      ]
    : p) as 'same';

/** [y, dx, dw] of tf.conv2d with the kernels `mode` picks, for ⟨conv(x, w), r⟩. */
function valueAndGrads(
  mode: WinogradMode,
  x: Float32Array,
  xs: number[],
  w: Float32Array,
  ws: number[],
  r: Float32Array,
  pad: ConvPad,
): Float32Array[] {
  setWinogradMode(mode);
  try {
    return tf.tidy(() => {
      const xt = tf.tensor4d(x, xs as [number, number, number, number]);
      const wt = tf.tensor4d(w, ws as [number, number, number, number]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, tfPad(pad));
      const y = f(xt, wt);
      const rt = tf.tensor(r, y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), rt)))([xt, wt]);
      return [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
    });
  } finally {
    setWinogradMode('auto');
  }
}

/** max |got − want| / max |want|. */
function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let scale = 0,
    worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= worst)) worst = e; // NaN counts as worst
  }
  return worst / Math.max(scale, 1e-30);
}

/**
 * Tolerances relative to the largest entry, ~4× the worst measured against the direct kernels over
 * the U-Net geometries below: F2 2.4e-6, F4 1.3e-5 (F4's constants up to 8 and 1/24 amplify the
 * roundings; worst at dim 64's 256 → 64 and 128 → 256 convs).
 */
const TOL = { 2: 1e-5, 4: 6e-5 } as const;

function check(name: string, xs: number[], cout: number, pad: ConvPad): void {
  const ws = [3, 3, xs[3]!, cout];
  const g = convGeometry(xs, ws, 1, pad);
  assert.ok(winogradApplies(g), `${name}: Winograd applies`);
  const x = rng.normals(xs.reduce((a, b) => a * b, 1));
  const w = rng.normals(9 * xs[3]! * cout);
  const r = rng.normals(g.b * g.outH * g.outW * cout);
  const direct = valueAndGrads('off', x, xs, w, ws, r, pad);
  for (const v of [2, 4] as const) {
    const got = valueAndGrads(v, x, xs, w, ws, r, pad);
    ['y', 'dx', 'dw'].forEach((what, i) => {
      const e = relErr(got[i]!, direct[i]!);
      assert.ok(e <= TOL[v], `${name} F${v} ${what}: relative error ${e.toExponential(2)} > ${TOL[v]}`);
    });
  }
}

test('Winograd F2 and F4 equal the direct kernels on every U-Net 3×3 geometry (tiny/small/full, 80 × 12 frames and halved levels, batch 2)', async () => {
  await assertNoLeak(() => {
    for (const d of [16, 32, 64]) {
      for (const [lv, ci, co] of unetConvs(d)) check(`dim ${d} level ${lv} ${ci}→${co}`, [2, 80 >> lv, 12 >> lv, ci], co, 'same');
    }
  }, 'U-Net geometries');
});

const odd: { name: string; x: number[]; cout: number; pad: ConvPad }[] = [
  { name: '1-pixel image, same', x: [2, 1, 1, 4], cout: 8, pad: 'same' },
  { name: '1 × T (a 1-mel image), same', x: [1, 1, 9, 8], cout: 4, pad: 'same' },
  { name: 'odd 7 × 5, 4 → 12 (partial GEMM panel), same', x: [2, 7, 5, 4], cout: 12, pad: 'same' },
  { name: 'odd 9 × 11, 20 → 36, same', x: [1, 9, 11, 20], cout: 36, pad: 'same' },
  { name: 'valid 6 × 7 (outputs 4 × 5)', x: [2, 6, 7, 8], cout: 8, pad: 'valid' },
  { name: 'valid 3 × 3 (one output pixel)', x: [1, 3, 3, 4], cout: 4, pad: 'valid' },
  { name: 'pad 1 (torch padding=1), 5 × 6', x: [3, 5, 6, 4], cout: 4, pad: 1 },
  { name: 'explicit [2, 0, 0, 2], 4 × 5', x: [1, 4, 5, 8], cout: 4, pad: [2, 0, 0, 2] },
  { name: 'explicit [0, 1, 2, 0], 6 × 3', x: [2, 6, 3, 4], cout: 8, pad: [0, 1, 2, 0] },
  { name: 'height 2, width 13, same', x: [2, 2, 13, 16], cout: 16, pad: 'same' },
];

/** float64 [y, dx, dw] of ⟨conv(x, w), r⟩ by definition. */
function reference(x: Float32Array, xs: number[], w: Float32Array, cout: number, r: Float32Array, pad: ConvPad): Float64Array[] {
  const [b, h, wd, ci] = xs as [number, number, number, number];
  const g = convGeometry(xs, [3, 3, ci, cout], 1, pad);
  const y = new Float64Array(b * g.outH * g.outW * cout),
    dx = new Float64Array(x.length),
    dw = new Float64Array(w.length);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < g.outH; oy++)
      for (let ox = 0; ox < g.outW; ox++) {
        for (let ty = 0; ty < 3; ty++)
          for (let tx = 0; tx < 3; tx++) {
            const iy = oy + ty - g.padTop,
              ix = ox + tx - g.padLeft;
            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
            for (let c = 0; c < ci; c++) {
              const xi = ((n * h + iy) * wd + ix) * ci + c;
              for (let o = 0; o < cout; o++) {
                const yi = ((n * g.outH + oy) * g.outW + ox) * cout + o,
                  wi = ((ty * 3 + tx) * ci + c) * cout + o;
                y[yi] += x[xi]! * w[wi]!;
                dx[xi] += r[yi]! * w[wi]!;
                dw[wi] += r[yi]! * x[xi]!;
              }
            }
          }
      }
  return [y, dx, dw];
}

for (const c of odd) {
  test(`Winograd ${c.name}: F2 and F4 equal the direct kernels and float64 sums`, async () => {
    check(c.name, c.x, c.cout, c.pad);
    const x = rng.normals(c.x.reduce((a, b) => a * b, 1)),
      w = rng.normals(9 * c.x[3]! * c.cout);
    const g = convGeometry(c.x, [3, 3, c.x[3]!, c.cout], 1, c.pad);
    const r = rng.normals(g.b * g.outH * g.outW * c.cout);
    const want = reference(x, c.x, w, c.cout, r, c.pad);
    for (const v of [2, 4] as const) {
      const got = await assertNoLeak(() => valueAndGrads(v, x, c.x, w, [3, 3, c.x[3]!, c.cout], r, c.pad), c.name);
      ['y', 'dx', 'dw'].forEach((what, i) => {
        const e = relErr(got[i]!, want[i]!);
        assert.ok(e <= TOL[v], `${c.name} F${v} ${what} vs float64: ${e.toExponential(2)}`);
      });
    }
  });
}

test('winogradVariant: off under DIFFTTS_WINOGRAD=0 semantics, never for strided, 1×1, or channels not a multiple of 4', () => {
  const g = convGeometry([4, 80, 128, 32], [3, 3, 32, 32], 1, 'same');
  const prev = setWinogradMode('off');
  try {
    assert.equal(winogradVariant(g, 'forward'), 0);
    setWinogradMode(4);
    assert.equal(winogradVariant(g, 'dw'), 4);
    assert.equal(winogradVariant(convGeometry([4, 80, 128, 32], [3, 3, 32, 32], 2, 'same'), 'forward'), 0);
    assert.equal(winogradVariant(convGeometry([4, 80, 128, 32], [1, 1, 32, 32], 1, 'same'), 'forward'), 0);
    assert.equal(winogradVariant(convGeometry([4, 80, 128, 2], [3, 3, 2, 16], 1, 'same'), 'forward'), 0);
    assert.equal(winogradVariant(convGeometry([4, 80, 128, 16], [3, 3, 16, 1], 1, 'same'), 'forward'), 0);
  } finally {
    setWinogradMode(prev);
  }
});
