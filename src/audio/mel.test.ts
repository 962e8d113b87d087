import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logMel, melFilterbank, denseFilterbank, DEFAULT_MEL, hzToMel, melToHz, melFrameCount } from './mel.js';
import { readWav } from './wav.js';
import { readNpy } from '../util/npy.js';
import { speechFixtures } from '../testing/paths.js';
import { UserError } from '../errors.js';

test('mel: log-mel matches every reference fixture within 1e-3 on bins above the floor', () => {
  const floor = Math.log(DEFAULT_MEL.logFloor);
  for (const f of speechFixtures()) {
    const ref = readNpy(f.mel, { rank: 2 });
    const mel = logMel(readWav(f.wav).samples);
    assert.equal(mel.nMels, ref.shape[0]);
    assert.equal(mel.frames, ref.shape[1], `${f.name} frames`);
    let maxDiff = 0;
    let counted = 0;
    for (let i = 0; i < ref.data.length; i++) {
      if (ref.data[i]! <= floor + 1e-6) continue;
      counted++;
      maxDiff = Math.max(maxDiff, Math.abs(ref.data[i]! - mel.data[i]!));
    }
    assert.ok(counted > ref.data.length / 2, `${f.name}: too few bins compared`);
    assert.ok(maxDiff <= 1e-3, `${f.name}: max abs diff ${maxDiff}`);
  }
});

test('mel: Slaney scale and filterbank match librosa closed forms', () => {
  assert.equal(hzToMel(1000), 15);
  assert.ok(Math.abs(hzToMel(6400) - 42) < 1e-12); // 27 log steps of 6.4^(1/27) per mel
  for (const f of [0, 440, 999, 1000, 4000, 8000]) assert.ok(Math.abs(melToHz(hzToMel(f)) - f) < 1e-9);
  const fb = melFilterbank(DEFAULT_MEL);
  const dense = denseFilterbank(fb);
  const binHz = DEFAULT_MEL.sampleRate / DEFAULT_MEL.nFft;
  for (let m = 0; m < fb.nMels; m++) {
    const lo = fb.edgesHz[m]!;
    const hi = fb.edgesHz[m + 2]!;
    // Slaney area normalisation: the continuous triangle has height 2/(hi − lo) and area 1;
    // the bin sum approximates area / binHz.
    let sum = 0;
    for (let k = 0; k < fb.nBins; k++) {
      const w = dense[m * fb.nBins + k]!;
      const f = k * binHz;
      if (w > 0) assert.ok(f > lo && f < hi, `filter ${m} nonzero outside its band`);
      sum += w;
    }
    if (hi - lo > 6 * binHz) assert.ok(Math.abs(sum * binHz - 1) < 0.05, `filter ${m} area ${sum * binHz}`);
  }
  // nothing above fMax
  assert.ok(fb.edgesHz[fb.nMels + 1]! === 8000 || Math.abs(fb.edgesHz[fb.nMels + 1]! - 8000) < 1e-6);
});

test('mel: frame count is ⌊len/hop⌋ for the defaults; closed-form DC input; bad config is a UserError', () => {
  assert.equal(melFrameCount(156555), 611);
  assert.equal(melFrameCount(256 * 10), 10);
  // constant 0.25 under a periodic Hann window of 1024: DFT bin 0 = 0.25·512, bin 1 = −0.25·256, all
  // other bins 0 (magnitude √1e-9 after the epsilon). So every mel bin is a closed form of the filterbank.
  const mel = logMel(new Float32Array(4096).fill(0.25));
  assert.equal(mel.frames, 16);
  const fb = melFilterbank(DEFAULT_MEL);
  const dense = denseFilterbank(fb);
  for (let m = 0; m < fb.nMels; m++) {
    let v = 0;
    for (let k = 0; k < fb.nBins; k++) v += dense[m * fb.nBins + k]! * (k === 0 ? 128 : k === 1 ? 64 : Math.sqrt(1e-9));
    const expected = Math.log(Math.max(v, 1e-5));
    for (const t of [4, 7, 11])
      assert.ok(Math.abs(mel.data[m * mel.frames + t]! - expected) < 1e-4, `mel ${m}: ${mel.data[m * mel.frames + t]} vs ${expected}`);
  }
  assert.throws(
    () => logMel(new Float32Array(100), { ...DEFAULT_MEL, nFft: 1000 }),
    (e: unknown) => e instanceof UserError && /nFft 1000/.test(e.message),
  );
  assert.throws(() => logMel(new Float32Array(100), { ...DEFAULT_MEL, fMax: 20000 }), UserError);
});
