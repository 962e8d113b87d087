/**
 * Masked reductions over mel frames, as Grad-TTS's diffusion loss:
 * Σ(loss·mask) / (Σmask · n_feats), i.e. the mean over valid frames and all mel bins.
 * An all-zero mask gives 0 (not NaN): the denominator is clamped to at least 1.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * loss [B, F, T], mask [B, 1, T] of 0/1 → scalar mean over valid (frame, bin) cells of the batch.
 * `den` replaces the batch's own max(Σmask·F, 1): a shard of a larger batch passes the whole
 * batch's count, so that the shards' results sum to the whole batch's mean.
 */
export function maskedMean(loss: tf.Tensor3D, mask: tf.Tensor3D, den?: number): tf.Scalar {
  return tf.tidy(() => {
    const nFeats = loss.shape[1];
    const num = tf.sum(tf.mul(loss, mask));
    if (den !== undefined) return tf.div(num, den) as tf.Scalar;
    const own = tf.maximum(tf.mul(tf.sum(mask), nFeats), 1);
    return tf.div(num, own) as tf.Scalar;
  });
}

/** loss [B, F, T], mask [B, 1, T] → [B]: each sample's mean over its own valid cells (for weighting). */
export function perSampleMaskedMean(loss: tf.Tensor3D, mask: tf.Tensor3D): tf.Tensor1D {
  return tf.tidy(() => {
    const nFeats = loss.shape[1];
    const num = tf.sum(tf.mul(loss, mask), [1, 2]);
    const den = tf.maximum(tf.mul(tf.sum(mask, [1, 2]), nFeats), 1);
    return tf.div(num, den) as tf.Tensor1D;
  });
}
