/**
 * Grad-TTS's VP-SDE with a data-dependent prior mean μ (Popov et al. 2021, eqs. 1–6, 9–12):
 *   dX_t = ½ (μ − X_t) β_t dt + √β_t dW_t,   β(t) = β0 + (β1 − β0) t.
 * Forward marginal: X_t | X_0 ~ N(X_0 e^{−½∫β} + μ (1 − e^{−½∫β}), λ_t I), λ_t = 1 − e^{−∫β}.
 * Tensors [B, F, W] (mels), masks [B, 1, W].
 */
import * as tf from '@tensorflow/tfjs';

/** β(t). */
export function betaAt(t: number, beta0: number, beta1: number): number {
  return beta0 + (beta1 - beta0) * t;
}

/** ∫₀ᵗ β(s) ds = β0 t + ½ (β1 − β0) t². */
export function betaIntegral(t: number, beta0: number, beta1: number): number {
  return beta0 * t + 0.5 * (beta1 - beta0) * t * t;
}

/** Variance of the forward marginal at t: λ_t = 1 − e^{−∫β}. */
export function lambdaAt(t: number, beta0: number, beta1: number): number {
  return 1 - Math.exp(-betaIntegral(t, beta0, beta1));
}

/**
 * Samples x_t from the forward process. x0, mu [B, F, W], mask [B, 1, W], t (one per sample),
 * z [B, F, W] standard normal → x_t (masked). Also returns √λ_t per sample as [B, 1, 1].
 */
export function forwardDiffusion(
  x0: tf.Tensor3D,
  mu: tf.Tensor3D,
  mask: tf.Tensor3D,
  t: number[],
  z: tf.Tensor3D,
  beta0: number,
  beta1: number,
): { xt: tf.Tensor3D; sqrtLambda: tf.Tensor3D } {
  const b = t.length;
  const decay = Float32Array.from(t, (ti) => Math.exp(-0.5 * betaIntegral(ti, beta0, beta1)));
  const sl = Float32Array.from(t, (ti) => Math.sqrt(lambdaAt(ti, beta0, beta1)));
  const d = tf.tensor3d(decay, [b, 1, 1]);
  const sqrtLambda = tf.tensor3d(sl, [b, 1, 1]);
  const mean = tf.add(tf.mul(x0, d), tf.mul(mu, tf.sub(1, d)));
  const xt = tf.mul(tf.add(mean, tf.mul(z, sqrtLambda)), mask) as tf.Tensor3D;
  return { xt, sqrtLambda };
}

/**
 * One reverse step from t to t − h (Grad-TTS's reverse_diffusion), x, mu, score [B, F, W]:
 *   ODE (probability flow): x ← x − ½ (μ − x − s) β(t) h
 *   SDE: x ← x − [(½ (μ − x) − s) β(t) h + √(β(t) h) z]
 * Returns the new x (masked).
 */
export function reverseStep(
  x: tf.Tensor3D,
  mu: tf.Tensor3D,
  score: tf.Tensor3D,
  mask: tf.Tensor3D,
  t: number,
  h: number,
  beta0: number,
  beta1: number,
  noise: tf.Tensor3D | null,
): tf.Tensor3D {
  const bh = betaAt(t, beta0, beta1) * h;
  return tf.tidy(() => {
    let dx: tf.Tensor;
    if (noise) {
      dx = tf.add(tf.mul(tf.sub(tf.mul(tf.sub(mu, x), 0.5), score), bh), tf.mul(noise, Math.sqrt(bh)));
    } else {
      dx = tf.mul(tf.sub(tf.sub(mu, x), score), 0.5 * bh);
    }
    return tf.mul(tf.sub(x, dx), mask) as tf.Tensor3D;
  });
}
