/**
 * Naturalness without listeners: how far a SET of utterances lies from the target's recordings, with
 * no recording of the same text needed (so it works on unseen sentences). Three measures:
 *
 * - Global variance (GV, Toda & Tokuda 2007): over-smoothed synthesis has too little variance of its
 *   spectral features over time. Per utterance and mel band b, v_b = variance over the utterance's
 *   speech frames of its ln-mel value; the set's GV in band b is the mean over utterances of
 *   10·log10 v_b (the log of a geometric mean: the set value is then exactly the mean of the
 *   per-utterance values, and a few loud utterances do not dominate). Reported against the
 *   recordings as Δ_b = GV_b(set) − GV_b(recordings) dB per band, and `gvDb` = the mean of Δ_b over
 *   bands: < 0 over-smoothed, > 0 noisier than the recordings, 0 = the recordings' own.
 * - Mean log-mel distance (`melDist`): per utterance, the root mean square over bands of
 *   (its mean ln-mel over speech frames − the recordings' mean ln-mel over all their speech frames),
 *   in ln units; averaged over utterances. Content spreads it (other recordings score > 0), a
 *   wrong spectral tilt or colour adds to it.
 * - Fréchet distance (`fd`, as FID/FAD compute it for embeddings) between Gaussians fitted to
 *   mel-cepstral frames: c̃(1…24) (SPTK analysis, mcep.ts, α = mcepAlpha(rate); c̃0, the loudness,
 *   dropped) over speech frames (c̃0 within 30 dB of the utterance's loudest frame, speaker.ts),
 *   full covariance:  FD = ‖μ_a − μ_b‖² + tr(Σ_a + Σ_b − 2 (Σ_a^½ Σ_b Σ_a^½)^½)  in ln² units (the
 *   squared 2-Wasserstein distance of the two Gaussians; speaker.ts's distance is its
 *   diagonal-covariance square root in dB). Per utterance (`mcepFd`: the utterance's frames against
 *   the recordings') and per set (`setFd`: all the set's frames pooled).
 *
 * Speech frames of a log-mel: frame level 10·log10(mean over bands of mel power) within `floorDb`
 * (30 dB) of the utterance's loudest frame, so pauses and their length do not count.
 * Validation (docs/METRICS.md, scripts/naturalness-validation.mjs): recordings vs disjoint
 * recordings, Griffin-Lim resyntheses, blurred and noised mels, model output, a synthetic voice.
 */
import { DEFAULT_MEL, logMel, melFilterbank, type Mel, type MelConfig } from '../audio/mel.js';
import { writeLinePlotPng } from '../util/plot.js';
import { mcepAlpha, melCepstrum, type MelCepstra } from './mcep.js';
import { speechFrames } from './speaker.js';

/** Frames of a ln-mel whose level (dB of the mean mel power) is within floorDb of the loudest. */
export function melSpeechFrames(mel: Mel, floorDb = 30): number[] {
  const level = new Float64Array(mel.frames);
  let max = -Infinity;
  for (let t = 0; t < mel.frames; t++) {
    let s = 0;
    for (let b = 0; b < mel.nMels; b++) s += Math.exp(2 * mel.data[b * mel.frames + t]!);
    level[t] = 10 * Math.log10(s / mel.nMels + 1e-30);
    max = Math.max(max, level[t]!);
  }
  const out: number[] = [];
  for (let t = 0; t < mel.frames; t++) if (level[t]! >= max - floorDb) out.push(t);
  return out;
}

/** A Gaussian's sufficient statistics over frames of dimension `dim`: Σx [dim], Σxxᵀ [dim·dim] row-major, count. */
export interface FrameSums {
  dim: number;
  sum: Float64Array;
  outer: Float64Array;
  n: number;
}

export function emptySums(dim: number): FrameSums {
  return { dim, sum: new Float64Array(dim), outer: new Float64Array(dim * dim), n: 0 };
}

