/**
 * Griffin-Lim vocoder for HiFi-GAN-style log-mels (the inverse of `logMel`).
 *
 * 1. mel = exp(logMel)                                   [nMels, frames]
 * 2. linear magnitude S ≥ 0 with F·S ≈ mel (F = the Slaney filterbank), per frame:
 *    start from the minimum-norm solution S₀ = max(0, Fᵀ(FFᵀ)⁻¹·mel), then run projected-gradient
 *    NNLS steps S ← max(0, S − Fᵀ(F·S − mel)/λ_max(FᵀF)). Why: the pseudo-inverse alone rings
 *    (negative lobes between neighbouring filters) and clamping those breaks F·S = mel; a few
 *    NNLS steps repair that for ~1 ms per step, while bins that no filter covers (above fMax)
 *    stay 0 as in the minimum-norm solution.
 * 3. fast Griffin-Lim (Perraudin, Balazs & Søndergaard 2013): with c = S·e^{iφ},
 *    t_n = STFT(iSTFT(c_{n−1})), c_n = S·phase(t_n + α(t_n − t_{n−1})), α = momentum (0.99),
 *    starting from seeded uniformly random phases. Output = iSTFT(c_N).
 *
 * The STFT is the padded, uncentered one of logMel, so Griffin-Lim runs on the padded signal of
 * (frames − 1)·hop + nFft samples; the returned waveform drops ⌊(nFft − hop)/2⌋ samples on each
 * side, giving (frames − 1)·hop + nFft − 2·⌊(nFft − hop)/2⌋ samples — frames·hop for the defaults —
 * which is exactly the length whose logMel has `frames` frames again.
 */
import { DEFAULT_MEL, melFilterbank, melWindow, checkMelConfig, type Mel, type MelConfig, type MelFilterbank } from './mel.js';
import { getFft, windowSumSquare } from './stft.js';
import { Rng } from '../util/rng.js';
import { glEngine } from './griffinlim-wasm.js';

export interface GriffinLimOptions {
  /** Griffin-Lim iterations (default 32). */
  iters?: number;
  /** Fast Griffin-Lim momentum α (default 0.99; 0 = classic Griffin-Lim). */
  momentum?: number;
  /** Seed of the random initial phase (default 0). */
  seed?: number;
  /** Projected-gradient NNLS steps for the mel → linear step (default 10). */
  nnlsIters?: number;
  /** Mel parameters the mel was computed with (default DEFAULT_MEL). */
  cfg?: MelConfig;
  /** Called after each Griffin-Lim iteration (1-based), e.g. for a progress bar. */
  onIter?: (i: number, total: number) => void;
  /**
   * The FFTs: 'wasm' (default where WebAssembly SIMD exists) = whole iterations in WebAssembly SIMD
   * float32, eight frame pairs per batched FFT (griffinlim-wasm.ts); 'fft.js' = one float64
   * transform per frame pair with the loops in JavaScript (the implementation before issue #24;
   * kept as the fallback and as the tests' reference).
   */
  fft?: 'wasm' | 'fft.js';
}

/** A non-negative linear magnitude spectrogram, frame-major: bin k of frame t at t·bins + k. */
export interface Magnitude {
  data: Float64Array;
  frames: number;
  bins: number;
}

/** Rebuilds a waveform from a log-mel. Returns (frames − 1)·hop + nFft − 2·⌊(nFft − hop)/2⌋ samples. */
export function griffinLim(mel: Mel, opts: GriffinLimOptions = {}): Float32Array {
  const cfg = opts.cfg ?? DEFAULT_MEL;
  return griffinLimMagnitude(melToLinear(mel, cfg, opts.nnlsIters ?? 10), opts);
}

/** Output length of griffinLim for a mel of `frames` frames. */
export function griffinLimLength(frames: number, cfg: MelConfig = DEFAULT_MEL): number {
  if (frames === 0) return 0;
  return (frames - 1) * cfg.hop + cfg.nFft - 2 * Math.floor((cfg.nFft - cfg.hop) / 2);
}

/**
 * Mel → linear magnitude: minimum-norm pseudo-inverse clamped at 0, then `iters` projected
 * gradient steps of min ‖F·S − exp(mel)‖² s.t. S ≥ 0 (see the module comment).
 */
