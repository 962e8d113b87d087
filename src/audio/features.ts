/**
 * Frame-level features for evaluation, via meyda: MFCCs (meyda's own HTK-style mel bands over
 * 0..Nyquist and log — NOT the HiFi-GAN log-mel of mel.ts) and per-frame RMS.
 *
 * Framing is uncentered: frame t covers samples [t·hop, t·hop + frameSize); frameSize must be a
 * power of two (meyda silently truncates otherwise, so we check). Audio shorter than one frame is
 * zero-padded to one frame. meyda is configured through a global object, so every call sets all
 * the fields it relies on.
 */
import Meyda from 'meyda';
import { frameCount } from './stft.js';

export interface FrameOptions {
  /** Samples per frame, a power of two (default 1024). */
  frameSize?: number;
  /** Hop in samples (default 256). */
  hop?: number;
}

export interface MfccOptions extends FrameOptions {
  /** Coefficients per frame (default 13). */
  nMfcc?: number;
  /** meyda mel bands before the DCT (default 26). */
  melBands?: number;
}

/** MFCCs, row-major [nMfcc, frames]. */
export interface Mfcc {
  data: Float32Array;
  nMfcc: number;
  frames: number;
}

interface MeydaGlobal {
  bufferSize: number;
  sampleRate: number;
  melBands: number;
  numberOfMFCCCoefficients: number;
  windowingFunction: string;
  extract(feature: string, signal: Float32Array): unknown;
}
const meyda = Meyda as unknown as MeydaGlobal;

function frames(samples: Float32Array, opts: FrameOptions): { size: number; hop: number; count: number; x: Float32Array } {
  const size = opts.frameSize ?? 1024;
  const hop = opts.hop ?? 256;
  if (!(Number.isInteger(size) && size >= 2 && (size & (size - 1)) === 0)) throw new Error(`features: frameSize ${size} must be a power of two`);
  if (!(Number.isInteger(hop) && hop >= 1)) throw new Error(`features: hop ${hop} must be a positive integer`);
  let x = samples;
  if (x.length < size) {
    x = new Float32Array(size);
    x.set(samples);
  }
  return { size, hop, count: frameCount(x.length, size, hop), x };
}

/** MFCCs of mono samples at `sampleRate` Hz (meyda, Hann-windowed frames). */
export function mfcc(samples: Float32Array, sampleRate: number, opts: MfccOptions = {}): Mfcc {
  const { size, hop, count, x } = frames(samples, opts);
  const nMfcc = opts.nMfcc ?? 13;
  meyda.bufferSize = size;
  meyda.sampleRate = sampleRate;
  meyda.melBands = opts.melBands ?? 26;
  meyda.numberOfMFCCCoefficients = nMfcc;
  meyda.windowingFunction = 'hanning';
  const data = new Float32Array(nMfcc * count);
  for (let t = 0; t < count; t++) {
    const c = meyda.extract('mfcc', x.slice(t * hop, t * hop + size)) as number[];
    for (let i = 0; i < nMfcc; i++) data[i * count + t] = c[i]!;
  }
  return { data, nMfcc, frames: count };
}

/** Root-mean-square of each (unwindowed) frame, [frames]. `sampleRate` only configures meyda. */
export function rms(samples: Float32Array, sampleRate: number, opts: FrameOptions = {}): Float32Array {
  const { size, hop, count, x } = frames(samples, opts);
  meyda.bufferSize = size;
  meyda.sampleRate = sampleRate;
  meyda.windowingFunction = 'rect'; // meyda windows before every feature; RMS wants the raw frame
  const out = new Float32Array(count);
  for (let t = 0; t < count; t++) out[t] = meyda.extract('rms', x.slice(t * hop, t * hop + size)) as number;
  return out;
}
