/**
 * YIN fundamental-frequency tracker (de Cheveigné & Kawahara, "YIN, a fundamental frequency
 * estimator for speech and music", JASA 2002), steps 2–5:
 *   difference function        d(τ) = Σ_{j=0}^{W−1} (x_j − x_{j+τ})²
 *   cumulative mean normalised d'(0) = 1, d'(τ) = d(τ) · τ / Σ_{k=1}^{τ} d(k)
 *   absolute threshold:        the first τ in [τ_min, τ_max] with d'(τ) < threshold, followed down
 *                              to the bottom of its dip; none → unvoiced
 *   parabolic interpolation    of d' around that τ, F0 = sampleRate / τ*.
 * Voicing: a dip below the threshold AND frame RMS within `silenceDb` of the loudest frame (and
 * above an absolute floor), so silence and noise are unvoiced.
 *
 * Frames line up with difftts mel frames: frame i covers samples [i·hop − (L − hop)/2, … + L) of
 * the zero-padded signal (L = frameLength), and there are 1 + ⌊(len + L − hop − L) / hop⌋ of them —
 * the same count and centres as `logMel` with nFft = win = L.
 */

export interface YinOptions {
  /** Analysis frame length L in samples (default 1024; enlarged to 2·τ_max + 2 when shorter): the integration window is W = L − τ_max − 1. */
  frameLength?: number;
  /** Hop in samples (default 256). */
  hop?: number;
  /** Lowest and highest F0 searched, Hz (defaults 60 and 500). */
  fMin?: number;
  fMax?: number;
  /** Absolute threshold on d' (default 0.2; the paper suggests 0.1 for clean signals, read speech needs a little more). */
  threshold?: number;
  /** Frames quieter than the loudest frame by more than this many dB are unvoiced (default 45). */
  silenceDb?: number;
}

export interface PitchTrack {
  /** F0 in Hz per frame; 0 where unvoiced. */
  f0: Float32Array;
  /** 1 where voiced. */
  voiced: Uint8Array;
  /** min d' found per frame (aperiodicity, 0 … ~1; 1 for silent frames). */
  aperiodicity: Float32Array;
  /** Frame hop in seconds. */
  hopSec: number;
}

/** Number of YIN frames (equals the mel frame count for the same hop and L = nFft). */
export function yinFrameCount(len: number, frameLength: number, hop: number): number {
  return 1 + Math.floor((len + (frameLength - hop) - frameLength) / hop);
}

/** Tracks F0 over `samples` (mono, any scale). */
export function yin(samples: Float32Array, sampleRate: number, opts: YinOptions = {}): PitchTrack {
  const hop = opts.hop ?? 256;
  const fMin = opts.fMin ?? 60;
  const fMax = opts.fMax ?? 500;
  const threshold = opts.threshold ?? 0.2;
  const silenceDb = opts.silenceDb ?? 45;
  if (!(fMax > fMin) || !(fMin > 0)) throw new Error(`yin: expected 0 < fMin < fMax, got fMin ${fMin}, fMax ${fMax}`);
  const tauMin = Math.max(2, Math.floor(sampleRate / fMax));
  const tauMax = Math.ceil(sampleRate / fMin);
  // The window must hold two periods of the lowest F0 (W ≥ τ_max): a frame too short for fMin at
  // this rate (e.g. 1024 at 44.1 kHz) is enlarged. Frame centres (i·hop + hop/2) and the frame
  // count do not depend on L, so frames stay aligned with the mel frames either way.
  const L = Math.max(opts.frameLength ?? 1024, 2 * tauMax + 2);
  const W = L - tauMax - 1;
  const frames = Math.max(0, yinFrameCount(samples.length, L, hop));
  const pad = Math.floor((L - hop) / 2);
  const f0 = new Float32Array(frames);
  const voiced = new Uint8Array(frames);
  const aper = new Float32Array(frames);
  const rms = new Float64Array(frames);
  const x = new Float64Array(L);
  const d = new Float64Array(tauMax + 2);
  const dn = new Float64Array(tauMax + 2);
  const dip = new Float64Array(frames); // interpolated τ* or 0

  for (let f = 0; f < frames; f++) {
    const start = f * hop - pad;
    let e = 0;
    for (let j = 0; j < L; j++) {
      const s = start + j;
      const v = s >= 0 && s < samples.length ? samples[s]! : 0;
      x[j] = v;
      e += v * v;
    }
    rms[f] = Math.sqrt(e / L);
    // difference function over the first W samples
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      let acc = 0;
      for (let j = 0; j < W; j++) {
        const q = x[j]! - x[j + tau]!;
        acc += q * q;
      }
      d[tau] = acc;
    }
    // cumulative mean normalised difference
    dn[0] = 1;
    let running = 0;
    for (let tau = 1; tau <= tauMax + 1; tau++) {
      running += d[tau]!;
      dn[tau] = running > 0 ? (d[tau]! * tau) / running : 1;
    }
    // absolute threshold, then down to the local minimum
    let best = -1;
    for (let tau = tauMin; tau <= tauMax; tau++) {
      if (dn[tau]! < threshold) {
        while (tau + 1 <= tauMax && dn[tau + 1]! < dn[tau]!) tau++;
        best = tau;
        break;
      }
    }
    let minDn = 1;
    for (let tau = tauMin; tau <= tauMax; tau++) minDn = Math.min(minDn, dn[tau]!);
    aper[f] = best > 0 ? dn[best]! : minDn;
    if (best > 0) {
      const a = dn[best - 1]!;
      const b = dn[best]!;
      const c = dn[best + 1]!;
      const den = a - 2 * b + c;
      const shift = den > 0 ? (0.5 * (a - c)) / den : 0;
      dip[f] = best + Math.max(-1, Math.min(1, shift));
    }
  }

  const loudest = rms.reduce((m, v) => Math.max(m, v), 0);
  const gate = Math.max(1e-4, loudest * 10 ** (-silenceDb / 20));
  for (let f = 0; f < frames; f++) {
    if (dip[f]! > 0 && rms[f]! >= gate) {
      const hz = sampleRate / dip[f]!;
      if (hz >= fMin * 0.97 && hz <= fMax * 1.03) {
        f0[f] = hz;
        voiced[f] = 1;
      }
    }
    if (rms[f] === 0) aper[f] = 1;
  }
  return { f0, voiced, aperiodicity: aper, hopSec: hop / sampleRate };
}

/** Median F0 (Hz) over voiced frames, NaN when none are voiced. */
export function medianF0(track: PitchTrack): number {
  const v = Array.from(track.f0)
    .filter((_, i) => track.voiced[i])
    .sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : 0.5 * (v[m - 1]! + v[m]!);
}

/** Fraction of frames that are voiced. */
export function voicedFraction(track: PitchTrack): number {
  if (track.voiced.length === 0) return 0;
  let n = 0;
  for (const v of track.voiced) n += v;
  return n / track.voiced.length;
}