export function melToLinear(mel: Mel, cfg: MelConfig = DEFAULT_MEL, iters = 10): Magnitude {
  checkMelConfig(cfg);
  if (mel.nMels !== cfg.nMels) throw new Error(`melToLinear: mel has ${mel.nMels} bins, config expects ${cfg.nMels}`);
  const fb = melFilterbank(cfg);
  const { nMels, nBins, start, len, offset, weights } = fb;
  const { frames } = mel;
  const G = gramInverse(fb);
  const step = 1 / lipschitz(fb);
  const out = new Float64Array(frames * nBins);
  const target = new Float64Array(nMels);
  const y = new Float64Array(nMels);
  const r = new Float64Array(nMels);
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < nMels; m++) target[m] = Math.exp(mel.data[m * frames + t]!);
    // y = (FFᵀ)⁻¹ target; S = max(0, Fᵀ y)
    for (let i = 0; i < nMels; i++) {
      let s = 0;
      for (let j = 0; j < nMels; j++) s += G[i * nMels + j]! * target[j]!;
      y[i] = s;
    }
    const S = out.subarray(t * nBins, (t + 1) * nBins);
    applyFT(fb, y, S);
    for (let k = 0; k < nBins; k++) if (S[k]! < 0) S[k] = 0;
    for (let it = 0; it < iters; it++) {
      for (let m = 0; m < nMels; m++) {
        let v = 0;
        const k0 = start[m]!;
        const o = offset[m]!;
        for (let j = 0; j < len[m]!; j++) v += weights[o + j]! * S[k0 + j]!;
        r[m] = (v - target[m]!) * step;
      }
      for (let m = 0; m < nMels; m++) {
        const k0 = start[m]!;
        const o = offset[m]!;
        const rm = r[m]!;
        for (let j = 0; j < len[m]!; j++) S[k0 + j] -= weights[o + j]! * rm;
      }
      for (let k = 0; k < nBins; k++) if (S[k]! < 0) S[k] = 0;
    }
  }
  return { data: out, frames, bins: nBins };
}

/** S = Fᵀ y for one frame (S is overwritten). */
function applyFT(fb: MelFilterbank, y: Float64Array, S: Float64Array): void {
  S.fill(0);
  for (let m = 0; m < fb.nMels; m++) {
    const k0 = fb.start[m]!;
    const o = fb.offset[m]!;
    for (let j = 0; j < fb.len[m]!; j++) S[k0 + j] += fb.weights[o + j]! * y[m]!;
  }
}

const gramCache = new WeakMap<MelFilterbank, Float64Array>();

/** (F·Fᵀ)⁻¹, dense [nMels, nMels], by Gauss-Jordan elimination in float64 (F·Fᵀ is SPD and small). */
function gramInverse(fb: MelFilterbank): Float64Array {
  const hit = gramCache.get(fb);
  if (hit) return hit;
  const n = fb.nMels;
  const dense = new Float64Array(n * fb.nBins);
  for (let m = 0; m < n; m++) for (let j = 0; j < fb.len[m]!; j++) dense[m * fb.nBins + fb.start[m]! + j] = fb.weights[fb.offset[m]! + j]!;
  const a = new Float64Array(n * 2 * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < fb.nBins; k++) s += dense[i * fb.nBins + k]! * dense[j * fb.nBins + k]!;
      a[i * 2 * n + j] = s;
    }
    a[i * 2 * n + n + i] = 1;
  }
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let i = c + 1; i < n; i++) if (Math.abs(a[i * 2 * n + c]!) > Math.abs(a[p * 2 * n + c]!)) p = i;
    if (p !== c) for (let j = 0; j < 2 * n; j++) [a[c * 2 * n + j], a[p * 2 * n + j]] = [a[p * 2 * n + j]!, a[c * 2 * n + j]!];
    const piv = a[c * 2 * n + c]!;
    if (Math.abs(piv) < 1e-300) throw new Error('melToLinear: mel filterbank has linearly dependent filters (nMels too large for nFft?)');
    for (let j = 0; j < 2 * n; j++) a[c * 2 * n + j] /= piv;
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const f = a[i * 2 * n + c]!;
      if (f === 0) continue;
      for (let j = 0; j < 2 * n; j++) a[i * 2 * n + j] -= f * a[c * 2 * n + j]!;
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) inv[i * n + j] = a[i * 2 * n + n + j]!;
  gramCache.set(fb, inv);
  return inv;
}

