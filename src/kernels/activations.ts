/**
 * Mish and masked GroupNorm with hand-written gradients and as few full-size ops as possible.
 *
 * On wasm, transcendental unary ops are the expensive element-wise ops (tanh ~23 ms, softplus
 * ~18 ms, exp ~10 ms per 1.3 M floats, vs < 1 ms for add/mul), and autodiff of x·tanh(softplus(x))
 * adds sigmoid and more. Here Mish costs ONE exp forward and none backward; GroupNorm's backward is
 * the closed form instead of autodiff through ~15 broadcasting ops. Both are plain tfjs ops, so
 * they run (and are exact) on every backend. On wasm with src/kernels registered, both run as
 * single-pass SIMD kernels instead (pointwise.ts), with the same formulas.
 */
import * as tf from '@tensorflow/tfjs';
import { groupNormFits, pointwiseActive } from './pointwise.js';

type SaveFn = (tensors: tf.Tensor[]) => void;

/**
 * Mish(x) = x·tanh(softplus(x)) (Misra 2019), as x·(1 − q) with n = eˣ, q = 2/(n(n + 2) + 2) — the
 * identity tanh(log(1 + n)) = ((1+n)² − 1)/((1+n)² + 1). One exp, no clamp (wasm's Minimum costs
 * 6 ms per 1.3 M floats, as much as the exp): n = ∞ (x > 88) gives q = 0, exactly x.
 * Gradient: (1 − q) + x·p·(p + q) with p = n·q = 2/(n + 2 + 2/n), which is 0 (not ∞·0) at both
 * n = 0 and n = ∞. Any shape.
 */
export function mish<T extends tf.Tensor>(x: T): T {
  if (pointwiseActive() && x.dtype === 'float32') {
    const fast = tf.customGrad((xx, save) => {
      (save as unknown as SaveFn)([xx as tf.Tensor]);
      return {
        value: tf.engine().runKernel('DiffttsMish', { x: xx as tf.Tensor }) as tf.Tensor,
        gradFunc: (dy, saved) =>
          tf.engine().runKernel('DiffttsMishGrad', { x: (saved as tf.Tensor[])[0]!, dy: dy as tf.Tensor }) as tf.Tensor,
      };
    });
    return fast(x) as T;
  }
  const op = tf.customGrad((xx, save) => {
    const xt = xx as tf.Tensor;
    const n = tf.exp(xt);
    const q = tf.div(2, tf.add(tf.mul(n, tf.add(n, 2)), 2));
    (save as unknown as SaveFn)([xt, n, q]);
    return {
      value: tf.mul(xt, tf.sub(1, q)),
      gradFunc: (dy, saved) => {
        const [sx, sn, sq] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        return tf.tidy(() => {
          const p = tf.div(2, tf.add(tf.add(sn, 2), tf.div(2, sn)));
          const dt = tf.mul(p, tf.add(p, sq));
          return tf.mul(dy, tf.add(tf.sub(1, sq), tf.mul(sx, dt)));
        });
      },
    };
  });
  return op(x) as T;
}

/** Per-channel sums over positions: t [B, H, W, C] → [B, C]. */
function channelSums(t: tf.Tensor4D): tf.Tensor2D {
  return tf.sum(t, [1, 2]) as tf.Tensor2D;
}

/** Per-(batch, group) totals of per-channel values, broadcast back per channel: [B, C] → [B, 1, 1, C]. */
function groupTotals(s: tf.Tensor2D, groups: number): tf.Tensor4D {
  const [b, c] = s.shape;
  const cg = c / groups;
  const g = tf.sum(tf.reshape(s, [b, groups, cg]), 2, true); // [B, G, 1]
  return tf.reshape(tf.tile(g, [1, 1, cg]), [b, 1, 1, c]) as tf.Tensor4D;
}

/**
 * GroupNorm whose statistics count only valid positions (same definition as src/model/layers.ts):
 * x [B, H, W, C], mask [B, 1, W, 1] (1 = valid frame; any shape broadcastable to x with H = 1 and
 * C = 1), gamma, beta [C]. mean/var over (H, valid W, C/groups) per sample and group; every
 * position (valid or not) is normalised with them: y = (x − μ)/√(σ² + eps)·γ + β.
 *
 * Backward (N = valid count, x̂ the normalised input, g = dy·γ, sums over ALL positions of the
 * group, since padded outputs also depend on μ and σ): dx = r·(g − m·(Σg + x̂·Σ(g·x̂))/N).
 */
