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
  if (seeds < 1 || utterances < 1 || replicates < 1) throw new Error(`bootstrapPlan: need ≥ 1 seed, utterance and replicate (got ${seeds}, ${utterances}, ${replicates})`);
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
  const v = Array.from(dist).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
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

export type Verdict = 'better' | 'worse' | 'cannot tell';

/**
 * What an interval of (R_SPHL − R_L2) allows, resilience being oriented so that larger is better:
 * entirely above 0 → the pseudo-Huber variant is more resilient ("better"), entirely below → "worse",
 * otherwise (or undefined) → "cannot tell".
 */
export function verdict(ci: readonly [number, number]): Verdict {
  const [lo, hi] = ci;
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return 'cannot tell';
  if (lo > 0) return 'better';
  if (hi < 0) return 'worse';
  return 'cannot tell';
}

/**
 * Training seeds a "cannot tell" interval would need to exclude 0, if its mean held: the half-width
 * w of a seed-level bootstrap interval shrinks as 1/√seeds, so n·(w/|mean|)² seeds bring it below
 * |mean| (rounded up; at least n + 1). Infinity for a mean of 0 or a non-finite interval. A planning
 * figure, not a promise: the mean itself moves with more seeds.
 */
export function seedsToResolve(nSeeds: number, mean: number, ci: readonly [number, number]): number {
  const w = (ci[1] - ci[0]) / 2;
  if (!(Number.isFinite(w) && Number.isFinite(mean)) || mean === 0) return Infinity;
  // less a hair, so that float noise in an exact ratio does not round up a whole seed
  return Math.max(nSeeds + 1, Math.ceil(nSeeds * (w / Math.abs(mean)) ** 2 - 1e-9));
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