/** λ_max(FᵀF) = λ_max(FFᵀ) by power iteration: the projected-gradient step is its inverse. */
function lipschitz(fb: MelFilterbank): number {
  const n = fb.nMels;
  let v = new Float64Array(n).fill(1);
  const S = new Float64Array(fb.nBins);
  let lambda = 0;
  for (let it = 0; it < 100; it++) {
    applyFT(fb, v, S);
    const w = new Float64Array(n);
    for (let m = 0; m < n; m++) {
      let s = 0;
      for (let j = 0; j < fb.len[m]!; j++) s += fb.weights[fb.offset[m]! + j]! * S[fb.start[m]! + j]!;
      w[m] = s;
    }
    const norm = Math.hypot(...w);
    lambda = norm / Math.hypot(...v);
    v = w.map((x) => x / norm);
  }
  return lambda * 1.01; // a hair above λ_max keeps the step strictly stable
}

/**
 * Fast Griffin-Lim on a linear magnitude (frame-major, bins = nFft/2 + 1) in the padded,
 * uncentered STFT domain of `cfg`; returns the unpadded waveform (see the module comment).
 */
export function griffinLimMagnitude(mag: Magnitude, opts: GriffinLimOptions = {}): Float32Array {
  const cfg = opts.cfg ?? DEFAULT_MEL;
  checkMelConfig(cfg);
  const iters = opts.iters ?? 32;
  const alpha = opts.momentum ?? 0.99;
  const { frames, bins } = mag;
  if (bins !== cfg.nFft / 2 + 1) throw new Error(`griffinLim: magnitude has ${bins} bins, nFft ${cfg.nFft} needs ${cfg.nFft / 2 + 1}`);
  if (frames === 0) return new Float32Array(0);
  const n = cfg.nFft;
  const hop = cfg.hop;
  const half = n / 2;
  const w = melWindow(cfg);
  const padLen = (frames - 1) * hop + n;
  const wss = windowSumSquare(w, hop, frames);
  const invWss = new Float64Array(padLen);
  for (let i = 0; i < padLen; i++) invWss[i] = wss[i]! > 1e-10 ? 1 / wss[i]! : 1;

  // Float32 state halves the memory traffic of the per-bin update, which is bandwidth-bound.
  const size = frames * bins;
  const S = new Float32Array(mag.data);
  const cRe = new Float32Array(size); // current coefficients S·e^{iφ}
  const cIm = new Float32Array(size);
  // Bins at or above kMax are zero in every frame (e.g. above fMax for a mel-derived magnitude):
  // their coefficients stay 0 whatever the phase, so the loops skip them.
  let kMax = 0;
  for (let t = 0; t < frames; t++) {
    for (let k = bins - 1; k >= kMax; k--) {
      if (S[t * bins + k]! > 0) {
        kMax = k + 1;
        break;
      }
    }
  }

  const rng = new Rng(opts.seed ?? 0);
  for (let i = 0; i < size; i++) {
    const phi = 2 * Math.PI * rng.uniform(); // drawn for every bin: the phases do not depend on S
    const s = S[i]!;
    if (s === 0) continue; // c = 0 whatever the phase, and cos/sin are most of this loop
    cRe[i] = s * Math.cos(phi);
    cIm[i] = s * Math.sin(phi);
  }
  const pad = Math.floor((cfg.nFft - cfg.hop) / 2);
  const outLen = griffinLimLength(frames, cfg);
  const engine = opts.fft === 'fft.js' ? null : glEngine(n);
  if (engine) {
    // kMax ≥ 1: an all-zero magnitude still has its DC bin in the wasm layout
    const kb = Math.max(1, kMax);
    const x = engine.run({ frames, bins, kMax: kb, hop, S, cRe, cIm, window: w, invWss, momentum: alpha, iters, onIter: opts.onIter });
    return x.slice(pad, pad + outLen);
  }
  // the fft.js path: one float64 complex FFT per frame pair, all loops in JavaScript
  const fft = getFft(n);
  // synthesis window with fft.js's missing 1/N folded in (we invert with a forward FFT, see below)
  const wN = w.map((v) => v / n);
  const pRe = new Float32Array(size); // previous rebuilt spectrogram t_{n−1} (0 before the first)
  const pIm = new Float32Array(size);
  const x = new Float64Array(padLen);
  const zs = new Float64Array(2 * n); // synthesis FFT input; entries for bins ≥ kMax stay 0
  const za = new Float64Array(2 * n); // analysis FFT input
  const Z = new Float64Array(2 * n);

  /**
   * x = iSTFT(c): two frames a = t, b = t+1 per complex FFT. With Z = A + i·B (Hermitian A, B),
   * IFFT(Z) = a + i·b, and IFFT(Z) = conj(FFT(conj Z))/N, so we pack conj(Z), run a forward FFT,
   * and read a = Re/N, b = −Im/N.
   */
  const synthesize = () => {
    x.fill(0);
    for (let t = 0; t < frames; t += 2) {
      const pair = t + 1 < frames;
      const oa = t * bins;
      const ob = oa + bins;
      for (let k = 0; k < kMax; k++) {
        const ar = cRe[oa + k]!;
        const br = pair ? cRe[ob + k]! : 0;
        if (k === 0 || k === half) {
          zs[2 * k] = ar; // imaginary parts of DC and Nyquist are dropped, as irfft does
          zs[2 * k + 1] = -br;
          continue;
        }
        const ai = cIm[oa + k]!;
        const bi = pair ? cIm[ob + k]! : 0;
        zs[2 * k] = ar - bi;
        zs[2 * k + 1] = -(ai + br);
        const m = 2 * (n - k);
        zs[m] = ar + bi;
        zs[m + 1] = ai - br;
      }
      fft.transform(Z, zs);
      const s0 = t * hop;
      for (let i = 0; i < n; i++) x[s0 + i] += Z[2 * i]! * wN[i]!;
      if (pair) {
        const s1 = s0 + hop;
        for (let i = 0; i < n; i++) x[s1 + i] -= Z[2 * i + 1]! * wN[i]!;
      }
    }
    for (let i = 0; i < padLen; i++) x[i] *= invWss[i]!;
  };

  /** c ← S·phase(t + α(t − p)), p ← t, for frame f's bin k with rebuilt value t = (tr, ti). */
  const update = (i: number, tr: number, ti: number) => {
    const s = S[i]!;
    if (s === 0) return;
    const ar = tr + alpha * (tr - pRe[i]!);
    const ai = ti + alpha * (ti - pIm[i]!);
    pRe[i] = tr;
    pIm[i] = ti;
    const a = Math.sqrt(ar * ar + ai * ai);
    if (a > 1e-16) {
      const g = s / a;
      cRe[i] = ar * g;
      cIm[i] = ai * g;
    } else {
      cRe[i] = s;
      cIm[i] = 0;
    }
  };

  for (let it = 0; it < iters; it++) {
    synthesize();
    // t = STFT(x), two frames per complex FFT (split by Hermitian symmetry), updating c as we go
    for (let t = 0; t < frames; t += 2) {
      const pair = t + 1 < frames;
      const a0 = t * hop;
      const b0 = a0 + hop;
      for (let i = 0; i < n; i++) {
        za[2 * i] = x[a0 + i]! * w[i]!;
        za[2 * i + 1] = pair ? x[b0 + i]! * w[i]! : 0;
      }
      fft.transform(Z, za);
      const oa = t * bins;
      const ob = oa + bins;
      for (let k = 0; k < kMax; k++) {
        const zr = Z[2 * k]!;
        const zi = Z[2 * k + 1]!;
        const m = k === 0 ? 0 : 2 * (n - k);
        const wr = Z[m]!;
        const wi = Z[m + 1]!;
        update(oa + k, 0.5 * (zr + wr), 0.5 * (zi - wi));
        if (pair) update(ob + k, 0.5 * (zi + wi), 0.5 * (wr - zr));
      }
    }
    opts.onIter?.(it + 1, iters);
  }
  synthesize();
  const out = new Float32Array(outLen);
  for (let i = 0; i < outLen; i++) out[i] = x[pad + i]!;
  return out;
}
