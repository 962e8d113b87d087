/**
 * The batched WebAssembly SIMD FFT (fft-batch.ts) against a direct float64 DFT, 8 random complex
 * signals per size including the smallest (2) and Griffin-Lim's (1024): float32 accuracy, i.e.
 * max |Δ| ≤ 1e-5 · √n · max|x| (measured ~1e-6 relative at 1024).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { createBatchFft } from './fft-batch.js';

test('batch FFT: 8 signals at once equal a direct DFT (float32 tolerance) for n = 2 … 1024', () => {
  const rng = new Rng(11);
  for (const n of [2, 4, 8, 64, 1024]) {
    const f = createBatchFft(n);
    assert.ok(f, 'WebAssembly SIMD is available in Node ≥ 20');
    const re = Array.from({ length: 8 }, () => Float64Array.from(rng.normals(n)));
    const im = Array.from({ length: 8 }, () => Float64Array.from(rng.normals(n)));
    for (let s = 0; s < 8; s++)
      for (let j = 0; j < n; j++) {
        f.input[2 * (n * s + j)] = re[s]![j]!;
        f.input[2 * (n * s + j) + 1] = im[s]![j]!;
      }
    const before = f.input.slice();
    f.transform();
    assert.deepEqual(f.input, before, 'the input is left as it was');
    let worst = 0;
    let scale = 0;
    for (let s = 0; s < 8; s++)
      for (let k = 0; k < n; k++) {
        let xr = 0;
        let xi = 0;
        for (let j = 0; j < n; j++) {
          const a = (-2 * Math.PI * ((j * k) % n)) / n;
          xr += re[s]![j]! * Math.cos(a) - im[s]![j]! * Math.sin(a);
          xi += re[s]![j]! * Math.sin(a) + im[s]![j]! * Math.cos(a);
        }
        worst = Math.max(worst, Math.abs(f.output[2 * (n * s + k)]! - xr), Math.abs(f.output[2 * (n * s + k) + 1]! - xi));
        scale = Math.max(scale, Math.abs(xr), Math.abs(xi));
      }
    assert.ok(worst <= 1e-5 * Math.sqrt(n) * 4, `n ${n}: max |Δ| ${worst} (largest bin ${scale.toFixed(1)})`);
    assert.ok(scale > 1, 'a real transform');
  }
});

test('batch FFT: sizes that are not powers of two are refused', () => {
  assert.throws(() => createBatchFft(12), /power of two/);
});
