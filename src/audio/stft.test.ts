import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stft, istft, hannWindow, reflectPad, frameCount, padWindow } from './stft.js';
import { Rng } from '../util/rng.js';

test('stft: reflectPad follows numpy/torch "reflect" (edge sample not repeated), bouncing when long', () => {
  const x = Float32Array.from([1, 2, 3, 4]);
  assert.deepEqual(Array.from(reflectPad(x, 3, 2)), [4, 3, 2, 1, 2, 3, 4, 3, 2]);
  assert.deepEqual(Array.from(reflectPad(x, 5, 0)), [2, 3, 4, 3, 2, 1, 2, 3, 4]);
  assert.deepEqual(Array.from(reflectPad(Float32Array.from([7]), 2, 1)), [7, 7, 7, 7]);
});

test('stft: hann window closed forms; frame count', () => {
  const w = hannWindow(8);
  assert.deepEqual(
    Array.from(w, (v) => +v.toFixed(12)),
    [0, 0.146446609407, 0.5, 0.853553390593, 1, 0.853553390593, 0.5, 0.146446609407],
  );
  const s = hannWindow(5, false);
  assert.deepEqual(
    Array.from(s, (v) => +v.toFixed(12)),
    [0, 0.5, 1, 0.5, 0],
  );
  assert.deepEqual(Array.from(padWindow(Float64Array.from([1, 1]), 6)), [0, 0, 1, 1, 0, 0]);
  assert.equal(frameCount(1024, 1024, 256), 1);
  assert.equal(frameCount(1023, 1024, 256), 0);
  assert.equal(frameCount(1024 + 511, 1024, 256), 2);
});

test('stft: every frame equals a direct DFT of the windowed frame (odd frame count exercises the unpaired path)', () => {
  const n = 64;
  const hop = 16;
  const rng = new Rng(3);
  const x = rng.normals(n + 4 * hop); // 5 frames
  const w = hannWindow(n);
  const spec = stft(x, { nFft: n, hop, window: w });
  assert.equal(spec.frames, 5);
  assert.equal(spec.bins, 33);
  let maxErr = 0;
  for (let t = 0; t < spec.frames; t++) {
    for (let k = 0; k < spec.bins; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < n; i++) {
        const v = x[t * hop + i]! * w[i]!;
        re += v * Math.cos((2 * Math.PI * k * i) / n);
        im -= v * Math.sin((2 * Math.PI * k * i) / n);
      }
      maxErr = Math.max(maxErr, Math.abs(re - spec.re[t * spec.bins + k]!), Math.abs(im - spec.im[t * spec.bins + k]!));
    }
  }
  assert.ok(maxErr < 1e-4, `max error ${maxErr}`);
});

test('stft: istft(stft(x)) reconstructs x wherever the window sum is nonzero', () => {
  const rng = new Rng(9);
  for (const frames of [6, 7]) {
    const n = 256;
    const hop = 64;
    const x = rng.normals((frames - 1) * hop + n);
    const w = hannWindow(n);
    const y = istft(stft(x, { nFft: n, hop, window: w }), { nFft: n, hop, window: w });
    assert.equal(y.length, x.length);
    let maxErr = 0;
    for (let i = 1; i < x.length; i++) if (i % n !== 0) maxErr = Math.max(maxErr, Math.abs(y[i]! - x[i]!));
    assert.ok(maxErr < 1e-4, `frames ${frames}: max error ${maxErr}`);
  }
});
