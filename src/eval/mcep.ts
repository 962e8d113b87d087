/**
 * Mel-cepstral analysis of a waveform as SPTK's `frame | window | mcep` computes it
 * (Tokuda, Kobayashi, Masuko & Imai 1994, "Mel-generalized cepstral analysis — a unified approach"):
 * for each Blackman-windowed frame, the mel-cepstrum c̃(0…M) of the all-pass-warped frequency axis
 * (z̃⁻¹ = (z⁻¹ − α)/(1 − α z⁻¹)) that minimises the unbiased log-spectral estimation criterion,
 * found by Newton–Raphson from the warped FFT cepstrum. The model spectrum is
 * |H(e^{jω})| = exp Σ_m c̃(m) cos(m·β(ω)), β the warped frequency: c̃ is in natural-log AMPLITUDE units,
 * so a cepstral distance converts to dB with (10/ln 10)·√2 (see mcd.ts).
 *
 * Defaults follow SPTK 3.9's command line (window -w 0 -n 1, mcep -i 2 -j 30 -d 0.001 -f 1e-6) and
 * the usual MCD setup at 22.05 kHz: frame 1024, period 256 (= difftts's STFT), order 24, α = 0.455
 * (the all-pass constant whose warping best fits the mel scale at 22.05 kHz, as pysptk's
 * `mcepalpha(22050)` gives), and ε = 1e-10 added to the periodogram of [−1, 1] audio (near the 16-bit
 * quantisation floor, so digital silence stays finite). scripts/sptk-reference.sh computes the same
 * with Debian's sptk; src/eval/mcep.test.ts compares the two.
 */
import { getFft } from '../audio/stft.js';

export interface McepOptions {
  /** All-pass constant α (default 0.455, for 22.05 kHz). */
  alpha?: number;
  /** Order M: coefficients c̃(0…M) (default 24). */
  order?: number;
  /** Frame length = FFT size, a power of two (default 1024). */
  frameLength?: number;
  /** Frame period in samples (default 256). */
  period?: number;
  /** Added to the periodogram (default 1e-10). */
  eps?: number;
  /** Newton–Raphson: minimum / maximum iterations and the relative end condition on r̃(0). */
  minIter?: number;
  maxIter?: number;
  tolerance?: number;
}

export interface MelCepstra {
  /** Frame-major [frames, order + 1]: row t = c̃(0…M) of frame t. */
  data: Float64Array;
  frames: number;
  order: number;
}

/** SPTK's Blackman window (symmetric, length n) scaled to unit power (window -n 1). */
export function blackmanUnitPower(n: number): Float64Array {
  const w = new Float64Array(n);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const x = (2 * Math.PI * i) / (n - 1);
    w[i] = 0.42 - 0.5 * Math.cos(x) + 0.08 * Math.cos(2 * x);
    p += w[i]! * w[i]!;
  }
  const s = 1 / Math.sqrt(p);
  for (let i = 0; i < n; i++) w[i]! *= s;
  return w;
}

/**
 * Frames as SPTK's `frame -l L -p P` cuts them: frame t covers samples [t·P − L/2, t·P + L/2)
 * (zeros outside the signal), t = 0 … ⌈len / P⌉ − 1.
 */
export function frameCountSptk(len: number, period: number): number {
  return Math.ceil(len / period);
}

const alphas = new Map<number, number>();

/**
 * The all-pass constant whose frequency warping best fits the mel scale at `sampleRate`, by the
 * criterion pysptk's `mcepalpha` uses: least squares, over 1000 points of [0, fs/2), between the
 * warped frequency β(ω)/π and mel(f)/mel(fs/2) with mel(f) = 1000/ln 2 · ln(1 + f/1000), α on a
 * 0.001 grid. Gives 0.312 (8 kHz), 0.410 (16 kHz), 0.455 (22.05 kHz), 0.544 (44.1 kHz), 0.554 (48 kHz).
 */
