/**
 * Mel-spectral similarity measures (timbre / speaker proxies without a speaker-embedding model).
 *
 * - `meanMelCosine`: cosine similarity of the two utterances' mean log-mel vectors [nMels], each
 *   first centred by subtracting its own average over bins. Centring removes the overall level
 *   (raw ln-mel values are mostly large negatives, which would make every pair score ≈ 1), so the
 *   score compares spectral SHAPE: 1 = same shape, 0 = unrelated, −1 = inverted.
 * - `melStatsCosine`: the same on the concatenated [centred mean, std over frames] vector.
 * - `lsdAligned`: log-spectral distance in dB over aligned frame pairs:
 *   mean over pairs of √(mean over bins of ((20/ln 10) · (x_k − y_k))²), x, y natural-log mel
 *   magnitudes (20/ln 10 converts a difference of ln magnitudes to dB).
 */
import type { Mel } from '../audio/mel.js';

/** Mean over frames of each mel bin, [nMels]. */
export function meanLogMel(mel: Mel): Float64Array {
  const out = new Float64Array(mel.nMels);
  for (let b = 0; b < mel.nMels; b++) {
    let s = 0;
    for (let t = 0; t < mel.frames; t++) s += mel.data[b * mel.frames + t]!;
    out[b] = s / Math.max(1, mel.frames);
  }
  return out;
}

/** Standard deviation over frames of each mel bin, [nMels]. */
export function stdLogMel(mel: Mel, mean = meanLogMel(mel)): Float64Array {
  const out = new Float64Array(mel.nMels);
  for (let b = 0; b < mel.nMels; b++) {
    let s = 0;
    for (let t = 0; t < mel.frames; t++) {
      const d = mel.data[b * mel.frames + t]! - mean[b]!;
      s += d * d;
    }
    out[b] = Math.sqrt(s / Math.max(1, mel.frames));
  }
  return out;
}

/** Cosine similarity of two equal-length vectors (0 when either is all zeros). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosineSimilarity: lengths differ (${a.length} vs ${b.length})`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

function centred(v: Float64Array): Float64Array {
  const m = v.reduce((a, x) => a + x, 0) / v.length;
  return v.map((x) => x - m);
}

function checkBins(a: Mel, b: Mel, what: string): void {
  if (a.nMels !== b.nMels) throw new Error(`${what}: mel bins differ (${a.nMels} vs ${b.nMels})`);
}

/** Cosine similarity of the centred mean log-mel vectors. */
export function meanMelCosine(gen: Mel, ref: Mel): number {
  checkBins(gen, ref, 'meanMelCosine');
  return cosineSimilarity(centred(meanLogMel(gen)), centred(meanLogMel(ref)));
}

/** Cosine similarity of [centred mean, std] log-mel statistics. */
export function melStatsCosine(gen: Mel, ref: Mel): number {
  checkBins(gen, ref, 'melStatsCosine');
  const stats = (m: Mel) => {
    const mean = meanLogMel(m);
    const out = new Float64Array(2 * m.nMels);
    out.set(centred(mean), 0);
    out.set(stdLogMel(m, mean), m.nMels);
    return out;
  };
  return cosineSimilarity(stats(gen), stats(ref));
}

/** (20 / ln 10): a difference of natural-log magnitudes in dB. */
export const LN_TO_DB = 20 / Math.LN10;

/**
 * LSD (dB) over aligned frame pairs [generated frame, reference frame] (e.g. the MCD DTW path);
 * without a path, frame by frame over the shorter length.
 */
export function lsdAligned(gen: Mel, ref: Mel, path?: readonly (readonly [number, number])[]): number {
  checkBins(gen, ref, 'lsdAligned');
  const pairs = path ?? Array.from({ length: Math.min(gen.frames, ref.frames) }, (_, i) => [i, i] as const);
  if (pairs.length === 0) return NaN;
  let total = 0;
  for (const [i, j] of pairs) {
    let s = 0;
    for (let b = 0; b < gen.nMels; b++) {
      const d = LN_TO_DB * (gen.data[b * gen.frames + i]! - ref.data[b * ref.frames + j]!);
      s += d * d;
    }
    total += Math.sqrt(s / gen.nMels);
  }
  return total / pairs.length;
}
