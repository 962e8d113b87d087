import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mfcc, rms } from './features.js';
import { readWav } from './wav.js';
import { speechFixtures } from '../testing/paths.js';

const tone = (f: number, rate: number, n: number, amp: number) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / rate));

test('features: rms of a sine over whole periods is A/√2; silence is 0; frame count', () => {
  // 1 kHz at 16 kHz: 16 samples per period, a 1024-sample frame holds 64 whole periods
  const r = rms(tone(1000, 16000, 4096, 0.6), 16000);
  assert.equal(r.length, 1 + (4096 - 1024) / 256);
  for (const v of r) assert.ok(Math.abs(v - 0.6 / Math.SQRT2) < 1e-5, `${v}`);
  assert.ok(rms(new Float32Array(2000), 16000).every((v) => v === 0));
  assert.equal(rms(new Float32Array(100), 16000).length, 1, 'short input is padded to one frame');
  assert.throws(() => rms(new Float32Array(4096), 16000, { frameSize: 1000 }), /power of two/);
});

test('features: mfcc shape; c0 rises with level; same audio → same MFCCs, different speech → different', () => {
  const [a, b] = speechFixtures().map((f) => readWav(f.wav).samples.subarray(0, 40000)); // ~1.8 s keeps it fast
  const m = mfcc(a!, 22050);
  assert.equal(m.nMfcc, 13);
  assert.equal(m.frames, 1 + Math.floor((a!.length - 1024) / 256));
  assert.ok(m.data.every(Number.isFinite));
  const loud = mfcc(Float32Array.from(a!, (v) => v * 4), 22050);
  let up = 0;
  for (let t = 0; t < m.frames; t++) if (loud.data[t]! > m.data[t]!) up++;
  assert.ok(up > 0.95 * m.frames, `c0 rose in only ${up}/${m.frames} frames`);
  const dist = (p: Float32Array, q: Float32Array, frames: number) => {
    let s = 0;
    for (let i = 1; i < 13; i++) for (let t = 0; t < frames; t++) s += (p[i * frames + t]! - q[i * frames + t]!) ** 2;
    return s;
  };
  assert.equal(dist(m.data, mfcc(a!, 22050).data, m.frames), 0);
  const n = Math.min(a!.length, b!.length);
  const ma = mfcc(a!.subarray(0, n), 22050);
  const mb = mfcc(b!.subarray(0, n), 22050);
  assert.ok(dist(ma.data, mb.data, ma.frames) > 0);
});