export function mcepAlpha(sampleRate: number): number {
  const cached = alphas.get(sampleRate);
  if (cached !== undefined) return cached;
  const N = 1000;
  const mel = new Float64Array(N);
  for (let i = 0; i < N; i++) mel[i] = Math.log(1 + ((sampleRate / 2 / N) * i) / 1000);
  const melEnd = mel[N - 1]!;
  const beta = new Float64Array(N);
  let best = 0;
  let bestErr = Infinity;
  for (let k = 0; k < 1000; k++) {
    const a = k / 1000;
    for (let i = 0; i < N; i++) {
      const w = (Math.PI / N) * i;
      beta[i] = Math.atan2((1 - a * a) * Math.sin(w), (1 + a * a) * Math.cos(w) - 2 * a);
    }
    const end = beta[N - 1]!;
    let err = 0;
    for (let i = 0; i < N; i++) err += (beta[i]! / end - mel[i]! / melEnd) ** 2;
    if (err < bestErr) {
      bestErr = err;
      best = a;
    }
  }
  alphas.set(sampleRate, best);
  return best;
}

/**
 * Mel-cepstral frequency warping (SPTK `freqt`): the cepstrum c1(0…m1) of one frequency axis to
 * c2(0…m2) of the axis warped by α (α → −α undoes it). A recursion over c1 from the highest index.
 */
export function freqt(c1: ArrayLike<number>, m1: number, m2: number, a: number): Float64Array {
  const b = 1 - a * a;
  const g = new Float64Array(m2 + 1);
  // in place: `prev` holds the previous pass's g[j − 1], g[j − 1] already holds this pass's value
  for (let i = m1; i >= 0; i--) {
    const g0 = g[0]!;
    g[0] = c1[i]! + a * g0;
    if (m2 < 1) continue;
    let prev = g[1]!;
    g[1] = b * g0 + a * prev;
    for (let j = 2; j <= m2; j++) {
      const old = g[j]!;
      g[j] = prev + a * (old - g[j - 1]!);
      prev = old;
    }
  }
  return g;
}

/** The transposed warping SPTK's `frqtr` applies to an autocorrelation-like sequence (the gradient of the criterion). */
function frqtr(c1: ArrayLike<number>, m1: number, m2: number, a: number): Float64Array {
  const g = new Float64Array(m2 + 1);
  for (let i = m1; i >= 0; i--) {
    let prev = g[0]!;
    g[0] = c1[i]!;
    for (let j = 1; j <= m2; j++) {
      const old = g[j]!;
      g[j] = prev + a * (old - g[j - 1]!);
      prev = old;
    }
  }
  return g;
}

/** Solves the symmetric (m × m) system A·x = b in place by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array, m: number): Float64Array {
  for (let k = 0; k < m; k++) {
    let p = k;
    for (let i = k + 1; i < m; i++) if (Math.abs(A[i * m + k]!) > Math.abs(A[p * m + k]!)) p = i;
    if (p !== k) {
      for (let j = 0; j < m; j++) {
        const t = A[k * m + j]!;
        A[k * m + j] = A[p * m + j]!;
        A[p * m + j] = t;
      }
      const t = b[k]!;
      b[k] = b[p]!;
      b[p] = t;
    }
    const piv = A[k * m + k]!;
    if (piv === 0) throw new Error('mcep: singular normal matrix');
    for (let i = k + 1; i < m; i++) {
      const f = A[i * m + k]! / piv;
      if (f === 0) continue;
      for (let j = k; j < m; j++) A[i * m + j]! -= f * A[k * m + j]!;
      b[i]! -= f * b[k]!;
    }
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let j = i + 1; j < m; j++) s -= A[i * m + j]! * x[j]!;
    x[i] = s / A[i * m + i]!;
  }
  return x;
}

/** Work buffers for one frame length. */
class Workspace {
  readonly z: Float64Array;
  readonly Z: Float64Array;
  constructor(readonly n: number) {
    this.z = new Float64Array(2 * n);
    this.Z = new Float64Array(2 * n);
  }
  /** DFT of a real sequence x [n] into Z (interleaved re, im). */
  private dft(x: ArrayLike<number>): Float64Array {
    const { z, Z, n } = this;
    for (let i = 0; i < n; i++) {
      z[2 * i] = x[i]!;
      z[2 * i + 1] = 0;
    }
    getFft(n).transform(Z, z);
    return Z;
  }
  /** Re of the DFT of a real sequence x [n] (for the even sequences here it is also n × the inverse DFT). */
  realPart(x: ArrayLike<number>, out: Float64Array): Float64Array {
    const Z = this.dft(x);
    for (let i = 0; i < this.n; i++) out[i] = Z[2 * i]!;
    return out;
  }
  /** |DFT(x)|² of a real sequence. */
  power(x: ArrayLike<number>, out: Float64Array): Float64Array {
    const Z = this.dft(x);
    for (let i = 0; i < this.n; i++) out[i] = Z[2 * i]! * Z[2 * i]! + Z[2 * i + 1]! * Z[2 * i + 1]!;
    return out;
  }
}

