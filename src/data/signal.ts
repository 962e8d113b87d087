/**
 * Signal operations for the corruption experiments (mono Float32Array in [-1, 1]; pure functions).
 */
import type { Rng } from '../util/rng.js';
import { getFft } from '../audio/stft.js';

/** Mean power Σx²/N. */
export function power(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length ? s / x.length : 0;
}

/** 10·log10(P(signal) / P(noisy − signal)) over the whole utterance, in dB. */
export function measureSnrDb(signal: ArrayLike<number>, noisy: ArrayLike<number>): number {
  let ps = 0;
  let pn = 0;
  for (let i = 0; i < signal.length; i++) {
    const d = noisy[i]! - signal[i]!;
    ps += signal[i]! * signal[i]!;
    pn += d * d;
  }
  return 10 * Math.log10(ps / pn);
}

export function whiteNoise(n: number, rng: Rng): Float32Array {
  return rng.normals(n);
}

/**
 * Pink (1/f) noise: white noise through Paul Kellet's "refined" 7-pole filter
 * (±0.05 dB of −3 dB/octave above 9.2 Hz at 44.1 kHz; the slope holds at 22.05 kHz too).
 */
export function pinkNoise(n: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  let b0 = 0,
    b1 = 0,
    b2 = 0,
    b3 = 0,
    b4 = 0,
    b5 = 0,
    b6 = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return out;
}

/**
 * Babble: the sum of several other recordings, each scaled to unit RMS and looped from a random
 * start to length n, so that no single talker dominates.
 */
export function babbleNoise(n: number, talkers: Float32Array[], rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (const t of talkers) {
    const rms = Math.sqrt(power(t));
    if (!(rms > 0)) continue;
    const start = rng.int(t.length);
    for (let i = 0; i < n; i++) out[i]! += t[(start + i) % t.length]! / rms;
  }
  return out;
}

/**
 * x + g·noise with g chosen so that 10·log10(P(x)/P(g·noise)) = snrDb exactly. If the sum would
 * exceed ±1 (and clip when stored as 16-bit), signal and noise are scaled down together by
 * `gain`, which keeps the SNR. Returns the noisy signal and that gain (1 when not needed).
 */
export function addNoiseAtSnr(x: Float32Array, noise: Float32Array, snrDb: number): { y: Float32Array; gain: number } {
  const ps = power(x);
  const pn = power(noise);
  const g = pn > 0 && ps > 0 ? Math.sqrt(ps / (pn * 10 ** (snrDb / 10))) : 0;
  const y = new Float32Array(x.length);
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    y[i] = x[i]! + g * noise[i]!;
    peak = Math.max(peak, Math.abs(y[i]!));
  }
  const gain = peak > 0.999 ? 0.999 / peak : 1;
  if (gain !== 1) for (let i = 0; i < y.length; i++) y[i]! *= gain;
  return { y, gain };
}

/** Hard clipping at ±level·max|x|. Returns the clipped signal, the threshold and the fraction of samples clipped. */
export function clipAtLevel(x: Float32Array, level: number): { y: Float32Array; threshold: number; clippedFraction: number } {
  let peak = 0;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]!));
  const thr = level * peak;
  const y = new Float32Array(x.length);
  let clipped = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = Math.max(-thr, Math.min(thr, v));
    if (v > thr || v < -thr) clipped++;
  }
  return { y, threshold: thr, clippedFraction: x.length ? clipped / x.length : 0 };
}

/**
 * Linear-phase low-pass FIR: a windowed sinc with its −6 dB point at `cutoffHz`, Blackman window
 * (about −74 dB stop band, transition width ≈ 5.5·rate/taps: ~120 Hz for 1001 taps at 22.05 kHz),
 * normalised to unit gain at DC. `taps` must be odd.
 */
export function lowpassKernel(cutoffHz: number, rate: number, taps = 1001): Float64Array {
  const h = new Float64Array(taps);
  const m = (taps - 1) / 2;
  const fc = cutoffHz / rate;
  let sum = 0;
  for (let n = 0; n < taps; n++) {
    const k = n - m;
    const sinc = k === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * k) / (Math.PI * k);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (taps - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (taps - 1));
    h[n] = sinc * w;
    sum += h[n]!;
  }
  for (let n = 0; n < taps; n++) h[n]! /= sum;
  return h;
}

/** Zero-phase (delay-compensated) low-pass at cutoffHz by direct convolution; the reference for `lowpass`. */
export function lowpassDirect(x: Float32Array, cutoffHz: number, rate: number, taps = 1001): Float32Array {
  const h = lowpassKernel(cutoffHz, rate, taps);
  const m = (taps - 1) / 2;
  const n = x.length;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // y[i] = Σ_k h[k]·x[i + m − k], limited to indices inside x.
    const kLo = Math.max(0, i + m - (n - 1));
    const kHi = Math.min(taps - 1, i + m);
    let acc = 0;
    for (let k = kLo, j = i + m - kLo; k <= kHi; k++, j--) acc += h[k]! * x[j]!;
    y[i] = acc;
  }
  return y;
}

/**
 * Zero-phase (delay-compensated) low-pass at cutoffHz; same length as x, zeros beyond the edges.
 * Same result as `lowpassDirect`, computed as one linear (zero-padded) FFT convolution:
 * ~100× faster for 1001 taps.
 */
export function lowpass(x: Float32Array, cutoffHz: number, rate: number, taps = 1001): Float32Array {
  const h = lowpassKernel(cutoffHz, rate, taps);
  const m = (taps - 1) / 2;
  const n = x.length;
  let size = 4;
  while (size < n + taps - 1) size *= 2;
  const fft = getFft(size);
  const xin = new Float64Array(2 * size);
  const hin = new Float64Array(2 * size);
  for (let i = 0; i < n; i++) xin[2 * i] = x[i]!;
  for (let i = 0; i < taps; i++) hin[2 * i] = h[i]!;
  const X = new Float64Array(2 * size);
  const H = new Float64Array(2 * size);
  fft.transform(X, xin);
  fft.transform(H, hin);
  for (let k = 0; k < size; k++) {
    const re = X[2 * k]! * H[2 * k]! - X[2 * k + 1]! * H[2 * k + 1]!;
    const im = X[2 * k]! * H[2 * k + 1]! + X[2 * k + 1]! * H[2 * k]!;
    X[2 * k] = re;
    X[2 * k + 1] = im;
  }
  fft.inverseTransform(xin, X);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = xin[2 * (i + m)]!;
  return y;
}
