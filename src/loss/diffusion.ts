/** The diffusion loss of one training step: δ from t, element-wise loss, masked mean. */
import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from './config.js';
import { elementwiseLoss } from './elementwise.js';
import { maskedMean } from './reduce.js';
import { deltaTensor, type VpSde } from './schedule.js';

/**
 * @param sde the model's VP-SDE (β₀, β₁), which δ schedules that read it (snr) follow
 * @param residual [B, F, T]: s_θ(x_t, μ, t)·√λ_t + z
 * @param mask [B, 1, T] of 0/1 (valid mel frames)
 * @param t [B] diffusion times in [0, 1]
 * @returns the scalar loss (mean over valid cells) and the δ used per sample [B]; the caller disposes both.
 *   With l2 the loss equals Grad-TTS's Σ((s·√λ + z)²·mask)/(Σmask·n_feats).
 * @param den the denominator instead of the batch's own Σmask·n_feats (a worker shard passes the whole batch's)
 */
export function diffusionLoss(
  cfg: LossConfig,
  sde: VpSde,
  residual: tf.Tensor3D,
  mask: tf.Tensor3D,
  t: tf.Tensor1D,
  den?: number,
): { loss: tf.Scalar; delta: tf.Tensor1D } {
  const delta = deltaTensor(cfg, t, sde);
  const loss = tf.tidy(() => {
    const el = elementwiseLoss(cfg.type, residual, tf.reshape(delta, [-1, 1, 1])) as tf.Tensor3D;
    return maskedMean(el, mask, den);
  });
  return { loss, delta };
}
