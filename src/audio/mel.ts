/**
 * Log-mel spectrograms exactly as Grad-TTS / HiFi-GAN compute them (see test/fixtures/README.md):
 * reflect-pad (nFft − hop)/2 on both sides, uncentered STFT with a periodic Hann window,
 * magnitude √(re² + im² + 1e-9), Slaney-scale mel filters with Slaney area normalisation
 * (librosa.filters.mel defaults), ln(max(mel, logFloor)).
 *
 * Frames: 1 + ⌊(len + 2·⌊(nFft − hop)/2⌋ − nFft)/hop⌋, i.e. ⌊len/hop⌋ for the defaults.
 */
import { UserError } from '../errors.js';
import { forEachFrame, hannWindow, padWindow, reflectPadInto, frameCount } from './stft.js';

/** Row-major [nMels, frames] log-mel, natural-log units. */
export interface Mel {
  data: Float32Array;
  nMels: number;
  frames: number;
}

export interface MelConfig {
  sampleRate: number;
  nFft: number;
  hop: number;
  win: number;
  nMels: number;
  fMin: number;
  fMax: number;
  logFloor: number;
}

export const DEFAULT_MEL: MelConfig = {
  sampleRate: 22050,
  nFft: 1024,
  hop: 256,
  win: 1024,
  nMels: 80,
  fMin: 0,
  fMax: 8000,
  logFloor: 1e-5,
};

/** Added to re² + im² before the square root (HiFi-GAN's 1e-9), so the magnitude is never 0. */
export const MAGNITUDE_EPS = 1e-9;

/**
 * A mel filterbank stored sparsely: filter m has weights `weights[offset[m] .. offset[m] + len[m])`
 * on linear bins `start[m] ..`. Bins are 0..nFft/2 (nBins = nFft/2 + 1).
 */
export interface MelFilterbank {
  nMels: number;
  nBins: number;
  start: Int32Array;
  len: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
  /** The nMels + 2 band edges in Hz (filter m rises from edge m, peaks at m+1, falls to m+2). */
  edgesHz: Float64Array;
}

/** Slaney mel scale (librosa htk=False): linear below 1 kHz (200/3 Hz per mel), log above. */
export function hzToMel(f: number): number {
  return f < 1000 ? f / (200 / 3) : 15 + Math.log(f / 1000) / (Math.log(6.4) / 27);
}

export function melToHz(m: number): number {
  return m < 15 ? m * (200 / 3) : 1000 * Math.exp((Math.log(6.4) / 27) * (m - 15));
}

/** Throws a one-line UserError if cfg is not usable. */
export function checkMelConfig(cfg: MelConfig, where = 'mel config'): void {
  const bad = (what: string): never => {
    throw new UserError(`${where}: ${what}`);
  };
  if (!(Number.isInteger(cfg.nFft) && cfg.nFft >= 4 && (cfg.nFft & (cfg.nFft - 1)) === 0))
    bad(`nFft ${cfg.nFft} (expected a power of two ≥ 4)`);
  if (!(Number.isInteger(cfg.hop) && cfg.hop >= 1 && cfg.hop <= cfg.nFft)) bad(`hop ${cfg.hop} (expected an integer in 1..nFft)`);
  if (!(Number.isInteger(cfg.win) && cfg.win >= 2 && cfg.win <= cfg.nFft)) bad(`win ${cfg.win} (expected an integer in 2..nFft)`);
  if (!(Number.isInteger(cfg.nMels) && cfg.nMels >= 1)) bad(`nMels ${cfg.nMels} (expected a positive integer)`);
  if (!(cfg.sampleRate > 0)) bad(`sampleRate ${cfg.sampleRate} (expected > 0)`);
  if (!(cfg.fMin >= 0 && cfg.fMax > cfg.fMin && cfg.fMax <= cfg.sampleRate / 2)) {
    bad(`fMin ${cfg.fMin} / fMax ${cfg.fMax} (expected 0 ≤ fMin < fMax ≤ sampleRate/2)`);
  }
  if (!(cfg.logFloor > 0)) bad(`logFloor ${cfg.logFloor} (expected > 0)`);
}

const fbCache = new Map<string, MelFilterbank>();