/**
 * Mel-cepstrum c̃(0…M) of one windowed frame (length = FFT size), as SPTK `mcep` with input type 0.
 * @returns Float64Array [order + 1]
 */
export function mcepFrame(frame: ArrayLike<number>, opts: McepOptions = {}, ws?: Workspace): Float64Array {
  const n = frame.length;
  const a = opts.alpha ?? 0.455;
  const m = opts.order ?? 24;
  const eps = opts.eps ?? 1e-10;
  const itr1 = opts.minIter ?? 2;
  const itr2 = opts.maxIter ?? 30;
  const dd = opts.tolerance ?? 0.001;
  const w = ws ?? new Workspace(n);
  const half = n / 2;
  const x = w.power(frame, new Float64Array(n));
  for (let i = 0; i < n; i++) x[i]! += eps;
  // initial value: the warped cepstrum of the log periodogram (halved at 0 and n/2: ln|X|² → ln|X|)
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = Math.log(x[i]!);
  w.realPart(c, c);
  for (let i = 0; i < n; i++) c[i]! /= n;
  c[0]! /= 2;
  c[half]! /= 2;
  const mc = freqt(c, half, m, a);
  let s = c[0]!;
  const al = new Float64Array(m + 1);
  al[0] = 1;
  for (let i = 1; i <= m; i++) al[i] = -a * al[i - 1]!;
  const A = new Float64Array((m + 1) * (m + 1));
  const spec = new Float64Array(n);
  for (let j = 1; j <= itr2; j++) {
    // ln|H| on the linear axis, then the periodogram-to-model ratio and its warped autocorrelation r̃
    c.fill(0);
    c.set(freqt(mc, m, half, -a));
    w.realPart(c, spec);
    for (let i = 0; i < n; i++) spec[i] = x[i]! / Math.exp(2 * spec[i]!);
    w.realPart(spec, c);
    for (let i = 0; i < n; i++) c[i]! /= n;
    const r = frqtr(c, half, 2 * m, a);
    const t = r[0]!;
    if (j >= itr1) {
      if (Math.abs((t - s) / t) < dd) break;
      s = t;
    }
    // Newton step: (Toeplitz + Hankel)·Δ = r̃(0…M) − (−α)^k
    const b = new Float64Array(m + 1);
    for (let i = 0; i <= m; i++) b[i] = r[i]! - al[i]!;
    const h = Float64Array.from(r);
    for (let i = 0; i <= 2 * m; i += 2) h[i]! -= r[0]!;
    const tt = r.slice(0, m + 1);
    for (let i = 2; i <= m; i += 2) tt[i]! += r[0]!;
    tt[0]! += r[0]!;
    for (let i = 0; i <= m; i++) for (let k = 0; k <= m; k++) A[i * (m + 1) + k] = tt[Math.abs(i - k)]! + h[i + k]!;
    const delta = solve(A, b, m + 1);
    for (let i = 0; i <= m; i++) mc[i]! += delta[i]!;
  }
  return mc;
}

/** Mel-cepstra of every SPTK frame of a waveform ([−1, 1] samples at the analysis rate). */
export function melCepstrum(samples: ArrayLike<number>, opts: McepOptions = {}): MelCepstra {
  const L = opts.frameLength ?? 1024;
  const P = opts.period ?? 256;
  const M = opts.order ?? 24;
  if (!(L >= 4 && (L & (L - 1)) === 0)) throw new Error(`melCepstrum: frame length must be a power of two ≥ 4, got ${L}`);
  const frames = frameCountSptk(samples.length, P);
  const win = blackmanUnitPower(L);
  const ws = new Workspace(L);
  const data = new Float64Array(frames * (M + 1));
  const buf = new Float64Array(L);
  for (let t = 0; t < frames; t++) {
    const start = t * P - L / 2;
    for (let i = 0; i < L; i++) {
      const k = start + i;
      buf[i] = k >= 0 && k < samples.length ? samples[k]! * win[i]! : 0;
    }
    data.set(mcepFrame(buf, opts, ws), t * (M + 1));
  }
  return { data, frames, order: M };
}
