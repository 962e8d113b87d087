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
