/**
 * Cepstra of log-mel frames: an orthonormal DCT-II over the mel bins of each frame.
 *
 * c_k = s_k · Σ_{n=0}^{N−1} x_n cos(π k (2n + 1) / (2N)), s_0 = √(1/N), s_k = √(2/N) (k ≥ 1).
 * Being orthonormal, the Euclidean distance between two cepstra over ALL coefficients equals the
 * distance between the log-mel frames themselves (Parseval); c_0 = √N · mean(x) carries the loudness.
 */
import type { Mel } from '../audio/mel.js';

const bases = new Map<number, Float64Array>();

/** The orthonormal DCT-II matrix [N, N] (row k = basis k), cached per N. */
export function dctMatrix(N: number): Float64Array {
  let b = bases.get(N);
  if (!b) {
    b = new Float64Array(N * N);
    for (let k = 0; k < N; k++) {
      const s = k === 0 ? Math.sqrt(1 / N) : Math.sqrt(2 / N);
      for (let n = 0; n < N; n++) b[k * N + n] = s * Math.cos((Math.PI * k * (2 * n + 1)) / (2 * N));
    }
    bases.set(N, b);
  }
  return b;
}

/** Orthonormal DCT-II of one vector. */
export function dct2(x: ArrayLike<number>): Float64Array {
  const N = x.length;
  const B = dctMatrix(N);
  const out = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    let acc = 0;
    for (let n = 0; n < N; n++) acc += B[k * N + n]! * x[n]!;
    out[k] = acc;
  }
  return out;
}

/**
 * Mel-cepstra of every frame, coefficients c_first … c_{first+count−1}.
 * @returns frame-major [frames, count] (row t = frame t)
 */
export function melCepstra(mel: Mel, count: number, first = 1): Float64Array {
  const { nMels, frames, data } = mel;
  if (first + count > nMels) throw new Error(`melCepstra: asked for c${first}…c${first + count - 1} but the mel has only ${nMels} bins`);
  const B = dctMatrix(nMels);
  const out = new Float64Array(frames * count);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < count; k++) {
      let acc = 0;
      const row = (first + k) * nMels;
      for (let n = 0; n < nMels; n++) acc += B[row + n]! * data[n * frames + t]!;
      out[t * count + k] = acc;
    }
  }
  return out;
}
