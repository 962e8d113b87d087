import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resample } from './resample.js';

const tone = (f: number, rate: number, n: number, amp = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / rate));

/** Power of x over [from, to). */
function power(x: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return s / (to - from);
}

// Edges are excluded from the quality measures: the filter sees zeros beyond the signal there.
const EDGE = 400;

test('resample: 1 kHz sine 48000 → 22050 keeps > 60 dB SNR against the ideal sine (measured 125 dB)', () => {
  const x = tone(1000, 48000, 48000);
  const y = resample(x, 48000, 22050);
  assert.equal(y.length, 22050);
  const ideal = tone(1000, 22050, 22050);
  let err = 0;
  for (let i = EDGE; i < y.length - EDGE; i++) err += (y[i]! - ideal[i]!) ** 2;
  err /= y.length - 2 * EDGE;
  const snr = 10 * Math.log10(power(ideal, EDGE, y.length - EDGE) / err);
  assert.ok(snr > 60, `SNR ${snr.toFixed(1)} dB`);
  assert.ok(snr > 110, `SNR ${snr.toFixed(1)} dB below the measured 125 dB`);
});

test('resample: content above the new Nyquist (11025 Hz) is suppressed by ≥ 100 dB (measured 108–121 dB at 11.1–20 kHz)', () => {
  for (const f of [11100, 12000, 15000, 20000]) {
    const x = tone(f, 48000, 24000);
    const y = resample(x, 48000, 22050);
    const att = 10 * Math.log10(power(x, 0, x.length) / power(y, EDGE, y.length - EDGE));
    assert.ok(att >= 100, `${f} Hz attenuated only ${att.toFixed(1)} dB`);
  }
  // while pass-band content (up to 0.85 × Nyquist = 9.4 kHz) matches the ideal tone to > 80 dB SNR
  for (const f of [100, 5000, 9000]) {
    const y = resample(tone(f, 48000, 24000), 48000, 22050);
    const ideal = tone(f, 22050, y.length);
    let err = 0;
    for (let i = EDGE; i < y.length - EDGE; i++) err += (y[i]! - ideal[i]!) ** 2;
    const snr = 10 * Math.log10(power(ideal, EDGE, y.length - EDGE) / (err / (y.length - 2 * EDGE)));
    assert.ok(snr > 80, `${f} Hz SNR ${snr.toFixed(1)} dB`);
  }
});

test('resample: upsampling 16000 → 22050 and round trips; identity at equal rates; non-tabulated ratio', () => {
  const x = tone(440, 16000, 8000);
  const up = resample(x, 16000, 22050);
  assert.equal(up.length, Math.round((8000 * 22050) / 16000));
  const ideal = tone(440, 22050, up.length);
  let err = 0;
  for (let i = EDGE; i < up.length - EDGE; i++) err = Math.max(err, Math.abs(up[i]! - ideal[i]!));
  assert.ok(err < 1e-4, `max error ${err}`);
  const back = resample(up, 22050, 16000);
  assert.equal(back.length, x.length);
  for (let i = EDGE; i < x.length - EDGE; i++) assert.ok(Math.abs(back[i]! - x[i]!) < 1e-4);
  assert.deepEqual(resample(x, 16000, 16000), x);
  // 22050 → 22051 Hz has L = 22051 phases: coefficients are interpolated from a 4096-phase table
  const odd = resample(tone(1000, 22050, 22050), 22050, 22051);
  const oddIdeal = tone(1000, 22051, odd.length);
  let e2 = 0;
  for (let i = EDGE; i < odd.length - EDGE; i++) e2 += (odd[i]! - oddIdeal[i]!) ** 2;
  const snr = 10 * Math.log10(power(oddIdeal, EDGE, odd.length - EDGE) / (e2 / (odd.length - 2 * EDGE)));
  assert.ok(snr > 100, `interpolated-table SNR ${snr.toFixed(1)} dB (measured 117)`);
});
