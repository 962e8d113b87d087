/**
 * Grad-TTS's prior term, the Gaussian NLL of the mel frames under N(μ_aligned, I), with the robust
 * loss in place of the square when `loss.scope` is "all":
 *   Σ ½(ρ(y − μ) + ln 2π)·mask / den,   ρ(r) = r² (scope "diffusion") or the loss type at δ_prior
 * δ_prior = deltaAt(cfg, 0, sde): the schedule at the data end, where the prior term sits (c for
 * the constant schedule; 1·scale for exponential and snr; c·scale for exponential reversed). The
 * SDE is the model config's (β₀, β₁), as for diffusionLoss: only a reversed snr schedule reads it.
 */
import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from './config.js';
import { elementwiseLoss } from './elementwise.js';
import { deltaAt, type VpSde } from './schedule.js';

const LN_2PI = Math.log(2 * Math.PI);

/** δ of the prior term under scope "all". */
export function priorDelta(cfg: LossConfig, sde: VpSde): number {
  return deltaAt(cfg, 0, sde);
}

/**
 * @param sde the model's VP-SDE (β₀, β₁)
 * @param y, mu [B, F, T] mel frames and aligned μ; mask [B, 1, T] of 0/1 (valid frames)
 * @param den the denominator (Σ mask · F of the whole batch)
 */
export function priorLoss(cfg: LossConfig, sde: VpSde, y: tf.Tensor3D, mu: tf.Tensor3D, mask: tf.Tensor3D, den: number): tf.Scalar {
  return tf.tidy(() => {
    const r = tf.sub(y, mu);
    const rho = cfg.scope === 'all' ? elementwiseLoss(cfg.type, r, priorDelta(cfg, sde)) : tf.square(r);
    return tf.div(tf.sum(tf.mul(tf.mul(tf.add(rho, LN_2PI), 0.5), mask)), den) as tf.Scalar;
  });
}
