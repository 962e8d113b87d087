import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mel } from '../audio/mel.js';
import { compareF0 } from './f0compare.js';
import { LN_TO_DB, cosineSimilarity, lsdAligned, meanMelCosine, melStatsCosine } from './spectral.js';
import { METRICS, metricResilience, resilience, similarity, spread } from './resilience.js';
import type { PitchTrack } from './yin.js';

const track = (f0: number[]): PitchTrack => ({
  f0: Float32Array.from(f0),
  voiced: Uint8Array.from(f0.map((v) => (v > 0 ? 1 : 0))),
  aperiodicity: new Float32Array(f0.length),
  hopSec: 256 / 22050,
});

test('F0 comparison: cents, voicing error and gross errors on hand-made tracks', () => {
  const ref = track([100, 200, 0, 150, 0, 120]);
  const semitone = 2 ** (1 / 12);
  const gen = track([100 * semitone, 200 / semitone, 180, 0, 0, 120 * 1.5]);
  const r = compareF0(gen, ref);
  // voiced in both: frames 0, 1, 5 → errors +100, −100, 1200·log2(1.5) cents
  const c5 = 1200 * Math.log2(1.5);
  assert.ok(Math.abs(r.f0RmseCents - Math.sqrt((100 ** 2 + 100 ** 2 + c5 ** 2) / 3)) < 1e-3);
  assert.equal(r.bothVoiced, 3);
  assert.equal(r.vde, 2 / 6); // frames 2 and 3 differ
  assert.equal(r.gpe, 1 / 3); // only frame 5 deviates by > 20 %
  // along a path: frame 0 of gen matched to ref frames 0 and 1
  const p = compareF0(track([100, 0]), ref, [
    [0, 0],
    [0, 1],
    [1, 2],
  ]);
  assert.ok(Math.abs(p.f0RmseCents - Math.sqrt((0 + 1200 ** 2) / 2)) < 1e-3);
  assert.equal(p.vde, 0);
  assert.ok(Number.isNaN(compareF0(track([0, 0]), track([0, 0])).f0RmseCents));
});

function mel(rows: number[][]): Mel {
  return { data: Float32Array.from(rows.flat()), nMels: rows.length, frames: rows[0]!.length };
}

test('mel similarity: cosine basics, gain invariance, inverted shape', () => {
  assert.ok(Math.abs(cosineSimilarity([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  assert.equal(cosineSimilarity([1, 0], [0, 1]), 0);
  const a = mel([
    [-5, -4],
    [-2, -3],
    [-8, -9],
  ]);
  const louder = mel([
    [-3, -2],
    [0, -1],
    [-6, -7],
  ]); // +2 in every cell
  assert.ok(Math.abs(meanMelCosine(a, louder) - 1) < 1e-12);
  assert.ok(Math.abs(melStatsCosine(a, louder) - 1) < 1e-12);
  // centred mean of a is [−4.5, −2.5, −8.5] − (−31/6) = [2/3, 8/3, −10/3]; its negation scores −1
  const inv = mel([
    [-2 / 3, -2 / 3],
    [-8 / 3, -8 / 3],
    [10 / 3, 10 / 3],
  ]);
  assert.ok(Math.abs(meanMelCosine(a, inv) + 1) < 1e-6);
});

test('LSD of a constant ln-gain g is (20/ln10)·|g| dB, along a path too', () => {
  const a = mel([
    [-5, -4, -3],
    [-2, -3, -1],
  ]);
  const g = 0.5;
  const b = mel([
    [-5 + g, -4 + g, -3 + g],
    [-2 + g, -3 + g, -1 + g],
  ]);
  assert.ok(Math.abs(lsdAligned(a, b) - LN_TO_DB * g) < 1e-5);
  assert.equal(
    lsdAligned(a, a, [
      [0, 0],
      [1, 1],
      [2, 2],
    ]),
    0,
  );
  // frame 0 of a against frame 1 of a: bins differ by +1 and −1 → 20/ln10 dB
  assert.ok(Math.abs(lsdAligned(a, a, [[0, 1]]) - LN_TO_DB) < 1e-5);
});

test('orientation, resilience and spread', () => {
  assert.equal(METRICS.mcd.orientation, 'lower');
  assert.equal(METRICS.melCosine.orientation, 'higher');
  assert.equal(similarity('mcd', 5), -5);
  assert.equal(similarity('melCosine', 0.9), 0.9);
  // MCD 6 dB after corruption vs 5 dB clean: degraded
  assert.equal(resilience(similarity('mcd', 6), similarity('mcd', 5)), -1);
  assert.deepEqual(metricResilience('mcd', 6, 5), { ratio: 5 / 6, delta: -1 });
  const r = metricResilience('melCosine', 0.8, 0.9);
  assert.ok(Math.abs(r.ratio - 0.8 / 0.9) < 1e-15 && Math.abs(r.delta + 0.1) < 1e-12);
  assert.equal(metricResilience('wer', 0.2, 0.2).ratio, 1);
  assert.equal(metricResilience('wer', 0.2, 0.2).delta, 0);
  // global variance: 0 dB is the recordings'; −2 (over-smoothed) after corruption vs +0.5 clean is worse
  assert.equal(METRICS.gvDb.orientation, 'zero');
  assert.equal(similarity('gvDb', -2), -2);
  assert.equal(similarity('gvDb', 2), -2);
  assert.deepEqual(metricResilience('gvDb', -2, 0.5), { ratio: 0.25, delta: -1.5 });
  assert.throws(() => similarity('nope', 1), /unknown metric 'nope'/);
  const s = spread([1, 2, 3, 4, NaN]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(5 / 3)) < 1e-12);
  assert.deepEqual([s.min, s.max, s.n], [1, 4, 4]);
  assert.deepEqual(spread([7]), { mean: 7, std: 0, min: 7, max: 7, n: 1 });
  assert.equal(spread([]).n, 0);
});
