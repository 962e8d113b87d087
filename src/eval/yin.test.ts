import { test } from 'node:test';
import assert from 'node:assert/strict';
import { melFrameCount } from '../audio/mel.js';
import { readWav } from '../audio/wav.js';
import { speechFixtures } from '../testing/paths.js';
import { Rng } from '../util/rng.js';
import { medianF0, voicedFraction, yin, yinFrameCount } from './yin.js';

const SR = 22050;

function tone(f0: number, seconds: number, harmonics: number[] = [1]): Float32Array {
  const x = new Float32Array(Math.round(seconds * SR));
  for (let i = 0; i < x.length; i++) {
    let v = 0;
    harmonics.forEach((a, h) => (v += a * Math.sin((2 * Math.PI * f0 * (h + 1) * i) / SR + h)));
    x[i] = 0.3 * v;
  }
  return x;
}

test('pure tones at 110, 220 and 330 Hz are found within 1 % in every interior frame', () => {
  for (const f of [110, 220, 330]) {
    const t = yin(tone(f, 0.5), SR);
    for (let i = 4; i < t.f0.length - 4; i++) {
      assert.equal(t.voiced[i], 1, `${f} Hz frame ${i} voiced`);
      assert.ok(Math.abs(t.f0[i]! / f - 1) < 0.01, `${f} Hz frame ${i}: ${t.f0[i]}`);
    }
  }
});

test('a harmonic-rich tone with a weak fundamental is not an octave off', () => {
  const t = yin(tone(150, 0.5, [0.2, 1, 0.7, 0.5, 0.3]), SR);
  assert.ok(Math.abs(medianF0(t) / 150 - 1) < 0.01, `median ${medianF0(t)}`);
  assert.ok(voicedFraction(t) > 0.9);
});

test('silence and white noise are unvoiced', () => {
  const silent = yin(new Float32Array(SR / 2), SR);
  assert.equal(voicedFraction(silent), 0);
  assert.ok(Number.isNaN(medianF0(silent)));
  const rng = new Rng(11);
  const noise = Float32Array.from({ length: SR / 2 }, () => 0.3 * rng.normal());
  assert.ok(voicedFraction(yin(noise, SR)) < 0.05);
});

test('frames line up with mel frames: count and onset position', () => {
  for (const len of [1000, 5513, 22050, 22051]) {
    assert.equal(yin(new Float32Array(len), SR).f0.length, melFrameCount(len));
    assert.equal(yinFrameCount(len, 1024, 256), melFrameCount(len));
  }
  // a tone starting at sample 8192 (frame 32's centre is 32·256 + 128)
  const x = new Float32Array(SR);
  x.set(tone(200, 0.5), 8192);
  const t = yin(x, SR);
  assert.equal(t.voiced[26], 0);
  assert.equal(t.voiced[36], 1);
});

test('the LibriVox fixture reader has a plausible (male) median F0 and voiced fraction', () => {
  const w = readWav(speechFixtures()[2]!.wav);
  const t = yin(w.samples, w.sampleRate);
  const med = medianF0(t);
  assert.ok(med > 80 && med < 130, `median F0 ${med} Hz`);
  const vf = voicedFraction(t);
  assert.ok(vf > 0.25 && vf < 0.75, `voiced fraction ${vf}`);
});

test('a frame too short for fMin is enlarged (44.1 kHz, 55 Hz), frames unchanged; bad ranges are refused', () => {
  const rate = 44100;
  const x = Float32Array.from({ length: rate / 2 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 55 * i) / rate));
  const t = yin(x, rate, { frameLength: 1024, hop: 512, fMin: 50 });
  assert.equal(t.f0.length, yinFrameCount(x.length, 1024, 512));
  assert.ok(Math.abs(medianF0(t) / 55 - 1) < 0.01, `median ${medianF0(t)}`);
  assert.throws(() => yin(x, rate, { fMin: 300, fMax: 200 }), /fMin/);
});
