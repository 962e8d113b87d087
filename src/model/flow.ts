/**
 * Optimal-transport conditional flow matching (Lipman et al. 2023; Matcha-TTS's decoder, Mehta et
 * al. 2024) on Grad-TTS's U-Net: `model.decoder.objective: "flow"`.
 *
 * Time runs the other way from Grad-TTS's: t = 0 is noise x0 ~ N(0, I), t = 1 is data x1 (a mel
 * segment). With σ_min = 1e-4:
 *   path    x_t = (1 − (1 − σ_min)·t)·x0 + t·x1
 *   target  u   = dx_t/dt = x1 − (1 − σ_min)·x0
 * The U-Net predicts v(x_t, μ, t); the loss is the chosen element-wise loss of the residual v − u
 * (masked mean, as Grad-TTS's). δ schedules are functions of a noise-level time s (s = 0 at the
 * data, where they give their largest δ): the flow reads them at s = 1 − t (`flowScheduleTime`), so
 * δ is large near data as for the score decoder. (The snr schedule then follows the VP-SDE's σ at
 * 1 − t, not the OT path's own noise-to-signal ratio (1 − t)/t.)
 * Sampling: Euler steps from t = 0 to 1 on x' = v(x, μ, t), from x0 = n/τ (τ: the temperature, as
 * Grad-TTS's N(μ, τ⁻¹ I) — so Matcha's temperature 0.667 is τ = 1.5); μ conditions the U-Net but
 * is not the noise's mean.
 * Shallow flow (the flow's counterpart of shallow diffusion, `synth.startTime` s₀ < 1 with
 * `loss.tMax` ≥ s₀): both read noise levels s = 1 − t, so training draws t ∈ (1 − tMax, 1) only, and
 * sampling starts at t₀ = 1 − s₀ from the path's point with μ standing in for the data,
 * x_{t₀} = (1 − (1 − σ_min)t₀)·n/τ + t₀·μ (`flowStart`), and integrates from t₀ to 1 — so the
 * decoder refines μ instead of building the mel from noise, and trains only the times it samples.
 * Tensors [B, F, W] (mels), masks [B, 1, W].
 */
import * as tf from '@tensorflow/tfjs';

/** Matcha-TTS's σ_min. */
export const SIGMA_MIN = 1e-4;

/** Per-item times t [B] as a [B, 1, 1] tensor. */
function perItem(t: number[]): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(t), [t.length, 1, 1]);
}

/** x_t = (1 − (1 − σ)t)·x0 + t·x1 for each item's t (x0 noise, x1 data), times the mask. */
export function flowPath(x0: tf.Tensor3D, x1: tf.Tensor3D, mask: tf.Tensor3D, t: number[], sigmaMin = SIGMA_MIN): tf.Tensor3D {
  return tf.tidy(
    () => tf.mul(tf.add(tf.mul(x0, perItem(t.map((ti) => 1 - (1 - sigmaMin) * ti))), tf.mul(x1, perItem(t))), mask) as tf.Tensor3D,
  );
}

/** u = x1 − (1 − σ)·x0, the path's velocity (the regression target), times the mask. */
export function flowTarget(x0: tf.Tensor3D, x1: tf.Tensor3D, mask: tf.Tensor3D, sigmaMin = SIGMA_MIN): tf.Tensor3D {
  return tf.tidy(() => tf.mul(tf.sub(x1, tf.mul(x0, 1 - sigmaMin)), mask) as tf.Tensor3D);
}

/**
 * The shallow flow's start (module comment): x_{t₀} = ((1 − (1 − σ)t₀)·n/τ + t₀·μ)·mask with
 * t₀ = 1 − s₀ for noise level s₀ ∈ (0, 1]; s₀ = 1 gives the full flow's n/τ·mask bit for bit.
 */
export function flowStart(
  n: tf.Tensor3D,
  mu: tf.Tensor3D,
  mask: tf.Tensor3D,
  s0: number,
  temperature: number,
  sigmaMin = SIGMA_MIN,
): tf.Tensor3D {
  return tf.tidy(() => {
    if (s0 === 1) return tf.mul(tf.div(n, temperature), mask) as tf.Tensor3D;
    const t0 = 1 - s0;
    return tf.mul(tf.add(tf.mul(n, (1 - (1 - sigmaMin) * t0) / temperature), tf.mul(mu, t0)), mask) as tf.Tensor3D;
  });
}

/** The noise-level time s = 1 − t at which the loss's δ schedules are read (s = 0: data). */
export function flowScheduleTime(t: number): number {
  return 1 - t;
}

/**
 * Euler integration of x' = v(x, t) from t = `from` (default 0) to 1 in `steps` equal steps, v read
 * at the left end t_i = from + i·h, h = (1 − from)/steps (Matcha's solver): x ← (x + v(x, t_i)·h)·mask.
 * `x0` (the state at `from`) stays the caller's; the result is a new tensor. `velocity` returns a
 * fresh tensor (disposed here).
 */
export function eulerFlow(
  x0: tf.Tensor3D,
  mask: tf.Tensor3D,
  steps: number,
  velocity: (x: tf.Tensor3D, t: number) => tf.Tensor3D,
  from = 0,
): tf.Tensor3D {
  const h = (1 - from) / steps;
  let x = tf.clone(x0);
  for (let i = 0; i < steps; i++) {
    const xi = x;
    x = tf.tidy(() => tf.mul(tf.add(xi, tf.mul(velocity(xi, from + i * h), h)), mask) as tf.Tensor3D);
    xi.dispose();
  }
  return x;
}
