import { test } from 'node:test';
import assert from 'node:assert/strict';
import { griffinLim, griffinLimLength, melToLinear } from './griffinlim.js';
import { logMel, melFilterbank, DEFAULT_MEL, melFrameCount, type Mel } from './mel.js';
import { readNpy } from '../util/npy.js';
import { speechFixtures } from '../testing/paths.js';

// The shortest fixture (283 frames) keeps these tests fast.
const fixture = speechFixtures()[2]!;
const ref = readNpy(fixture.mel, { rank: 2 });
const mel: Mel = { data: ref.data, nMels: ref.shape[0]!, frames: ref.shape[1]! };
const floor = Math.log(DEFAULT_MEL.logFloor) + 1e-6;

/** Mean |Δ log-mel| over bins whose reference is above the floor. */
function meanAbsErr(m: Float32Array): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < ref.data.length; i++) {
    if (ref.data[i]! <= floor) continue;
    s += Math.abs(m[i]! - ref.data[i]!);
    c++;
  }
  return s / c;
}

test('griffinLim: mel → linear NNLS is non-negative and re-projects onto the mel (mean |Δ| 0.004 measured)', () => {
  const fb = melFilterbank(DEFAULT_MEL);
  const project = (iters: number) => {
    const S = melToLinear(mel, DEFAULT_MEL, iters);
    assert.ok(S.data.every((v) => v >= 0));
    const out = new Float32Array(mel.nMels * mel.frames);
    for (let t = 0; t < mel.frames; t++) {
      for (let m = 0; m < mel.nMels; m++) {
        let v = 0;
        for (let j = 0; j < fb.len[m]!; j++) v += fb.weights[fb.offset[m]! + j]! * S.data[t * S.bins + fb.start[m]! + j]!;
        out[m * mel.frames + t] = Math.log(Math.max(v, 1e-5));
      }
    }
    return meanAbsErr(out);
  };
  const clampedPinv = project(0);
  const nnls = project(10);
  assert.ok(nnls < 0.006, `NNLS error ${nnls}`);
  assert.ok(nnls < 0.7 * clampedPinv, `NNLS ${nnls} should improve on clamped pinv ${clampedPinv}`);
});

test('griffinLim: rebuilds a fixture whose log-mel is close to the original; length frames·hop; seeded', () => {
  const y = griffinLim(mel, { seed: 1 });
  assert.equal(y.length, mel.frames * DEFAULT_MEL.hop);
  assert.equal(y.length, griffinLimLength(mel.frames));
  assert.equal(melFrameCount(y.length), mel.frames);
  const back = logMel(y);
  assert.equal(back.frames, mel.frames);
  const err = meanAbsErr(back.data);
  // measured 0.094 (32 iterations, momentum 0.99); classic Griffin-Lim (momentum 0) gives 0.111
  assert.ok(err < 0.12, `mean abs log-mel error ${err}`);
  const again = griffinLim(mel, { seed: 1 });
  assert.deepEqual(again, y);
  const other = griffinLim(mel, { seed: 2, iters: 1 });
  assert.ok(other.some((v, i) => v !== y[i]));
});

test('griffinLim: momentum 0.99 converges further than classic Griffin-Lim in 32 iterations', () => {
  const fast = meanAbsErr(logMel(griffinLim(mel, { momentum: 0.99 })).data);
  const classic = meanAbsErr(logMel(griffinLim(mel, { momentum: 0 })).data);
  assert.ok(fast < classic - 0.005, `fast ${fast} vs classic ${classic}`);
});

test('griffinLim: output length re-frames to the same mel length for other STFT settings', () => {
  const configs = [
    { ...DEFAULT_MEL, nFft: 512, hop: 128, win: 512, nMels: 40 },
    { ...DEFAULT_MEL, nFft: 1024, hop: 200, win: 800 },
    { ...DEFAULT_MEL, nFft: 256, hop: 63, win: 256, nMels: 20, sampleRate: 16000, fMax: 8000 }, // odd nFft − hop
  ];
  for (const cfg of configs) {
    for (const frames of [1, 2, 7]) {
      const m: Mel = { data: new Float32Array(cfg.nMels * frames).fill(-3), nMels: cfg.nMels, frames };
      const y = griffinLim(m, { cfg, iters: 1 });
      assert.equal(y.length, griffinLimLength(frames, cfg));
      assert.equal(melFrameCount(y.length, cfg), frames, `nFft ${cfg.nFft} hop ${cfg.hop}: ${frames} frames`);
      assert.equal(logMel(y, cfg).frames, frames);
    }
  }
});

test('griffinLim: the float32 wasm iterations match the fft.js float64 path (one pass ≤ 1e-6; 32 iterations ≤ 1e-3, measured 1.1e-4 at peak 0.40)', () => {
  const maxDiff = (a: Float32Array, b: Float32Array) => {
    assert.equal(a.length, b.length);
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    return d;
  };
  // iters 0: one inverse STFT of the random-phase start, i.e. the FFTs alone
  const once = maxDiff(griffinLim(mel, { seed: 3, iters: 0 }), griffinLim(mel, { seed: 3, iters: 0, fft: 'fft.js' }));
  assert.ok(once < 1e-6, `one inverse STFT: max |Δ| ${once}`);
  const wasm = griffinLim(mel, { seed: 3 });
  const ref = griffinLim(mel, { seed: 3, fft: 'fft.js' });
  const full = maxDiff(wasm, ref);
  assert.ok(full > 0 && full < 1e-3, `32 iterations: max |Δ| ${full}`);
  // an odd frame count (an unpaired last frame) and a partial batch of pairs, after a call with more bins in use
  const frames = 37;
  const odd: Mel = { data: new Float32Array(mel.nMels * frames), nMels: mel.nMels, frames };
  for (let m = 0; m < mel.nMels; m++) odd.data.set(mel.data.subarray(m * mel.frames, m * mel.frames + frames), m * frames);
  const cfg = { ...DEFAULT_MEL, fMax: 4000 }; // fewer bins than the calls above wrote
  const d = maxDiff(griffinLim(odd, { seed: 5, iters: 2, cfg }), griffinLim(odd, { seed: 5, iters: 2, cfg, fft: 'fft.js' }));
  assert.ok(d < 1e-5, `37 frames, fMax 4000: max |Δ| ${d}`);
});