/** Adds b into a (same dimension). */
export function addSums(a: FrameSums, b: FrameSums): FrameSums {
  if (a.dim !== b.dim) throw new Error(`addSums: dimensions differ (${a.dim} vs ${b.dim})`);
  for (let i = 0; i < a.dim; i++) a.sum[i]! += b.sum[i]!;
  for (let i = 0; i < a.outer.length; i++) a.outer[i]! += b.outer[i]!;
  a.n += b.n;
  return a;
}

/** The c̃(1…M) speech frames of mel-cepstra as frame sums. */
export function mcepSums(mc: MelCepstra, floorDb = 30): FrameSums {
  const M = mc.order;
  const s = emptySums(M);
  const w = M + 1;
  const x = new Float64Array(M);
  for (const t of speechFrames(mc, floorDb)) {
    for (let d = 0; d < M; d++) x[d] = mc.data[t * w + 1 + d]!;
    for (let i = 0; i < M; i++) {
      s.sum[i]! += x[i]!;
      for (let j = 0; j < M; j++) s.outer[i * M + j]! += x[i]! * x[j]!;
    }
    s.n++;
  }
  return s;
}

export interface Gaussian {
  mean: Float64Array;
  /** [dim·dim] row-major, the unbiased (n − 1) estimate. */
  cov: Float64Array;
  n: number;
}

/** Mean and covariance from frame sums; null with fewer than 2 frames. */
export function gaussianOf(s: FrameSums): Gaussian | null {
  if (s.n < 2) return null;
  const D = s.dim;
  const mean = s.sum.map((v) => v / s.n);
  const cov = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) cov[i * D + j] = (s.outer[i * D + j]! - s.n * mean[i]! * mean[j]!) / (s.n - 1);
  return { mean, cov, n: s.n };
}

/**
 * Eigen-decomposition of a symmetric n×n matrix (row-major) by cyclic Jacobi rotations:
 * A = V diag(values) Vᵀ, V's columns the eigenvectors. Accurate to rounding for the 24×24
 * covariances here (each sweep squares the off-diagonal norm's decay).
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += A[i * n + i]! * A[i * n + i]!;
      for (let j = i + 1; j < n; j++) off += A[i * n + j]! * A[i * n + j]!;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        // the rotation angle that zeroes A[p, q]: tan 2θ = 2 a_pq / (a_qq − a_pp), the smaller root
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i]!;
  return { values, vectors: V };
}

/**
 * The principal square root of a symmetric positive semi-definite matrix, V diag(√λ) Vᵀ. Eigenvalues
 * that rounding pushed below 0 (a rank-deficient covariance) count as 0.
 */
export function sqrtmPsd(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors: V } = symmetricEigen(a, n);
  const r = values.map((v) => Math.sqrt(Math.max(0, v)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += V[i * n + k]! * r[k]! * V[j * n + k]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j]! += aik * b[k * n + j]!;
    }
  return out;
}

/**
 * Fréchet distance between two Gaussians: ‖μ_a − μ_b‖² + tr Σ_a + tr Σ_b − 2 tr (Σ_a^½ Σ_b Σ_a^½)^½.
 * The cross term uses the symmetric form (its matrix is PSD, so both square roots are of symmetric
 * PSD matrices: no complex parts to drop, unlike sqrtm(Σ_a Σ_b)). Clamped at 0 against rounding.
 */
export function frechetDistance(a: Gaussian, b: Gaussian): number {
  const D = a.mean.length;
  if (b.mean.length !== D) throw new Error(`frechetDistance: dimensions differ (${D} vs ${b.mean.length})`);
  let dm = 0;
  for (let i = 0; i < D; i++) dm += (a.mean[i]! - b.mean[i]!) ** 2;
  let tr = 0;
  for (let i = 0; i < D; i++) tr += a.cov[i * D + i]! + b.cov[i * D + i]!;
  const s = sqrtmPsd(a.cov, D);
  const m = matmul(matmul(s, b.cov, D), s, D);
  for (let i = 0; i < D; i++) for (let j = i + 1; j < D; j++) m[i * D + j] = m[j * D + i] = (m[i * D + j]! + m[j * D + i]!) / 2;
  const cross = symmetricEigen(m, D).values.reduce((acc, v) => acc + Math.sqrt(Math.max(0, v)), 0);
  return Math.max(0, dm + tr - 2 * cross);
}

