/**
 * Mel-cepstral distortion with DTW alignment (MCD-DTW) between a generated and a reference log-mel.
 *
 * Exactly what is computed:
 * 1. Each frame's natural-log mel vector x (difftts log-mels are ln of mel-filtered STFT magnitude)
 *    is turned into cepstra by an orthonormal DCT-II over the mel bins (src/eval/cepstrum.ts);
 *    c_0 (overall loudness) is dropped and c_1 … c_order are kept (order 24 by default).
 * 2. Frames are aligned by DTW on the Euclidean distance d(i, j) = √Σ_{k=1}^{order} (c_k(i) − c'_k(j))².
 * 3. MCD = (10 / ln 10) · √2 · (1/|path|) Σ_{(i,j) ∈ path} d(i, j)   [dB]
 *    The constant is the usual one for cepstra of a NATURAL-LOG AMPLITUDE spectrum. Because these
 *    cepstra come from a DCT of 80 log-mel bins (not SPTK mel-cepstral analysis of a linear
 *    spectrum) the absolute values are not comparable to published MCDs; compare within difftts.
 */
import type { Mel } from '../audio/mel.js';
import { melCepstra } from './cepstrum.js';
import { dtw, type DtwResult } from './dtw.js';

/** (10 / ln 10) · √2: natural-log cepstral distance → dB. */
export const MCD_DB = (10 / Math.LN10) * Math.SQRT2;

export interface McdOptions {
  /** Number of cepstral coefficients after c_0 (default 24). */
  order?: number;
}

export interface McdResult {
  /** MCD in dB over the DTW path. */
  mcd: number;
  /** The alignment: pairs [generated frame, reference frame]. */
  alignment: DtwResult;
}

/** MCD-DTW between a generated and a reference log-mel (same nMels). */
export function mcdDtw(gen: Mel, ref: Mel, opts: McdOptions = {}): McdResult {
  if (gen.nMels !== ref.nMels) throw new Error(`mcdDtw: mel bins differ (${gen.nMels} vs ${ref.nMels})`);
  const order = opts.order ?? 24;
  const a = melCepstra(gen, order, 1);
  const b = melCepstra(ref, order, 1);
  const alignment = dtw(gen.frames, ref.frames, (i, j) => {
    let s = 0;
    for (let k = 0; k < order; k++) {
      const d = a[i * order + k]! - b[j * order + k]!;
      s += d * d;
    }
    return Math.sqrt(s);
  });
  return { mcd: MCD_DB * alignment.meanCost, alignment };
}
