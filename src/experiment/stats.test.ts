import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { bootstrapMeans, bootstrapPlan, estimate, percentileInterval, seedsToResolve, seedUtteranceMean, subtract, verdict } from './stats.js';

test('percentileInterval interpolates order statistics (numpy "linear" quantiles)', () => {
  const v = Array.from({ length: 101 }, (_, i) => 100 - i); // 100…0: input order does not matter
  const [lo, hi] = percentileInterval(v);
  assert.ok(Math.abs(lo - 2.5) < 1e-12 && Math.abs(hi - 97.5) < 1e-12, `${lo}, ${hi}`);
  assert.deepEqual(percentileInterval([3, NaN, 1, 2], 0.5), [1.5, 2.5]);
  assert.deepEqual(percentileInterval([NaN]), [NaN, NaN]);
});

test('seedUtteranceMean weighs seeds equally and skips missing values', () => {
  // seed 0: [1, 3] → 2; seed 1: [10, NaN] → 10; mean 6 (not (1+3+10)/3)
  assert.equal(seedUtteranceMean([1, 3, 10, NaN], 2, 2), 6);
  assert.ok(Number.isNaN(seedUtteranceMean([NaN, NaN], 1, 2)));
});

test('a constant matrix gives a zero-width interval at the constant', () => {
  const plan = bootstrapPlan(3, 7, 500, 1);
  const e = estimate(new Float64Array(21).fill(-2.5), plan);
  assert.deepEqual(e, { mean: -2.5, ci95: [-2.5, -2.5], n: 21 });
});

test('a single value has a mean but no interval', () => {
  const e = estimate([NaN, 3, NaN, NaN], bootstrapPlan(2, 2, 200, 1));
  assert.equal(e.mean, 3);
  assert.equal(e.n, 1);
  assert.ok(e.ci95.every((v) => Number.isNaN(v)));
});

test('pairing: a corrupted run that is its clean run minus a constant has resilience exactly −d with no width', () => {
  const rng = new Rng(5);
  const S = 3;
  const U = 20;
  const clean = Float64Array.from({ length: S * U }, () => 5 + 3 * rng.normal()); // large utterance-to-utterance spread
  const corrupted = clean.map((v) => v - 0.4);
  const plan = bootstrapPlan(S, U, 1000, 2);
  const e = estimate(subtract(corrupted, clean), plan);
  assert.ok(Math.abs(e.mean + 0.4) < 1e-12);
  assert.ok(Math.abs(e.ci95[0] + 0.4) < 1e-12 && Math.abs(e.ci95[1] + 0.4) < 1e-12, `${e.ci95}`);
  // unpaired (the two means bootstrapped separately) the same data would give a wide interval
  const a = bootstrapMeans(corrupted, plan);
  const b = bootstrapMeans(clean, bootstrapPlan(S, U, 1000, 3));
  const [lo, hi] = percentileInterval(subtract(a, b));
  assert.ok(hi - lo > 1, `unpaired width ${hi - lo}`);
});

test('the same plan seed reproduces the same interval; another seed differs', () => {
  const rng = new Rng(9);
  const x = Float64Array.from({ length: 4 * 10 }, () => rng.normal());
  assert.deepEqual(estimate(x, bootstrapPlan(4, 10, 300, 7)), estimate(x, bootstrapPlan(4, 10, 300, 7)));
  assert.notDeepEqual(estimate(x, bootstrapPlan(4, 10, 300, 7)).ci95, estimate(x, bootstrapPlan(4, 10, 300, 8)).ci95);
});

test('one seed, normal utterances: the 95 % interval covers the true mean ≈ 95 % of the time and has width ≈ 2·1.96·σ/√n', () => {
  const rng = new Rng(11);
  const n = 60;
  const sigma = 2;
  const mu = 1.5;
  const reps = 400;
  const plan = bootstrapPlan(1, n, 1000, 12);
  let covered = 0;
  let width = 0;
  for (let r = 0; r < reps; r++) {
    const x = Float64Array.from({ length: n }, () => mu + sigma * rng.normal());
    const { ci95 } = estimate(x, plan);
    if (ci95[0] <= mu && mu <= ci95[1]) covered++;
    width += (ci95[1] - ci95[0]) / reps;
  }
  const coverage = covered / reps;
  // binomial sd of the coverage estimate at 400 reps ≈ 0.011; the percentile bootstrap of a mean at
  // n = 60 slightly undercovers (≈ 0.94), so accept [0.90, 0.985]
  assert.ok(coverage >= 0.9 && coverage <= 0.985, `coverage ${coverage}`);
  const expected = 2 * 1.96 * sigma * Math.sqrt((n - 1) / n) / Math.sqrt(n); // the bootstrap uses the plug-in variance
  assert.ok(Math.abs(width / expected - 1) < 0.05, `width ${width} vs ${expected}`);
});

test('seeds × utterances: the interval width follows √(τ²/S + σ²/(S·U)) and a known difference is found', () => {
  const rng = new Rng(13);
  const S = 20;
  const U = 10;
  const tau = 1; // seed-to-seed sd
  const sigma = 1; // utterance sd within a seed
  const plan = bootstrapPlan(S, U, 1000, 14);
  let width = 0;
  const reps = 60;
  let covered = 0;
  for (let r = 0; r < reps; r++) {
    const x = new Float64Array(S * U);
    for (let s = 0; s < S; s++) {
      const a = tau * rng.normal();
      for (let u = 0; u < U; u++) x[s * U + u] = 0.8 + a + sigma * rng.normal();
    }
    const e = estimate(x, plan);
    width += (e.ci95[1] - e.ci95[0]) / reps;
    if (e.ci95[0] <= 0.8 && 0.8 <= e.ci95[1]) covered++;
  }
  const se = Math.sqrt(tau * tau / S + (sigma * sigma) / (S * U));
  // two-stage resampling adds the within-seed variance once more (σ²/(S·U)): allow +15 %, −10 %
  const ratio = width / (2 * 1.96 * se);
  assert.ok(ratio > 0.9 && ratio < 1.15, `width ratio ${ratio}`);
  assert.ok(covered / reps >= 0.85, `coverage ${covered / reps}`);
});

test('verdict reads the interval: above 0 better, below worse, straddling or undefined cannot tell', () => {
  assert.equal(verdict([0.1, 0.5]), 'better');
  assert.equal(verdict([-0.5, -0.01]), 'worse');
  assert.equal(verdict([-0.1, 0.2]), 'cannot tell');
  assert.equal(verdict([0, 0.2]), 'cannot tell');
  assert.equal(verdict([NaN, NaN]), 'cannot tell');
});

test('seedsToResolve: n·(half-width / |mean|)², at least one more seed; none for a zero mean', () => {
  // 3 seeds, mean 0.1, interval [−0.2, 0.4] (half-width 0.3): 3·9 = 27 seeds
  assert.equal(seedsToResolve(3, 0.1, [-0.2, 0.4]), 27);
  assert.equal(seedsToResolve(3, -0.1, [-0.4, 0.2]), 27);
  // an interval that nearly excludes 0 still asks for one more seed than there are
  assert.equal(seedsToResolve(3, 0.29, [-0.01, 0.59]), 4);
  assert.equal(seedsToResolve(3, 0, [-1, 1]), Infinity);
  assert.equal(seedsToResolve(3, 0.1, [NaN, NaN]), Infinity);
});
