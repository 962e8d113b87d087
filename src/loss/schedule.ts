/**
 * δ schedules: δ as a pure function of the diffusion time t ∈ [0, 1] of Grad-TTS's VP-SDE,
 * β(t) = β₀ + (β₁ − β₀)t (the SDE belongs to the model config; the loss receives it as `VpSde`), ∫₀ᵗβ = β₀t + ½(β₁ − β₀)t², noise std at t: √λ_t = √(1 − e^{−∫β}).
 *
 * - `constant`:    δ(t) = c
 * - `exponential`: δ(t) = c^t            (δ(0) = 1, δ(1) = c)
 * - `snr`:         δ(t) = (1 − c)/(1 + σ(t))² + c, σ(t) = √(e^{∫β} − 1)  (δ(0) = 1, δ(1) ≈ c)
 *
 * then δ ← scale·δ (kohya's huber_scale). With `reversed` the schedule is read at 1 − t.
 * σ(t) is the noise-to-signal ratio of the VP process (std of the noise over the scale of x₀).
 */
import * as tf from '@tensorflow/tfjs';
import type { LossConfig } from './config.js';

/** Schedule names accepted in recipes (`loss.schedule`). */
export const SCHEDULES = ['constant', 'exponential', 'snr'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

/** ∫₀ᵗ β(s) ds for the linear β schedule. */
export function integralBeta(t: number, beta0: number, beta1: number): number {
  return beta0 * t + 0.5 * (beta1 - beta0) * t * t;
}

/** σ(t) = √(e^{∫β} − 1), the noise-to-signal ratio of the VP-SDE at time t. */
export function vpSigma(t: number, beta0: number, beta1: number): number {
  return Math.sqrt(Math.expm1(integralBeta(t, beta0, beta1)));
}

/** The VP-SDE's linear β schedule, β(t) = β₀ + (β₁ − β₀)t: the model config's `beta0`, `beta1`. */
export interface VpSde {
  beta0: number;
  beta1: number;
}

type ScheduleCfg = Pick<LossConfig, 'schedule' | 'c' | 'scale' | 'reversed'>;

/** δ at time t (plain numbers, float64) under the model's SDE. Defined for any t; the model uses t ∈ [ε, 1]. */
export function deltaAt(cfg: ScheduleCfg, t: number, sde: VpSde): number {
  const u = cfg.reversed ? 1 - t : t;
  let d: number;
  switch (cfg.schedule) {
    case 'constant':
      d = cfg.c;
      break;
    case 'exponential':
      d = cfg.c ** u;
      break;
    case 'snr': {
      const s = vpSigma(u, sde.beta0, sde.beta1);
      d = (1 - cfg.c) / ((1 + s) * (1 + s)) + cfg.c;
      break;
    }
    default:
      throw new Error(`unknown schedule '${cfg.schedule as string}'`);
  }
  return cfg.scale * d;
}

/**
 * δ for a batch of times, t [B] → δ [B] (float32), the same formulas as deltaAt.
 *
 * With `deltaPer: 'batch'` every sample gets the δ of the FIRST sample's t, as the paper's training
 * code does (it draws one δ per batch); with the default `'sample'` each sample uses its own t.
 */
export function deltaTensor(cfg: LossConfig, t: tf.Tensor1D, sde: VpSde): tf.Tensor1D {
  return tf.tidy(() => {
    const b = t.shape[0];
    let u: tf.Tensor1D = cfg.deltaPer === 'batch' ? tf.tile(tf.slice(t, [0], [1]), [b]) : t;
    if (cfg.reversed) u = tf.sub(1, u);
    let d: tf.Tensor1D;
    switch (cfg.schedule) {
      case 'constant':
        d = tf.fill([b], cfg.c);
        break;
      case 'exponential':
        d = tf.exp(tf.mul(u, Math.log(cfg.c))) as tf.Tensor1D;
        break;
      case 'snr': {
        const ib = tf.add(tf.mul(u, sde.beta0), tf.mul(tf.square(u), 0.5 * (sde.beta1 - sde.beta0)));
        // expm1 keeps σ accurate near t = 0 where e^{∫β} − 1 is tiny.
        const s = tf.sqrt(tf.expm1(ib));
        d = tf.add(tf.div(1 - cfg.c, tf.square(tf.add(s, 1))), cfg.c) as tf.Tensor1D;
        break;
      }
      default:
        throw new Error(`unknown schedule '${cfg.schedule as string}'`);
    }
    return cfg.scale === 1 ? d : tf.mul(d, cfg.scale);
  });
}
