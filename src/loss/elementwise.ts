/**
 * Element-wise losses of a residual r and a threshold δ.
 *
 * For Grad-TTS the residual is r = s_θ(x_t, μ, t)·√λ_t + z (score estimate scaled by the noise std,
 * plus the noise that was added), so l2 gives the original Grad-TTS diffusion loss and the
 * pseudo-Huber family gives the robust losses of "Improving Diffusion Models's Data-Corruption
 * Resistance using Scheduled Pseudo-Huber Loss" (arXiv 2403.16728).
 *
 * Every formula is written so that float32 keeps its accuracy for large δ:
 * √(r²+δ²) − δ = r² / (√(r²+δ²) + δ) avoids the cancellation of two nearly equal numbers
 * (with δ = 1e4 and r = 0.1 the naive form returns exactly 0 in float32).
 */
import * as tf from '@tensorflow/tfjs';

/** Loss names accepted in recipes (`loss.type`). */
export const LOSS_TYPES = ['l2', 'l1', 'huber', 'pseudo-huber', 'pseudo-huber-lcm', 'smooth-l1'] as const;
export type LossType = (typeof LOSS_TYPES)[number];

/** True for the losses that ignore δ. */
export function usesDelta(type: LossType): boolean {
  return type !== 'l2' && type !== 'l1';
}

/**
 * The element-wise loss, as a tensor of the broadcast shape of r and δ.
 * - `l2`: r²
 * - `l1`: |r|
 * - `huber` (torch.nn.HuberLoss with delta δ): ½r² if |r| ≤ δ else δ(|r| − ½δ)
 * - `pseudo-huber` (paper / diffusers, corrected scaling): 2δ(√(r²+δ²) − δ); → r² as δ → ∞,
 *   → 2δ|r| for |r| ≫ δ, |∂/∂r| = 2δ|r|/√(r²+δ²) < 2δ
 * - `pseudo-huber-lcm` (LCM / OpenAI consistency models): √(r²+δ²) − δ
 * - `smooth-l1` (diffusers' name): 2(√(r²+δ²) − δ)
 *
 * @param r residual, any shape (e.g. [B, F, T])
 * @param delta δ > 0, a number or a tensor that broadcasts against r (e.g. [B, 1, 1]); ignored by l2 and l1
 */
export function elementwiseLoss(type: LossType, r: tf.Tensor, delta: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    switch (type) {
      case 'l2':
        return tf.square(r);
      case 'l1':
        return absSignGrad(r);
      case 'huber': {
        // ½·min(|r|,δ)² + δ·(|r| − min(|r|,δ)) is the piecewise form without tf.where, so it
        // broadcasts δ freely and its gradient is r inside and ±δ outside.
        const a = tf.abs(r);
        const m = tf.minimum(a, delta);
        return tf.add(tf.mul(0.5, tf.square(m)), tf.mul(delta, tf.sub(a, m)));
      }
      case 'pseudo-huber':
        return tf.mul(tf.mul(2, delta), sqrtMinusDelta(r, delta));
      case 'pseudo-huber-lcm':
        return sqrtMinusDelta(r, delta);
      case 'smooth-l1':
        return tf.mul(2, sqrtMinusDelta(r, delta));
      default:
        throw new Error(`unknown loss type '${type as string}'`);
    }
  });
}

/**
 * |r| whose gradient is sign(r), i.e. 0 at r = 0 like PyTorch (tfjs's own Abs gradient gives −1
 * there, which would push exactly-fitted cells away).
 */
const absSignGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  return { value: tf.abs(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sign(saved[0]!)) };
}) as (x: tf.Tensor) => tf.Tensor;

/** √(r²+δ²) − δ computed as r² / (√(r²+δ²) + δ) (no cancellation for large δ). */
function sqrtMinusDelta(r: tf.Tensor, delta: tf.Tensor | number): tf.Tensor {
  const r2 = tf.square(r);
  const s = tf.sqrt(tf.add(r2, tf.square(delta)));
  return tf.div(r2, tf.add(s, delta));
}

/** The same losses on plain numbers (float64), for tables, plots and test references. */
export function lossAt(type: LossType, r: number, delta: number): number {
  const a = Math.abs(r);
  const smd = (r * r) / (Math.hypot(r, delta) + delta);
  switch (type) {
    case 'l2':
      return r * r;
    case 'l1':
      return a;
    case 'huber':
      return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
    case 'pseudo-huber':
      return 2 * delta * smd;
    case 'pseudo-huber-lcm':
      return smd;
    case 'smooth-l1':
      return 2 * smd;
    default:
      throw new Error(`unknown loss type '${type as string}'`);
  }
}