/** One utterance's contribution: ln-mel statistics over its speech frames and its mel-cepstral frame sums. */
export interface UtteranceNaturalness {
  /** [nMels] 10·log10 of the variance over speech frames of each band's ln-mel. */
  logVar: number[];
  /** [nMels] mean ln-mel over speech frames. */
  mean: number[];
  /** Speech frames of the mel. */
  frames: number;
  /** Mel-cepstral speech-frame sums (c̃1…M). */
  mcep: FrameSums;
}

/** Per-utterance statistics of a ln-mel and its mel-cepstra (null when fewer than 2 speech frames). */
export function utteranceNaturalness(mel: Mel, mc: MelCepstra, floorDb = 30): UtteranceNaturalness | null {
  const frames = melSpeechFrames(mel, floorDb);
  if (frames.length < 2) return null;
  const mean: number[] = [];
  const logVar: number[] = [];
  for (let b = 0; b < mel.nMels; b++) {
    let s = 0;
    for (const t of frames) s += mel.data[b * mel.frames + t]!;
    const m = s / frames.length;
    let v = 0;
    for (const t of frames) v += (mel.data[b * mel.frames + t]! - m) ** 2;
    mean.push(m);
    // a band flat to the last bit (a digital-silence floor) would be −∞ dB: 1e-12 ln² keeps it finite
    logVar.push(10 * Math.log10(v / (frames.length - 1) + 1e-12));
  }
  return { logVar, mean, frames: frames.length, mcep: mcepSums(mc, floorDb) };
}

/**
 * The statistics of a waveform as evaluate measures every utterance: the ln-mel of the audio itself
 * (so generated and recorded speech share one front end) and its SPTK mel-cepstra (`mc` when the
 * caller already has them, e.g. from MCD).
 */
export function wavNaturalness(wav: Float32Array, cfg: MelConfig = DEFAULT_MEL, mc?: MelCepstra): UtteranceNaturalness | null {
  return utteranceNaturalness(logMel(wav, cfg), mc ?? melCepstrum(wav, { alpha: mcepAlpha(cfg.sampleRate) }));
}

/** A set's statistics, the reference side of every comparison (the target's recordings). */
export interface NaturalnessRef {
  /** [nMels] mean over utterances of 10·log10 per-utterance variance (dB of ln² units). */
  gv: number[];
  /** [nMels] mean ln-mel over all speech frames of the set (frame-weighted). */
  mean: number[];
  /** Full-covariance Gaussian of the set's mel-cepstral speech frames. */
  mcep: { mean: number[]; cov: number[]; n: number };
  utterances: number;
}

/** Pools utterances into a set's statistics. */
export function naturalnessRef(utts: readonly UtteranceNaturalness[]): NaturalnessRef {
  const u = utts.filter((x) => x.mcep.n > 0);
  if (u.length === 0) throw new Error('naturalnessRef: no utterance with speech frames');
  const B = u[0]!.logVar.length;
  const gv = new Array<number>(B).fill(0);
  const mean = new Array<number>(B).fill(0);
  let frames = 0;
  const sums = emptySums(u[0]!.mcep.dim);
  for (const x of u) {
    for (let b = 0; b < B; b++) {
      gv[b]! += x.logVar[b]! / u.length;
      mean[b]! += x.mean[b]! * x.frames;
    }
    frames += x.frames;
    addSums(sums, x.mcep);
  }
  const g = gaussianOf(sums)!;
  return {
    gv,
    mean: mean.map((v) => v / frames),
    mcep: { mean: Array.from(g.mean), cov: Array.from(g.cov), n: g.n },
    utterances: u.length,
  };
}

