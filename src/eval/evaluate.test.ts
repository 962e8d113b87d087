import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logMel } from '../audio/mel.js';
import { readWav } from '../audio/wav.js';
import { speechFixtures } from '../testing/paths.js';
import { aggregate, evaluatePair } from './evaluate.js';
import { METRICS } from './resilience.js';

const SR = 22050;

function tone(f0: number, seconds: number): Float32Array {
  return Float32Array.from(
    { length: Math.round(seconds * SR) },
    (_, i) => 0.3 * Math.sin((2 * Math.PI * f0 * i) / SR) + 0.15 * Math.sin((4 * Math.PI * f0 * i) / SR),
  );
}

test('an utterance against itself: zero distances, perfect similarities', () => {
  const w = readWav(speechFixtures()[2]!.wav);
  const u = { wav: w.samples, mel: logMel(w.samples) };
  const m = evaluatePair(u, u, SR);
  assert.equal(m.mcd, 0);
  assert.equal(m.lsd, 0);
  assert.equal(m.f0Rmse, 0);
  assert.equal(m.vde, 0);
  assert.equal(m.gpe, 0);
  assert.ok(Math.abs(m.melCosine - 1) < 1e-12);
  assert.ok(Math.abs(m.melStatsCosine - 1) < 1e-12);
  assert.equal(m.pathLength, Math.ceil(w.samples.length / 256)); // mel-cepstrum frames (SPTK framing)
  assert.ok(Number.isNaN(m.speakerDist), 'no speaker reference given');
  for (const k of Object.keys(METRICS)) if (k !== 'wer') assert.ok(k in m, `reports ${k}`);
});

test('a tone a semitone sharp scores ≈ 100 cents and positive distances', () => {
  const ref = tone(200, 0.6);
  const gen = tone(200 * 2 ** (1 / 12), 0.6);
  const m = evaluatePair({ wav: gen, mel: logMel(gen) }, { wav: ref, mel: logMel(ref) }, SR);
  assert.ok(Math.abs(m.f0Rmse - 100) < 3, `F0 RMSE ${m.f0Rmse} cents`);
  assert.equal(m.vde, 0);
  assert.ok(m.mcd > 0 && m.lsd > 0);
});

test('aggregate gives the spread of every numeric field', () => {
  const a = aggregate([
    { mcd: 4, f0Rmse: NaN, name: 'x' },
    { mcd: 6, f0Rmse: 50, name: 'y' },
  ]);
  assert.deepEqual(Object.keys(a).sort(), ['f0Rmse', 'mcd']);
  assert.equal(a.mcd!.mean, 5);
  assert.ok(Math.abs(a.mcd!.std - Math.SQRT2) < 1e-12);
  assert.equal(a.f0Rmse!.n, 1);
});