/** The Slaney mel filterbank for cfg (librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax), norm='slaney'); cached. */
export function melFilterbank(cfg: MelConfig): MelFilterbank {
  const key = `${cfg.sampleRate}/${cfg.nFft}/${cfg.nMels}/${cfg.fMin}/${cfg.fMax}`;
  const hit = fbCache.get(key);
  if (hit) return hit;
  const nBins = cfg.nFft / 2 + 1;
  const { nMels } = cfg;
  const mMin = hzToMel(cfg.fMin);
  const mMax = hzToMel(cfg.fMax);
  const edges = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edges[i] = melToHz(mMin + ((mMax - mMin) * i) / (nMels + 1));
  const binHz = (k: number) => (k * cfg.sampleRate) / cfg.nFft;
  const start = new Int32Array(nMels);
  const len = new Int32Array(nMels);
  const offset = new Int32Array(nMels);
  const all: number[] = [];
  for (let m = 0; m < nMels; m++) {
    const lo = edges[m]!;
    const mid = edges[m + 1]!;
    const hi = edges[m + 2]!;
    const norm = 2 / (hi - lo);
    let first = -1;
    let count = 0;
    for (let k = 0; k < nBins; k++) {
      const f = binHz(k);
      const w = Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
      if (w > 0) {
        if (first < 0) first = k;
        // weights inside a filter's support are contiguous; keep any interior zero to stay dense
        count = k - first + 1;
      }
    }
    start[m] = Math.max(first, 0);
    len[m] = count;
    offset[m] = all.length;
    for (let k = start[m]!; k < start[m]! + count; k++) {
      const f = binHz(k);
      all.push(norm * Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid))));
    }
  }
  const fb: MelFilterbank = { nMels, nBins, start, len, offset, weights: Float64Array.from(all), edgesHz: edges };
  fbCache.set(key, fb);
  return fb;
}

/** The filterbank as a dense row-major [nMels, nBins] matrix (for tests and tfjs use). */
export function denseFilterbank(fb: MelFilterbank): Float32Array {
  const out = new Float32Array(fb.nMels * fb.nBins);
  for (let m = 0; m < fb.nMels; m++) {
    for (let j = 0; j < fb.len[m]!; j++) out[m * fb.nBins + fb.start[m]! + j] = fb.weights[fb.offset[m]! + j]!;
  }
  return out;
}

/** Number of mel frames logMel produces for `len` samples. */
export function melFrameCount(len: number, cfg: MelConfig = DEFAULT_MEL): number {
  const pad = Math.floor((cfg.nFft - cfg.hop) / 2);
  return frameCount(len + 2 * pad, cfg.nFft, cfg.hop);
}

const windowCache = new Map<string, Float64Array>();
/** The periodic Hann window of length cfg.win centred in cfg.nFft samples (cached). */
export function melWindow(cfg: MelConfig): Float64Array {
  const key = `${cfg.win}/${cfg.nFft}`;
  let w = windowCache.get(key);
  if (!w) {
    w = padWindow(hannWindow(cfg.win, true), cfg.nFft);
    windowCache.set(key, w);
  }
  return w;
}

/**
 * Log-mel of mono samples in [-1, 1] (sampled at cfg.sampleRate; not checked: resample first).
 * Returns row-major [nMels, frames] in natural-log units, floored at ln(cfg.logFloor).
 */
export function logMel(samples: Float32Array, cfg: MelConfig = DEFAULT_MEL): Mel {
  checkMelConfig(cfg);
  const fb = melFilterbank(cfg);
  const pad = Math.floor((cfg.nFft - cfg.hop) / 2);
  const x = reflectPadInto(samples, pad, pad, new Float64Array(samples.length + 2 * pad));
  const frames = frameCount(x.length, cfg.nFft, cfg.hop);
  const { nMels } = cfg;
  const data = new Float32Array(nMels * frames);
  const mag = new Float64Array(fb.nBins);
  const { start, len, offset, weights } = fb;
  const floor = cfg.logFloor;
  const logFloor = Math.log(floor);
  // bins above the last filter's band never reach the output: skip their magnitudes
  let usedBins = 0;
  for (let m = 0; m < nMels; m++) usedBins = Math.max(usedBins, start[m]! + len[m]!);
  forEachFrame(
    x,
    { nFft: cfg.nFft, hop: cfg.hop, window: melWindow(cfg) },
    (t, s) => {
      for (let k = 0; k < usedBins; k++) {
        const re = s[2 * k]!;
        const im = s[2 * k + 1]!;
        mag[k] = Math.sqrt(re * re + im * im + MAGNITUDE_EPS);
      }
      for (let m = 0; m < nMels; m++) {
        const k0 = start[m]!;
        const o = offset[m]!;
        const l = len[m]!;
        let v = 0;
        for (let j = 0; j < l; j++) v += weights[o + j]! * mag[k0 + j]!;
        data[m * frames + t] = v > floor ? Math.log(v) : logFloor;
      }
    },
    frames,
  );
  return { data, nMels, frames };
}