export function groupNorm(
  x: tf.Tensor4D,
  mask: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps = 1e-5,
): tf.Tensor4D {
  const [b, h, , c] = x.shape;
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  if (pointwiseActive() && groupNormFits(x, mask)) return groupNormWasm(x, mask, gamma, beta, groups, eps);
  const op = tf.customGrad((xx, mm, gg, bb, save) => {
    const xt = xx as tf.Tensor4D,
      mt = mm as tf.Tensor4D,
      gt = gg as tf.Tensor1D,
      bt = bb as tf.Tensor1D;
    const count = tf.reshape(tf.mul(tf.sum(mt, [1, 2, 3]), h * (c / groups)), [b, 1, 1, 1]); // N per sample
    const mean = tf.div(groupTotals(channelSums(tf.mul(xt, mt) as tf.Tensor4D), groups), count);
    const d = tf.sub(xt, mean) as tf.Tensor4D;
    const variance = tf.div(groupTotals(channelSums(tf.square(tf.mul(d, mt)) as tf.Tensor4D), groups), count);
    const r = tf.rsqrt(tf.add(variance, eps)) as tf.Tensor4D; // [B, 1, 1, C]
    const xhat = tf.mul(d, r) as tf.Tensor4D;
    (save as unknown as SaveFn)([xhat, r, mt, gt, count]);
    return {
      value: tf.add(tf.mul(xhat, gt), bt) as tf.Tensor4D,
      gradFunc: (dy, saved) => {
        const [sx, sr, sm, sg, sn] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor];
        return tf.tidy(() => {
          const dy4 = dy as tf.Tensor4D;
          // Two full-size reductions serve all four sums: γ is per channel, so Σ(dy·γ) and
          // Σ(dy·γ·x̂) per group are γ-weighted totals of the per-channel Σdy and Σ(dy·x̂).
          const sumDy = channelSums(dy4); // [B, C]
          const sumDyX = channelSums(tf.mul(dy4, sx) as tf.Tensor4D); // [B, C]
          const dbeta = tf.sum(sumDy, 0);
          const dgamma = tf.sum(sumDyX, 0);
          const s1 = tf.div(groupTotals(tf.mul(sumDy, sg) as tf.Tensor2D, groups), sn);
          const s2 = tf.div(groupTotals(tf.mul(sumDyX, sg) as tf.Tensor2D, groups), sn);
          const dx = tf.mul(tf.sub(tf.mul(dy4, sg), tf.mul(tf.add(tf.mul(sx, s2), s1), sm)), sr);
          return [dx, tf.zerosLike(sm), dgamma, dbeta];
        });
      },
    };
  });
  return op(x, mask, gamma, beta) as tf.Tensor4D;
}

/** groupNorm on the wasm SIMD kernels (same definition and gradient; pointwise.ts). */
function groupNormWasm(x: tf.Tensor4D, mask: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, groups: number, eps: number): tf.Tensor4D {
  const op = tf.customGrad((xx, mm, gg, bb, save) => {
    const inputs = { x: xx as tf.Tensor, mask: mm as tf.Tensor, gamma: gg as tf.Tensor, beta: bb as tf.Tensor };
    const [y, mean, rstd] = tf.engine().runKernel('DiffttsGroupNorm', inputs, { groups, eps }) as tf.Tensor[];
    (save as unknown as SaveFn)([xx as tf.Tensor, mm as tf.Tensor, gg as tf.Tensor, mean!, rstd!]);
    return {
      value: y!,
      gradFunc: (dy, saved) => {
        const [sx, sm, sg, smean, srstd] = saved as tf.Tensor[];
        const [dx, dgamma, dbeta] = tf
          .engine()
          .runKernel(
            'DiffttsGroupNormGrad',
            { dy: dy as tf.Tensor, x: sx!, mask: sm!, mean: smean!, rstd: srstd!, gamma: sg! },
            { groups },
          ) as tf.Tensor[];
        return [dx!, tf.zerosLike(sm!), dgamma!, dbeta!];
      },
    };
  });
  return op(x, mask, gamma, beta) as tf.Tensor4D;
}
