import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import {
  bootstrapMeans,
  bootstrapPlan,
  estimate,
  holm,
  incompleteBeta,
  percentileInterval,
  seedInference,
  seedMeans,
  seedsForPower,
  seedUtteranceMean,
  seedVerdict,
  studentTCdf,
  studentTQuantile,
  subtract,
  verdict,
} from './stats.js';

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
  const expected = (2 * 1.96 * sigma * Math.sqrt((n - 1) / n)) / Math.sqrt(n); // the bootstrap uses the plug-in variance
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
  const se = Math.sqrt((tau * tau) / S + (sigma * sigma) / (S * U));
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

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('Student t: closed forms for 1 and 2 df, tabulated quantiles, and the incomplete beta it rests on', () => {
  for (const p of [0.6, 0.8, 0.9, 0.95, 0.975, 0.995]) {
    close(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-9, `Cauchy ${p}`);
    close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-9, `2 df ${p}`);
  }
  // t(0.975) at 3, 5, 10, 30 df (any statistics table), and the normal limit 1.95996
  const table: [number, number][] = [
    [3, 3.182446],
    [5, 2.570582],
    [10, 2.228139],
    [30, 2.042272],
    [1e5, 1.959988],
  ];
  for (const [df, q] of table) close(studentTQuantile(0.975, df), q, 2e-6, `${df} df`);
  close(studentTQuantile(0.025, 4), -studentTQuantile(0.975, 4), 1e-12, 'symmetry');
  close(studentTCdf(studentTQuantile(0.9, 7), 7), 0.9, 1e-10, 'CDF ∘ quantile');
  // I_x(a, 1) = x^a and I_x(1, b) = 1 − (1 − x)^b
  close(incompleteBeta(0.3, 2.5, 1), 0.3 ** 2.5, 1e-13, 'I_x(a,1)');
  close(incompleteBeta(0.7, 1, 3.5), 1 - 0.3 ** 3.5, 1e-13, 'I_x(1,b)');
});

test('seedInference: per-seed means, t-interval, two-sided p, TOST p against a margin', () => {
  assert.deepEqual(Array.from(seedMeans([1, 3, NaN, 10, NaN, NaN], 3, 2)), [2, 10, NaN]);
  // per-seed differences 1, 2, 3: mean 2, sd 1, se 1/√3; t(0.975, 2) = 4.302653
  const e = seedInference([1, 2, 3, NaN], 3);
  assert.equal(e.k, 3);
  close(e.ci95[0], 2 - 4.302653 / Math.sqrt(3), 1e-6, 'lo');
  close(e.ci95[1], 2 + 4.302653 / Math.sqrt(3), 1e-6, 'hi');
  close(e.ci90[1], 2 + 2.919986 / Math.sqrt(3), 1e-6, '90 %');
  // t = 2√3 with 2 df: p = 2(1 − F(2√3)); F for 2 df is ½ + t / (2√(t² + 2))
  const t = 2 * Math.sqrt(3);
  close(e.p, 1 - t / Math.sqrt(t * t + 2), 1e-10, 'p');
  // TOST with margin 3: the binding side is H0 mean ≥ 3: t = (3 − 2)/se
  const tu = 1 / (1 / Math.sqrt(3));
  close(e.tostP, 1 - (0.5 + tu / (2 * Math.sqrt(tu * tu + 2))), 1e-10, 'TOST p');
  assert.ok(Number.isNaN(seedInference([1, 2, 3]).tostP), 'no margin, no TOST');
  assert.deepEqual(seedInference([5]).ci95.map(Number.isNaN), [true, true]);
  const flat = seedInference([0.5, 0.5, 0.5], 1);
  assert.deepEqual([flat.ci95, flat.p, flat.tostP], [[0.5, 0.5], 0, 0]);
});

