/**
 * Uncertainty for the corruption experiment: a two-stage (hierarchical) paired bootstrap over
 * training seeds × evaluation utterances, and percentile intervals.
 *
 * The data of one quantity is a matrix x[s, u] (s = training seed, u = evaluation utterance, row-major
 * [seeds, utterances]); NaN marks a missing value (e.g. an F0 error with no frame voiced in both).
 * Its estimate is the mean over seeds of the mean over utterances (every seed weighs the same).
 * One bootstrap replicate draws S seeds with replacement and, for each drawn seed, U utterances with
 * replacement, and recomputes that mean. Differences stay PAIRED because every quantity of an
 * experiment is resampled with the same draws (`BootstrapPlan`): the resilience of (loss, f) is the
 * matrix sim(loss, f)[s, u] − sim(loss, 0)[s, u] of the same training seed, utterance and synthesis
 * seed, and R_SPHL − R_L2 subtracts two such matrices before resampling.
 *
 * With few seeds the seed stage sees few distinct values, so intervals are narrower than the truth
 * (3 seeds: a percentile interval of a 3-point resampling); they are what the data allow, not more.
 */
import { Rng } from '../util/rng.js';

/** The index draws of B bootstrap replicates, shared by every quantity of an experiment. */
export interface BootstrapPlan {
  seeds: number;
  utterances: number;
  replicates: number;
  /** [replicates, seeds]: the seed drawn for slot k of replicate b. */
  seedDraws: Int32Array;
  /** [replicates, seeds, utterances]: the utterances drawn within slot k of replicate b. */
  uttDraws: Int32Array;
}

/** Draws B replicates for an S × U design from a seeded RNG (same seed → same intervals). */
export function bootstrapPlan(seeds: number, utterances: number, replicates = 2000, seed = 20240325): BootstrapPlan {
  if (seeds < 1 || utterances < 1 || replicates < 1)
    throw new Error(`bootstrapPlan: need ≥ 1 seed, utterance and replicate (got ${seeds}, ${utterances}, ${replicates})`);
  const rng = new Rng(seed);
  const seedDraws = new Int32Array(replicates * seeds);
  const uttDraws = new Int32Array(replicates * seeds * utterances);
  for (let b = 0; b < replicates; b++) {
    for (let k = 0; k < seeds; k++) {
      seedDraws[b * seeds + k] = rng.int(seeds);
      const base = (b * seeds + k) * utterances;
      for (let j = 0; j < utterances; j++) uttDraws[base + j] = rng.int(utterances);
    }
  }
  return { seeds, utterances, replicates, seedDraws, uttDraws };
}

/** Mean over seeds of the mean over that seed's finite utterance values (seeds with none are skipped); NaN if no value. */
export function seedUtteranceMean(x: ArrayLike<number>, seeds: number, utterances: number): number {
  // the original sample is the replicate that draws every seed and utterance once
  const identity: BootstrapPlan = {
    seeds,
    utterances,
    replicates: 1,
    seedDraws: Int32Array.from({ length: seeds }, (_, k) => k),
    uttDraws: Int32Array.from({ length: seeds * utterances }, (_, i) => i % utterances),
  };
  return bootstrapMeans(x, identity)[0]!;
}

/** The bootstrap distribution [replicates] of `seedUtteranceMean` under `plan` (NaN where a replicate drew no value). */
export function bootstrapMeans(x: ArrayLike<number>, plan: BootstrapPlan): Float64Array {
  const { seeds: S, utterances: U, replicates: B } = plan;
  checkShape(x, S, U);
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    let n = 0;
    for (let k = 0; k < S; k++) {
      const row = plan.seedDraws[b * S + k]! * U;
      const base = (b * S + k) * U;
      let a = 0;
      let m = 0;
      for (let j = 0; j < U; j++) {
        const v = x[row + plan.uttDraws[base + j]!]!;
        if (Number.isFinite(v)) {
          a += v;
          m++;
        }
      }
      if (m > 0) {
        sum += a / m;
        n++;
      }
    }
    out[b] = n > 0 ? sum / n : NaN;
  }
  return out;
}

/**
 * Percentile interval of a bootstrap distribution: the (1−level)/2 and (1+level)/2 quantiles
 * (linear interpolation between order statistics), NaNs ignored; [NaN, NaN] when none is finite.
 */
export function percentileInterval(dist: ArrayLike<number>, level = 0.95): [number, number] {
  const v = Array.from(dist)
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
  if (v.length === 0) return [NaN, NaN];
  const q = (p: number) => {
    const h = (v.length - 1) * p;
    const i = Math.floor(h);
    const f = h - i;
    return i + 1 < v.length ? v[i]! * (1 - f) + v[i + 1]! * f : v[i]!;
  };
  return [q((1 - level) / 2), q((1 + level) / 2)];
}

