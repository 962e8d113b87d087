/**
 * Metric orientation, resilience and spread over seeds, for corruption experiments
 * (a model trained on corrupted data vs the same recipe trained on clean data).
 *
 * Every metric has a direction. Its "similarity" is the value itself when higher is better, the
 * negated value when lower is better (MCD 5 dB → similarity −5), and minus its magnitude when 0 is
 * best (global variance in dB against the recordings: −1 dB over-smoothed and +1 dB too noisy are
 * equally far), so larger similarity is always better. Resilience compares the corrupted-data model with the clean-data model, both scored
 * against the same clean references:
 *   resilience = similarity_corrupted − similarity_clean   (metric units; 0 = unaffected, < 0 = hurt)
 * and, as a unit-free alternative,
 *   ratio = value_corrupted / value_clean (higher-is-better), value_clean / value_corrupted
 *           (lower-is-better) or |value_clean| / |value_corrupted| (zero-is-best):
 *           1 = unaffected, < 1 = hurt, > 1 = improved.
 */

export type Orientation = 'higher' | 'lower' | 'zero';

export interface MetricInfo {
  orientation: Orientation;
  unit: string;
  description: string;
}

/** Every metric `evaluatePair` reports. */
export const METRICS = {
  mcd: { orientation: 'lower', unit: 'dB', description: 'mel-cepstral distortion (SPTK mel-cepstra c1…c24, α 0.455) on the DTW path' },
  speakerDist: {
    orientation: 'lower',
    unit: 'dB',
    description: "speaker distance: W2 of mel-cepstral mean/std to the target speaker's references",
  },
  lsd: { orientation: 'lower', unit: 'dB', description: 'log-spectral distance of ln-mel frames on the DTW path' },
  f0Rmse: { orientation: 'lower', unit: 'cents', description: 'log-F0 RMSE over DTW pairs voiced in both (YIN)' },
  vde: { orientation: 'lower', unit: 'fraction', description: 'voicing decision error on the DTW path' },
  gpe: { orientation: 'lower', unit: 'fraction', description: 'gross pitch error (>20 %) over pairs voiced in both' },
  melCosine: { orientation: 'higher', unit: 'cosine', description: 'cosine similarity of centred mean ln-mel vectors' },
  melStatsCosine: { orientation: 'higher', unit: 'cosine', description: 'cosine similarity of [centred mean, std] ln-mel statistics' },
  wer: { orientation: 'lower', unit: 'fraction', description: 'word error rate of pocketsphinx output against the text' },
  gvDb: {
    orientation: 'zero',
    unit: 'dB',
    description: "global variance of ln-mel over speech frames vs the target's recordings, mean over bands (< 0 over-smoothed)",
  },
  melDist: { orientation: 'lower', unit: 'ln', description: "RMS over bands of mean ln-mel over speech frames − the target's recordings'" },
  mcepFd: {
    orientation: 'lower',
    unit: 'ln²',
    description: "Fréchet distance of mel-cepstral speech frames (c̃1…c̃24, full covariance) to the target's recordings'",
  },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;

function info(metric: string): MetricInfo {
  const m = (METRICS as Record<string, MetricInfo>)[metric];
  if (!m) throw new Error(`unknown metric '${metric}' (expected one of ${Object.keys(METRICS).join(', ')})`);
  return m;
}

/** The value oriented so that larger is better. */
export function similarity(metric: string, value: number): number {
  const o = info(metric).orientation;
  return o === 'higher' ? value : o === 'lower' ? -value : -Math.abs(value);
}

/** simCorrupted − simClean, both already oriented by `similarity` (0 = unaffected, < 0 = hurt). */
export function resilience(simCorrupted: number, simClean: number): number {
  return simCorrupted - simClean;
}

export interface Resilience {
  /** similarity(corrupted) − similarity(clean), in the metric's unit. */
  delta: number;
  /** Goodness ratio: 1 = unaffected, < 1 = hurt. */
  ratio: number;
}

/** Both resilience forms of `metric` from raw (un-oriented) corrupted-data and clean-data values. */
export function metricResilience(metric: string, corrupted: number, clean: number): Resilience {
  const o = info(metric).orientation;
  return {
    delta: resilience(similarity(metric, corrupted), similarity(metric, clean)),
    ratio: o === 'higher' ? corrupted / clean : o === 'lower' ? clean / corrupted : Math.abs(clean) / Math.abs(corrupted),
  };
}

export interface Spread {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  std: number;
  min: number;
  max: number;
  /** Finite values used (NaN / ±Infinity are left out). */
  n: number;
}

/** Mean, std, min and max over seeds (or utterances) of the finite values; NaNs with n = 0 when none. */
export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN, n: 0 };
  const mean = v.reduce((a, x) => a + x, 0) / n;
  const ss = v.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, min: Math.min(...v), max: Math.max(...v), n };
}