test('seedVerdict reads p-values as the intervals read: excludes 0 → better/worse, 90 % inside ±margin → equivalent', () => {
  const rng = new Rng(21);
  for (let r = 0; r < 300; r++) {
    const k = 3 + (r % 8);
    const shift = 0.6 * rng.normal();
    const margin = 0.2 + rng.uniform();
    const e = seedInference(
      Array.from({ length: k }, () => shift + 0.5 * rng.normal()),
      margin,
    );
    const byInterval =
      verdict(e.ci95) !== 'cannot tell' ? verdict(e.ci95) : e.ci90[0] > -margin && e.ci90[1] < margin ? 'equivalent' : 'cannot tell';
    assert.equal(seedVerdict(e.mean, e.p, e.tostP), byInterval, `k ${k}: ${JSON.stringify(e)}`);
  }
});

test('holm: step-down adjusted p-values (monotone, capped at 1, NaN left out of the family)', () => {
  assert.deepEqual(holm([0.01, 0.04, 0.03, NaN, 0.5]), [0.04, 0.09, 0.09, NaN, 0.5]);
  assert.deepEqual(holm([0.2, 0.6]), [0.4, 0.6]);
  holm([0.3, 0.4, 0.5]).forEach((v) => close(v, 0.9, 1e-15, 'monotone'));
  assert.deepEqual(holm([]), []);
});

test('seedsForPower: the t-corrected sample size, and its power checked by simulation', () => {
  // normal theory (1.96 + 0.8416)² = 7.85 for d = s; with t quantiles the known answer is 10
  assert.equal(seedsForPower(1, 1), 10);
  assert.equal(seedsForPower(1, 0.5), 34);
  assert.equal(seedsForPower(1, 0), Infinity);
  assert.equal(seedsForPower(0, 1), 2);
  // simulated power of the t-test at the returned k is ≥ 0.78 and at k − 2 below 0.8
  const rng = new Rng(22);
  const power = (k: number, d: number, equivalence: boolean, margin = 0) => {
    let hits = 0;
    const reps = 3000;
    for (let r = 0; r < reps; r++) {
      const e = seedInference(
        Array.from({ length: k }, () => d + rng.normal()),
        equivalence ? margin : null,
      );
      if (equivalence ? e.tostP < 0.05 : e.p < 0.05) hits++;
    }
    return hits / reps;
  };
  const k = seedsForPower(1, 0.8);
  assert.ok(power(k, 0.8, false) >= 0.78, `power at ${k}`);
  assert.ok(power(k - 2, 0.8, false) < 0.8, `power at ${k - 2}`);
  const ke = seedsForPower(1, 1, { equivalence: true });
  assert.ok(power(ke, 0, true, 1) >= 0.78, `equivalence power at ${ke}`);
});

test('coverage by simulation: the seed-level t-interval covers ≥ 93 % at nominal 95 % for 3…16 seeds; the two-stage bootstrap does not at 3', () => {
  // the variance components issue 26 measured: seed SD 0.09 dB, utterance SD 0.27 dB, 38 utterances
  const rng = new Rng(23);
  const tau = 0.09;
  const sigma = 0.27;
  const U = 38;
  const truth = -0.03;
  const draw = (k: number) => {
    const x = new Float64Array(k * U);
    for (let s = 0; s < k; s++) {
      const a = truth + tau * rng.normal();
      for (let u = 0; u < U; u++) x[s * U + u] = a + sigma * rng.normal();
    }
    return x;
  };
  for (let k = 3; k <= 16; k++) {
    const reps = 1000;
    let covered = 0;
    for (let r = 0; r < reps; r++) {
      const { ci95 } = seedInference(seedMeans(draw(k), k, U));
      if (ci95[0] <= truth && truth <= ci95[1]) covered++;
    }
    // binomial sd at 1000 reps ≈ 0.007: ≥ 0.93 is > 2.8 sd below a true 0.95
    assert.ok(covered / reps >= 0.93, `k = ${k}: coverage ${covered / reps}`);
  }
  const plan = bootstrapPlan(3, U, 400, 24);
  let covered = 0;
  const reps = 300;
  for (let r = 0; r < reps; r++) {
    const { ci95 } = estimate(draw(3), plan);
    if (ci95[0] <= truth && truth <= ci95[1]) covered++;
  }
  assert.ok(covered / reps < 0.9, `bootstrap over 3 seeds covers ${covered / reps}`);
});