export interface Estimate {
  /** Point estimate: mean over seeds of the mean over utterances. */
  mean: number;
  /** 95 % percentile bootstrap interval. */
  ci95: [number, number];
  /** Finite values that entered the estimate. */
  n: number;
}

/**
 * Point estimate, 95 % interval and count of one [seeds, utterances] matrix under `plan`. A single
 * value has no interval ([NaN, NaN]): resampling it would claim a certainty one observation cannot give.
 */
export function estimate(x: ArrayLike<number>, plan: BootstrapPlan): Estimate {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) n++;
  const ci95: [number, number] = n >= 2 ? percentileInterval(bootstrapMeans(x, plan)) : [NaN, NaN];
  return { mean: seedUtteranceMean(x, plan.seeds, plan.utterances), ci95, n };
}

export type Verdict = 'better' | 'worse' | 'equivalent' | 'cannot tell';

/**
 * What a 95 % interval of (R_SPHL − R_L2) alone allows, resilience being oriented so that larger is
 * better: entirely above 0 → "better", entirely below → "worse", otherwise (or undefined) → "cannot
 * tell". `seedVerdict` adds equivalence and reads p-values (so that Holm's correction applies).
 */
export function verdict(ci: readonly [number, number]): Verdict {
  const [lo, hi] = ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return 'cannot tell';
  if (lo > 0) return 'better';
  if (hi < 0) return 'worse';
  return 'cannot tell';
}

/** Element-wise a − b of two equally shaped matrices (NaN where either is missing). */
export function subtract(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  if (a.length !== b.length) throw new Error(`subtract: lengths differ (${a.length} vs ${b.length})`);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! - b[i]!;
  return out;
}

function checkShape(x: ArrayLike<number>, seeds: number, utterances: number): void {
  if (x.length !== seeds * utterances) throw new Error(`bootstrap: expected ${seeds}×${utterances} values, got ${x.length}`);
}

// ---------------------------------------------------------------------------------------------
// Seed-level inference. Between-seed variance dominates these experiments (a training seed moves
// every utterance of a run together), so decisions rest on the k per-seed means of the paired
// differences: a t-interval with k − 1 degrees of freedom (exact for normal seed effects, 95 %
// coverage at any k), a two-one-sided-tests (TOST) equivalence test against a margin fixed before
// the run, Holm's step-down correction over the secondary metrics, and the seeds 80 % power would
// take. The two-stage bootstrap above stays as a description of the utterance-level spread.
// ---------------------------------------------------------------------------------------------

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  // the fraction converges fast for x < (a + 1)/(a + b + 2); use the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) otherwise
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(a * Math.log(x) + b * Math.log(1 - x) - lnGamma(a) - lnGamma(b) + lnGamma(a + b)) / a;
  const tiny = 1e-300;
  let f = 1;
  let C = 1;
  let D = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    const num =
      i === 0
        ? 1
        : i % 2 === 0
          ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m))
          : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    D = 1 + num * D;
    if (Math.abs(D) < tiny) D = tiny;
    D = 1 / D;
    C = 1 + num / C;
    if (Math.abs(C) < tiny) C = tiny;
    const cd = C * D;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-15) break;
  }
  return front * (f - 1);
}

/** P(T ≤ t) for Student's t with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

const quantiles = new Map<string, number>();

/** The p-quantile of Student's t with df degrees of freedom (bisection on the CDF, to 1e-12; memoised). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const key = `${p}/${df}`;
  const hit = quantiles.get(key);
  if (hit !== undefined) return hit;
  const q = tQuantileUpper(p, df);
  if (quantiles.size < 10000) quantiles.set(key, q);
  return q;
}

function tQuantileUpper(p: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mean over each seed's finite utterance values ([seeds]; NaN for a seed with none). */
export function seedMeans(x: ArrayLike<number>, seeds: number, utterances: number): Float64Array {
  checkShape(x, seeds, utterances);
  const out = new Float64Array(seeds);
  for (let s = 0; s < seeds; s++) {
    let a = 0;
    let m = 0;
    for (let u = 0; u < utterances; u++) {
      const v = x[s * utterances + u]!;
      if (Number.isFinite(v)) {
        a += v;
        m++;
      }
    }
    out[s] = m > 0 ? a / m : NaN;
  }
  return out;
}

/** What k per-seed values allow about their mean. */
export interface SeedInference {
  /** Seeds with a value. */
  k: number;
  mean: number;
  /** Sample standard deviation of the per-seed values (k − 1). */
  sd: number;
  /** 95 % and 90 % t-intervals (k − 1 df); [NaN, NaN] with fewer than 2 seeds. */
  ci95: [number, number];
  ci90: [number, number];
  /** Two-sided p-value of mean = 0 (one-sample t-test). */
  p: number;
  /** TOST p-value of |mean| ≥ margin (the larger of the two one-sided p-values); NaN without a margin. */
  tostP: number;
}

