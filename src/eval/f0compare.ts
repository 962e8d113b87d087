/**
 * Comparing two pitch tracks frame by frame, either along a DTW path (pairs [generated, reference],
 * e.g. the MCD alignment) or, without a path, index by index over the shorter length.
 *
 * - log-F0 RMSE in cents: √mean over pairs voiced in BOTH of (1200 · log₂(f_gen / f_ref))²
 *   (100 cents = one semitone; NaN when no pair is voiced in both)
 * - voicing decision error (VDE): fraction of pairs whose voiced/unvoiced decisions differ
 * - gross pitch error (GPE): among pairs voiced in both, the fraction deviating by more than 20 %
 */
import type { PitchTrack } from './yin.js';

export interface F0Comparison {
  f0RmseCents: number;
  vde: number;
  gpe: number;
  /** Number of compared pairs, and of those voiced in both. */
  pairs: number;
  bothVoiced: number;
}

export function compareF0(gen: PitchTrack, ref: PitchTrack, path?: readonly (readonly [number, number])[]): F0Comparison {
  const pairs: readonly (readonly [number, number])[] =
    path ?? Array.from({ length: Math.min(gen.f0.length, ref.f0.length) }, (_, i) => [i, i] as const);
  let sq = 0;
  let both = 0;
  let differ = 0;
  let gross = 0;
  for (const [i, j] of pairs) {
    const vg = gen.voiced[i] === 1;
    const vr = ref.voiced[j] === 1;
    if (vg !== vr) differ++;
    if (vg && vr) {
      const c = 1200 * Math.log2(gen.f0[i]! / ref.f0[j]!);
      sq += c * c;
      both++;
      if (Math.abs(gen.f0[i]! / ref.f0[j]! - 1) > 0.2) gross++;
    }
  }
  const n = pairs.length;
  return {
    f0RmseCents: both > 0 ? Math.sqrt(sq / both) : NaN,
    vde: n > 0 ? differ / n : NaN,
    gpe: both > 0 ? gross / both : NaN,
    pairs: n,
    bothVoiced: both,
  };
}
