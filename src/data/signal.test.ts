import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addNoiseAtSnr,
  clipAtLevel,
  lowpass,
  lowpassDirect,
  lowpassKernel,
  measureSnrDb,
  pinkNoise,
  power,
  whiteNoise,
  babbleNoise,
} from './signal.js';
import { Rng } from '../util/rng.js';

/** Mean power of x in the band [lo, hi) Hz, by a direct DFT over 4096-sample blocks. */
function bandPower(x: Float32Array, rate: number, lo: number, hi: number): number {
  const n = 4096;
  let total = 0;
  for (let start = 0; start + n <= x.length; start += n) {
    for (let k = Math.ceil((lo * n) / rate); k < (hi * n) / rate; k++) {
      let re = 0,
        im = 0;
      for (let i = 0; i < n; i++) {
        re += x[start + i]! * Math.cos((2 * Math.PI * k * i) / n);
        im -= x[start + i]! * Math.sin((2 * Math.PI * k * i) / n);
      }
      total += re * re + im * im;
    }
  }
  return total;
}

test('addNoiseAtSnr hits the SNR exactly (closed form) and keeps it when rescaling', () => {
  const rng = new Rng(1);
  const x = Float32Array.from({ length: 8000 }, (_, i) => 0.2 * Math.sin(i / 7));
  for (const snr of [-5, 0, 12.5, 30]) {
    const { y, gain } = addNoiseAtSnr(x, whiteNoise(x.length, rng), snr);
    assert.ok(
      Math.abs(
        measureSnrDb(
          x.map((v) => v * gain),
          y,
        ) - snr,
      ) < 1e-3,
      `snr ${snr}`,
    );
    assert.ok(y.every((v) => Math.abs(v) <= 0.999 + 1e-6));
  }
  assert.ok(addNoiseAtSnr(x, whiteNoise(x.length, rng), -20).gain < 1);
});

test('pink noise falls ~3 dB per octave; white noise is flat', () => {
  const rate = 22050;
  const pink = pinkNoise(4096 * 4, new Rng(2));
  const white = whiteNoise(4096 * 4, new Rng(3));
  // Two octaves: 500–1000 Hz vs 2000–4000 Hz. Pink: equal power per octave → per-Hz density −6 dB over two octaves.
  const densityDb = (x: Float32Array, lo: number, hi: number) => 10 * Math.log10(bandPower(x, rate, lo, hi) / (hi - lo));
  const pinkDrop = densityDb(pink, 500, 1000) - densityDb(pink, 2000, 4000);
  const whiteDrop = densityDb(white, 500, 1000) - densityDb(white, 2000, 4000);
  assert.ok(Math.abs(pinkDrop - 6.02) < 1, `pink drop ${pinkDrop} dB over two octaves`);
  assert.ok(Math.abs(whiteDrop) < 0.7, `white drop ${whiteDrop} dB`);
});

test('babble sums unit-RMS talkers looped to length', () => {
  const a = Float32Array.from({ length: 100 }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: 37 }, (_, i) => 3 * Math.cos(i / 3));
  const one = babbleNoise(500, [b], new Rng(1));
  assert.ok(Math.abs(power(one) - 1) < 0.05);
  const two = babbleNoise(500, [a, b], new Rng(1));
  assert.ok(power(two) > 1.2 && power(two) < 3);
});

test('clipAtLevel: threshold, count and untouched samples', () => {
  const x = Float32Array.from([0.1, -0.5, 1, -1, 0.3, 0.6]);
  const { y, threshold, clippedFraction } = clipAtLevel(x, 0.5);
  assert.equal(threshold, 0.5);
  assert.deepEqual(
    Array.from(y),
    [0.1, -0.5, 0.5, -0.5, 0.3, 0.5].map((v) => Math.fround(v)),
  );
  assert.equal(clippedFraction, 3 / 6);
});

test('lowpass kernel: unit DC gain, symmetric, −6 dB at the cutoff', () => {
  const rate = 16000;
  const h = lowpassKernel(2000, rate, 501);
  assert.ok(Math.abs(h.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  for (let i = 0; i < 250; i++) assert.ok(Math.abs(h[i]! - h[500 - i]!) < 1e-15);
  const gainAt = (f: number) => {
    let re = 0,
      im = 0;
    h.forEach((v, n) => {
      re += v * Math.cos((2 * Math.PI * f * n) / rate);
      im += v * Math.sin((2 * Math.PI * f * n) / rate);
    });
    return 20 * Math.log10(Math.hypot(re, im));
  };
  assert.ok(Math.abs(gainAt(2000) + 6.02) < 0.1, `gain at cutoff ${gainAt(2000)}`);
  assert.ok(Math.abs(gainAt(1000)) < 0.01);
  assert.ok(gainAt(3000) < -70);
  // Zero phase: a low tone passes through unshifted.
  const x = Float32Array.from({ length: 4000 }, (_, i) => Math.sin((2 * Math.PI * 300 * i) / rate));
  const y = lowpass(x, 2000, rate, 501);
  for (let i = 1000; i < 3000; i += 97) assert.ok(Math.abs(y[i]! - x[i]!) < 1e-3);
});

test('FFT low-pass equals the direct convolution, edges included', () => {
  const rng = new Rng(5);
  for (const n of [10, 700, 3001]) {
    const x = whiteNoise(n, rng);
    const a = lowpass(x, 3000, 22050, 501);
    const b = lowpassDirect(x, 3000, 22050, 501);
    assert.equal(a.length, n);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `n ${n} i ${i}: ${a[i]} vs ${b[i]}`);
  }
});