const refGaussian = (r: NaturalnessRef): Gaussian => ({
  mean: Float64Array.from(r.mcep.mean),
  cov: Float64Array.from(r.mcep.cov),
  n: r.mcep.n,
});

/** The per-utterance measures against the recordings' statistics. */
export interface UtteranceScores {
  /** Mean over bands of this utterance's 10·log10 variance − the recordings' GV, dB. */
  gvDb: number;
  /** RMS over bands of its mean ln-mel − the recordings' mean ln-mel, ln units. */
  melDist: number;
  /** Fréchet distance of its mel-cepstral speech frames to the recordings', ln²; NaN with < 2 frames. */
  mcepFd: number;
}

/** RMS over bands of an utterance's mean ln-mel − the recordings' (ln units). */
function melDistance(u: UtteranceNaturalness, ref: NaturalnessRef): number {
  const B = ref.mean.length;
  if (u.mean.length !== B) throw new Error(`naturalness: mel bands differ (${u.mean.length} vs ${B})`);
  let d2 = 0;
  for (let b = 0; b < B; b++) d2 += (u.mean[b]! - ref.mean[b]!) ** 2 / B;
  return Math.sqrt(d2);
}

export function scoreUtterance(u: UtteranceNaturalness, ref: NaturalnessRef): UtteranceScores {
  const B = ref.gv.length;
  let gv = 0;
  for (let b = 0; b < B; b++) gv += (u.logVar[b]! - ref.gv[b]!) / B;
  const g = gaussianOf(u.mcep);
  return { gvDb: gv, melDist: melDistance(u, ref), mcepFd: g ? frechetDistance(g, refGaussian(ref)) : NaN };
}

/** A set's measures against the recordings. */
export interface SetNaturalness {
  utterances: number;
  /** Mean over bands of `gvPerBand`, dB. */
  gvDb: number;
  /** [nMels] GV_b(set) − GV_b(recordings), dB. */
  gvPerBand: number[];
  /** Mean over utterances of the per-utterance mean log-mel distance, ln units. */
  melDist: number;
  /** Fréchet distance of the set's pooled mel-cepstral speech frames to the recordings', ln². */
  setFd: number;
}

export function scoreSet(utts: readonly UtteranceNaturalness[], ref: NaturalnessRef): SetNaturalness | null {
  const u = utts.filter((x) => x.mcep.n > 0);
  if (u.length === 0) return null;
  const own = naturalnessRef(u);
  const gvPerBand = own.gv.map((v, b) => v - ref.gv[b]!);
  const melDist = u.reduce((a, x) => a + melDistance(x, ref), 0) / u.length;
  return {
    utterances: u.length,
    gvDb: gvPerBand.reduce((a, v) => a + v, 0) / gvPerBand.length,
    gvPerBand,
    melDist,
    setFd: frechetDistance(refGaussian(own), refGaussian(ref)),
  };
}

/** Centre frequency (Hz) of each mel band of cfg: where its triangle peaks. */
export function melBandCentres(cfg: MelConfig): number[] {
  return Array.from(melFilterbank(cfg).edgesHz.subarray(1, cfg.nMels + 1));
}

/** PNG of GV per band against the recordings: one line per set, 0 dB = the recordings' own. */
export function writeGvPng(
  path: string,
  sets: readonly { name: string; perBand: readonly number[] }[],
  cfg: MelConfig,
  title = 'Global variance of ln-mel per band vs the recordings',
): void {
  const x = melBandCentres(cfg).map((f) => f / 1000);
  writeLinePlotPng(path, {
    title,
    xLabel: 'mel band centre (kHz)',
    yLabel: 'GV(set) - GV(recordings) (dB)',
    series: [...sets.map((s) => ({ name: s.name, x, y: [...s.perBand] })), { name: 'recordings (0 dB)', x: [x[0]!, x.at(-1)!], y: [0, 0] }],
  });
}
