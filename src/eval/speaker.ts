/**
 * A speaker-identity distance without a trained embedding: how far the mel-cepstral statistics of
 * one utterance lie from those of a speaker's reference recordings.
 *
 * Statistics: per-dimension mean μ and standard deviation σ of c̃(1…24) (SPTK mel-cepstra, mcep.ts)
 * over SPEECH frames — frames whose c̃(0) (ln amplitude) is within `floorDb` (30 dB) of the loudest
 * frame of that utterance — pooled over all frames of the reference set for the speaker.
 * Distance: the 2-Wasserstein distance between the two diagonal Gaussians,
 *   W₂ = √(Σ_d (μ_d − μ'_d)² + (σ_d − σ'_d)²),
 * expressed in dB with MCD's constant (10/ln 10)·√2 so it reads on the same scale as MCD.
 * Content averages out in the mean over a sentence's frames far more than the voice does: the
 * mean cepstrum is the average spectral envelope (vocal tract length, voice quality, synthesizer),
 * σ its dynamics. Validation (scripts/speaker-validation.mjs, docs/SPEAKER.md): same-voice vs
 * other-voice utterances against a voice's references.
 */
import { MCD_DB } from './mcd.js';
import type { MelCepstra } from './mcep.js';

export interface SpeakerStats {
  /** [order] mean of c̃(1…M) over speech frames. */
  mean: Float64Array;
  /** [order] standard deviation of c̃(1…M) over speech frames. */
  std: Float64Array;
  /** Speech frames that entered the statistics. */
  frames: number;
}

/** The speech frames of one utterance: c̃(0) within floorDb of its maximum (ln amplitude → dB: 20/ln 10). */
export function speechFrames(mc: MelCepstra, floorDb = 30): number[] {
  const w = mc.order + 1;
  let max = -Infinity;
  for (let t = 0; t < mc.frames; t++) max = Math.max(max, mc.data[t * w]!);
  const floor = max - (floorDb * Math.LN10) / 20;
  const out: number[] = [];
  for (let t = 0; t < mc.frames; t++) if (mc.data[t * w]! >= floor) out.push(t);
  return out;
}

/** Pooled mean and std of c̃(1…M) over the speech frames of one or more utterances. */
export function speakerStats(utterances: readonly MelCepstra[], floorDb = 30): SpeakerStats {
  if (utterances.length === 0) throw new Error('speakerStats: no utterances');
  const M = utterances[0]!.order;
  const s1 = new Float64Array(M);
  const s2 = new Float64Array(M);
  let n = 0;
  for (const mc of utterances) {
    if (mc.order !== M) throw new Error(`speakerStats: cepstral orders differ (${mc.order} vs ${M})`);
    const w = M + 1;
    for (const t of speechFrames(mc, floorDb)) {
      for (let d = 0; d < M; d++) {
        const v = mc.data[t * w + 1 + d]!;
        s1[d]! += v;
        s2[d]! += v * v;
      }
      n++;
    }
  }
  const mean = s1.map((v) => v / Math.max(1, n));
  const std = s2.map((v, d) => Math.sqrt(Math.max(0, v / Math.max(1, n) - mean[d]! * mean[d]!)));
  return { mean, std, frames: n };
}

/** W₂ distance between two diagonal-Gaussian speaker statistics, in dB (MCD's scale). */
export function speakerDistance(a: SpeakerStats, b: SpeakerStats): number {
  if (a.mean.length !== b.mean.length) throw new Error(`speakerDistance: orders differ (${a.mean.length} vs ${b.mean.length})`);
  if (a.frames === 0 || b.frames === 0) return NaN;
  let s = 0;
  for (let d = 0; d < a.mean.length; d++) {
    const dm = a.mean[d]! - b.mean[d]!;
    const ds = a.std[d]! - b.std[d]!;
    s += dm * dm + ds * ds;
  }
  return MCD_DB * Math.sqrt(s);
}

/** JSON form of speaker statistics (for caches). */
export function speakerStatsToJson(s: SpeakerStats): { mean: number[]; std: number[]; frames: number } {
  return { mean: Array.from(s.mean), std: Array.from(s.std), frames: s.frames };
}

export function speakerStatsFromJson(j: { mean: number[]; std: number[]; frames: number }): SpeakerStats {
  return { mean: Float64Array.from(j.mean), std: Float64Array.from(j.std), frames: j.frames };
}

/**
 * ROC AUC of a distance: P(a same-class distance < an other-class distance), ties counting ½
 * (the Mann–Whitney statistic); NaN when either list is empty.
 */
export function auc(same: readonly number[], other: readonly number[]): number {
  if (same.length === 0 || other.length === 0) return NaN;
  let wins = 0;
  for (const s of same) for (const o of other) wins += s < o ? 1 : s === o ? 0.5 : 0;
  return wins / (same.length * other.length);
}

/**
 * Equal-error rate of thresholding a distance (accept when d ≤ θ): the θ over all observed values
 * where the false-rejection rate of `same` and the false-acceptance rate of `other` are closest,
 * reported as their mean there.
 */
export function equalErrorRate(same: readonly number[], other: readonly number[]): number {
  if (same.length === 0 || other.length === 0) return NaN;
  let best = Infinity;
  let eer = NaN;
  for (const th of [...same, ...other]) {
    const frr = same.filter((d) => d > th).length / same.length;
    const far = other.filter((d) => d <= th).length / other.length;
    if (Math.abs(frr - far) < best) {
      best = Math.abs(frr - far);
      eer = (frr + far) / 2;
    }
  }
  return eer;
}
