/**
 * Metric orientation, resilience and spread over seeds, for corruption experiments
 * (a model trained on corrupted data vs the same recipe trained on clean data).
 *
 * Every metric has a direction. Its "similarity" is the value itself when higher is better and the
 * negated value when lower is better (MCD 5 dB → similarity −5), so larger similarity is always
 * better. Resilience compares the corrupted-data model with the clean-data model:
 *   ratio  = value_corrupted / value_clean  (higher-is-better metrics)
 *            value_clean / value_corrupted  (lower-is-better metrics)
 *            → 1 = unaffected by the corruption, < 1 = degraded, > 1 = improved;
 *   delta  = similarity_corrupted − similarity_clean  (same units as the metric; < 0 = degraded).
 */

export type Orientation = 'higher' | 'lower';

export interface MetricInfo {
  orientation: Orientation;
  unit: string;
  description: string;
}

/** Every metric `evaluatePair` reports. */
export const METRICS = {
  mcd: { orientation: 'lower', unit: 'dB', description: 'mel-cepstral distortion (c1…c24 of DCT-II of ln-mel) on the DTW path' },
  lsd: { orientation: 'lower', unit: 'dB', description: 'log-spectral distance of ln-mel frames on the DTW path' },
  f0RmseCents: { orientation: 'lower', unit: 'cents', description: 'log-F0 RMSE over DTW pairs voiced in both (YIN)' },
  vde: { orientation: 'lower', unit: 'fraction', description: 'voicing decision error on the DTW path' },
  gpe: { orientation: 'lower', unit: 'fraction', description: 'gross pitch error (>20 %) over pairs voiced in both' },
  meanMelCosine: { orientation: 'higher', unit: 'cosine', description: 'cosine similarity of centred mean ln-mel vectors' },
  melStatsCosine: { orientation: 'higher', unit: 'cosine', description: 'cosine similarity of [centred mean, std] ln-mel statistics' },
  wer: { orientation: 'lower', unit: 'fraction', description: 'word error rate of pocketsphinx output against the text' },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;

function info(metric: string): MetricInfo {
  const m = (METRICS as Record<string, MetricInfo>)[metric];
  if (!m) throw new Error(`unknown metric '${metric}' (expected one of ${Object.keys(METRICS).join(', ')})`);
  return m;
}

/** The value oriented so that larger is better. */
export function similarity(metric: string, value: number): number {
  return info(metric).orientation === 'higher' ? value : -value;
}

export interface Resilience {
  ratio: number;
  delta: number;
}

/** Resilience of `metric` from the corrupted-data and clean-data values (see the module comment). */
export function resilience(metric: string, corrupted: number, clean: number): Resilience {
  const higher = info(metric).orientation === 'higher';
  return {
    ratio: higher ? corrupted / clean : clean / corrupted,
    delta: similarity(metric, corrupted) - similarity(metric, clean),
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