/**
 * t-interval, t-test and TOST of the mean of per-seed values (e.g. per-seed paired differences
 * R_SPHL − R_L2); NaN values (seeds without data) are left out. Zero spread gives a zero-width
 * interval and p = 0 for a non-zero mean (1 for a zero one).
 */
export function seedInference(perSeed: ArrayLike<number>, margin?: number | null): SeedInference {
  const v = Array.from(perSeed).filter((x) => Number.isFinite(x));
  const k = v.length;
  const mean = k ? v.reduce((a, x) => a + x, 0) / k : NaN;
  const none: [number, number] = [NaN, NaN];
  if (k < 2) return { k, mean, sd: NaN, ci95: none, ci90: none, p: NaN, tostP: NaN };
  const sd = Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (k - 1));
  const se = sd / Math.sqrt(k);
  const df = k - 1;
  const half = (level: number) => studentTQuantile(1 - (1 - level) / 2, df) * se;
  const ci = (level: number): [number, number] => [mean - half(level), mean + half(level)];
  const pOf = (t: number) => (Number.isNaN(t) ? 1 : 2 * (1 - studentTCdf(Math.abs(t), df)));
  const upper = (t: number) => (Number.isNaN(t) ? 0.5 : 1 - studentTCdf(t, df)); // P(T ≥ t)
  const tostP =
    margin !== undefined && margin !== null && margin > 0
      ? Math.max(upper((mean + margin) / se), upper((margin - mean) / se)) // H0: mean ≤ −margin, H0: mean ≥ +margin
      : NaN;
  return { k, mean, sd, ci95: ci(0.95), ci90: ci(0.9), p: Math.min(1, pOf(mean / se)), tostP };
}

/**
 * Holm's step-down adjustment of a family of p-values (family-wise error ≤ α when an adjusted
 * p ≤ α is called significant): sorted ascending, p_(i) · (m − i + 1), made monotone, capped at 1.
 * NaN p-values stay NaN and do not count towards m.
 */
export function holm(p: readonly number[]): number[] {
  const idx = p
    .map((v, i) => [v, i] as const)
    .filter(([v]) => Number.isFinite(v))
    .sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = p.map(() => NaN);
  let run = 0;
  idx.forEach(([v, i], r) => {
    run = Math.max(run, Math.min(1, (m - r) * v));
    out[i] = run;
  });
  return out;
}

/**
 * The four verdicts of a difference oriented so that > 0 is better, from its (possibly adjusted)
 * p-values at level α: a difference from 0 decides first ("better" / "worse": the 95 % interval
 * excludes 0), else equivalence ("equivalent": both one-sided tests reject |Δ| ≥ margin, i.e. the
 * 90 % interval lies inside ±margin), else "cannot tell". Unadjusted, this reads exactly as the
 * intervals do.
 */
export function seedVerdict(mean: number, p: number, tostP: number, alpha = 0.05): Verdict {
  if (Number.isFinite(p) && p < alpha && mean !== 0) return mean > 0 ? 'better' : 'worse';
  if (Number.isFinite(tostP) && tostP < alpha) return 'equivalent';
  return 'cannot tell';
}

/**
 * Seeds for power 1 − β of a two-sided one-sample t-test at level α to detect a true mean |d|
 * with per-seed SD s: the least k ≥ 2 with k ≥ ((t_{1−α/2, k−1} + t_{1−β, k−1}) · s / d)²
 * (the normal-theory k ≈ ((z_{1−α/2} + z_{1−β}) s/d)², corrected by t quantiles at the k it gives).
 * With `equivalence` the same for TOST to show |mean| < d when the true mean is 0:
 * k ≥ ((t_{1−α, k−1} + t_{1−β/2, k−1}) · s / d)². Infinity when d is 0 or not finite.
 */
export function seedsForPower(sd: number, d: number, opts: { power?: number; alpha?: number; equivalence?: boolean } = {}): number {
  const power = opts.power ?? 0.8;
  const alpha = opts.alpha ?? 0.05;
  if (!(Number.isFinite(sd) && Number.isFinite(d)) || d === 0) return Infinity;
  if (sd === 0) return 2;
  const [qa, qb] = opts.equivalence ? [1 - alpha, 1 - (1 - power) / 2] : [1 - alpha / 2, power];
  const enough = (k: number) => k >= (((studentTQuantile(qa, k - 1) + studentTQuantile(qb, k - 1)) * sd) / Math.abs(d)) ** 2;
  let hi = 2;
  while (!enough(hi)) {
    if (hi > 1e7) return Infinity;
    hi *= 2;
  }
  let lo = Math.max(2, hi / 2);
  if (enough(lo)) return lo;
  // enough(lo) false, enough(hi) true: the least k in (lo, hi]
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
