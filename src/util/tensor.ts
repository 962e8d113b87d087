/**
 * Reading tensor values back to JS.
 *
 * Never return a typed array from `tf.tidy`: tidy walks its result looking for tensors, and a
 * typed array is walked element by element through a Set (tfjs-core walkTensorContainer) — for
 * MAS's [B, tokens, frames] log-likelihoods that was ~20 % of an encoder step plus the garbage it
 * leaves. `readSync` computes inside a tidy, returns the tensor, reads it, disposes it.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The values of the tensor `fn` builds, read asynchronously (webgpu in Node has no synchronous
 * reads); intermediates and the tensor itself are disposed.
 */
export async function readAsync(fn: () => tf.Tensor): Promise<Float32Array | Int32Array | Uint8Array> {
  const t = tf.tidy(fn);
  try {
    return (await t.data()) as Float32Array | Int32Array | Uint8Array;
  } finally {
    t.dispose();
  }
}

/** The values of the tensor `fn` builds (intermediates disposed), as its backend returns them. */
export function readSync(fn: () => tf.Tensor): Float32Array | Int32Array | Uint8Array {
  const t = tf.tidy(fn);
  try {
    return t.dataSync() as Float32Array | Int32Array | Uint8Array;
  } finally {
    t.dispose();
  }
}

/**
 * The tensors' values concatenated in order as one Float32 [Σ sizes] buffer (weights or gradients
 * as the worker pool and HostAdam hold them). Synchronous reads: wasm/cpu backends.
 */
export function concatData(ts: Iterable<tf.Tensor>, into?: Float32Array): Float32Array {
  const list = [...ts];
  const size = list.reduce((s, t) => s + t.size, 0);
  if (into && into.length !== size) throw new Error(`concatData: ${into.length} floats to fill from tensors of ${size}`);
  const out = into ?? new Float32Array(size);
  let off = 0;
  for (const t of list) {
    out.set(t.dataSync() as Float32Array, off);
    off += t.size;
  }
  return out;
}

/** Tensors shaped like `like` from consecutive slices of `flat` (copies: the cpu backend keeps the array it is given). */
export function splitData(flat: Float32Array, like: readonly tf.Tensor[]): tf.Tensor[] {
  let off = 0;
  const out = like.map((v) => {
    const t = tf.tensor(flat.slice(off, off + v.size), v.shape, 'float32');
    off += v.size;
    return t;
  });
  if (off !== flat.length) throw new Error(`splitData: ${flat.length} values for tensors of ${off}`);
  return out;
}

/** Assigns consecutive slices of `flat` to `vars` (concatData's inverse). */
export function assignData(vars: readonly tf.Variable[], flat: Float32Array): void {
  tf.tidy(() => splitData(flat, vars).forEach((t, i) => vars[i]!.assign(t)));
}
