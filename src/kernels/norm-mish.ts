/**
 * The tail of every U-Net block as one op, for inference: (+ the conv's bias) → masked GroupNorm →
 * Mish → (+ a per-sample, per-channel bias, e.g. the time embedding) → ×mask (→ + the resnet's
 * residual).
 *
 * Unfused, this is activations.ts's groupNorm and mish plus four broadcasting adds/multiplies, i.e.
 * four full-size passes in the GroupNorm kernel (two statistics passes, the affine, and the mask
 * inside none), one for Mish and one per add/multiply. On wasm with src/kernels registered it is
 * the `DiffttsGroupNormMishMask` kernel of pointwise.ts: the two statistics passes and one pass that
 * does all the rest (wasm/pointwise-module.ts `normMish`). Same definition as activations.ts:
 * statistics over (H, valid W, C/groups) per sample and group, every position normalised with them.
 *
 * Forward only: while a gradient tape records (training), on other backends, or for operands the
 * kernel does not take (C not a multiple of 4), it runs the existing ops, so training is unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { groupNorm, mish } from './activations.js';
import { groupNormFits, pointwiseActive } from './pointwise.js';

let forced: boolean | null = null;

/** Test/benchmark hook: force the fused kernel off (false), or back to automatic (null). */
export function setFusedNormMish(v: false | null): void {
  forced = v;
}

/** Whether groupNormMishMask(x, mask) takes the fused kernel now. */
export function fusedNormMishActive(x: tf.Tensor4D, mask: tf.Tensor4D): boolean {
  return forced === null && pointwiseActive() && groupNormFits(x, mask) && !tf.engine().isTapeOn();
}

/** Optional extra terms of groupNormMishMask. */
export interface NormMishExtras {
  /** [C], added to x before the norm (the preceding conv's bias). */
  convBias?: tf.Tensor1D | null;
  /** [B, C], added after Mish, before the mask (the time embedding). */
  bias?: tf.Tensor2D | null;
  /** [B, H, W, C], added after the mask (a resnet's skip path). */
  residual?: tf.Tensor4D | null;
}

/**
 * (Mish(GroupNorm(x + convBias)) + bias)·mask + residual.
 * @param x [B, H, W, C]; @param mask [B, 1, W, 1], entries 0 or 1 (frame masks);
 * @param gamma, beta [C] GroupNorm gain and bias; eps as activations.ts's groupNorm;
 * @returns [B, H, W, C] (zero where mask is 0, unless residual is not).
 */
export function groupNormMishMask(
  x: tf.Tensor4D,
  mask: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps: number,
  extras: NormMishExtras = {},
): tf.Tensor4D {
  const [b, , w, c] = x.shape;
  const { convBias = null, bias = null, residual = null } = extras;
  if (c % groups !== 0) throw new Error(`groupNormMishMask: ${c} channels do not split into ${groups} groups`);
  if (mask.size !== b * w) throw new Error(`groupNormMishMask: mask [${mask.shape}] for x [${x.shape}] (expected [${b}, 1, ${w}, 1])`);
  if (convBias && convBias.size !== c) throw new Error(`groupNormMishMask: convBias [${convBias.shape}] (expected [${c}])`);
  if (bias && (bias.shape[0] !== b || bias.shape[1] !== c))
    throw new Error(`groupNormMishMask: bias [${bias.shape}] (expected [${b}, ${c}])`);
  if (residual && residual.shape.join(',') !== x.shape.join(','))
    throw new Error(`groupNormMishMask: residual [${residual.shape}] (expected [${x.shape}])`);
  if (fusedNormMishActive(x, mask)) {
    const inputs: tf.NamedTensorMap = { x, mask, gamma, beta };
    if (convBias) inputs.convBias = convBias;
    if (bias) inputs.bias = bias;
    if (residual) inputs.residual = residual;
    return tf.engine().runKernel('DiffttsGroupNormMishMask', inputs, { groups, eps } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const y = mish(groupNorm(convBias ? (tf.add(x, convBias) as tf.Tensor4D) : x, mask, gamma, beta, groups, eps));
    const out = tf.mul(bias ? tf.add(y, tf.reshape(bias, [b, 1, 1, c])) : y, mask) as tf.Tensor4D;
    return residual ? tf.add(out, residual) : out;
  });
}
