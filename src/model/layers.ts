/**
 * Small building blocks shared by the encoder and the decoder: linear/conv layers with named
 * weights, LayerNorm over channels, masked GroupNorm, Mish, and dropout driven by the JS `Rng`.
 * Layout is channels-last: sequences [B, T, C], images [B, H, W, C].
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng.js';
import type { ParamStore } from './params.js';
import { conv1d, conv2d, matMul2d, type Pad } from './ops.js';
import { groupNorm as fastGroupNorm, mish as fastMish } from '../kernels/activations.js';

/**
 * Per-item random streams for dropout: item b of a [B, T, ...] activation draws its keep mask for
 * its lens[b] valid positions from rngs[b], so an item's mask does not depend on which batch (or
 * worker shard) it is in, nor on the batch's padding.
 */
export interface ItemRngs {
  rngs: Rng[];
  /** Valid length of each item along axis 1. */
  lens: number[];
}

/** What a forward pass needs besides its inputs. `rng` drives dropout when `training`. */
export interface Ctx {
  ps: ParamStore;
  training: boolean;
  rng: ItemRngs | null;
}

/** Dense layer on the last axis: x [..., Cin] → [..., Cout]. Weights `${name}.w` [Cin, Cout], `${name}.b`. */
export function linear(ctx: Ctx, name: string, x: tf.Tensor, cout: number, bias = true): tf.Tensor {
  const cin = x.shape[x.shape.length - 1]!;
  const w = ctx.ps.get<tf.Rank.R2>(`${name}.w`, [cin, cout], { kind: 'uniform', fanIn: cin });
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = matMul2d(tf.reshape(x, [-1, cin]), w);
  if (bias) y = tf.add(y, ctx.ps.get(`${name}.b`, [cout], { kind: 'uniform', fanIn: cin }));
  return tf.reshape(y, [...lead, cout]);
}

/** Conv1d layer: x [B, T, Cin] → [B, T, Cout] ('same' padding). `zeroInit` for residual projections. */
export function conv1dLayer(ctx: Ctx, name: string, x: tf.Tensor3D, cout: number, k: number, zeroInit = false): tf.Tensor3D {
  const cin = x.shape[2];
  const init = zeroInit ? ({ kind: 'const', value: 0 } as const) : ({ kind: 'uniform', fanIn: cin * k } as const);
  const w = ctx.ps.get<tf.Rank.R3>(`${name}.w`, [k, cin, cout], init);
  const b = ctx.ps.get(`${name}.b`, [cout], zeroInit ? init : { kind: 'uniform', fanIn: cin * k });
  return tf.add(conv1d(x, w, 1, 'same'), b);
}

/** A conv2d layer's weights: `${name}.w` [k, k, Cin, Cout] and `${name}.b` [Cout]. */
export function conv2dParams(
  ctx: Ctx,
  name: string,
  cin: number,
  cout: number,
  k: number,
): { w: tf.Variable<tf.Rank.R4>; b: tf.Variable<tf.Rank.R1> } {
  const init = { kind: 'uniform', fanIn: cin * k * k } as const;
  return { w: ctx.ps.get<tf.Rank.R4>(`${name}.w`, [k, k, cin, cout], init), b: ctx.ps.get<tf.Rank.R1>(`${name}.b`, [cout], init) };
}

/** Conv2d layer: x [B, H, W, Cin] → [B, H', W', Cout]. */
export function conv2dLayer(
  ctx: Ctx,
  name: string,
  x: tf.Tensor4D,
  cout: number,
  k: number,
  stride = 1,
  pad: Pad = 'same',
  bias = true,
): tf.Tensor4D {
  const cin = x.shape[3];
  if (!bias) return conv2d(x, ctx.ps.get<tf.Rank.R4>(`${name}.w`, [k, k, cin, cout], { kind: 'uniform', fanIn: cin * k * k }), stride, pad);
  const p = conv2dParams(ctx, name, cin, cout, k);
  return tf.add(conv2d(x, p.w, stride, pad), p.b);
}

/** LayerNorm over the last (channel) axis with learned gain/bias, eps 1e-4 (as Grad-TTS). */
export function layerNorm(ctx: Ctx, name: string, x: tf.Tensor, eps = 1e-4): tf.Tensor {
  const c = x.shape[x.shape.length - 1]!;
  const g = ctx.ps.get(`${name}.g`, [c], { kind: 'const', value: 1 });
  const b = ctx.ps.get(`${name}.b`, [c], { kind: 'const', value: 0 });
  const mean = tf.mean(x, -1, true);
  const d = tf.sub(x, mean);
  const variance = tf.mean(tf.square(d), -1, true);
  return tf.add(tf.mul(tf.mul(d, tf.rsqrt(tf.add(variance, eps))), g), b);
}

/**
 * GroupNorm over (H, W, C/groups) counting only valid positions: x [B, H, W, C], mask [B, 1, W, 1]
 * (1 = valid frame). Masking the statistics keeps padded frames from shifting valid outputs.
 * Gain `${name}.g`, bias `${name}.b`; eps 1e-5 (PyTorch's default). The computation is
 * src/kernels/activations.ts's (closed-form backward instead of autodiff through ~15 ops).
 */
export function groupNorm(ctx: Ctx, name: string, x: tf.Tensor4D, mask: tf.Tensor4D, groups: number, eps = 1e-5): tf.Tensor4D {
  const { g, b } = groupNormParams(ctx, name, x.shape[3]);
  return fastGroupNorm(x, mask, g, b, groups, eps);
}

/** A GroupNorm's gain `${name}.g` (init 1) and bias `${name}.b` (init 0), [C] each. */
export function groupNormParams(ctx: Ctx, name: string, c: number): { g: tf.Variable<tf.Rank.R1>; b: tf.Variable<tf.Rank.R1> } {
  return {
    g: ctx.ps.get<tf.Rank.R1>(`${name}.g`, [c], { kind: 'const', value: 1 }),
    b: ctx.ps.get<tf.Rank.R1>(`${name}.b`, [c], { kind: 'const', value: 0 }),
  };
}

/** Mish(x) = x·tanh(softplus(x)) (Misra 2019), as src/kernels/activations.ts's one-exp form. */
export function mish<T extends tf.Tensor>(x: T): T {
  return fastMish(x);
}

/**
 * Inverted dropout on x [B, T, ...] with item b's keep mask drawn from ctx.rng.rngs[b] over its
 * first lens[b] positions (so training is reproducible, resumable and shard-invariant); padded
 * positions get 0 (every consumer masks them anyway). Identity when not training or p = 0.
 */
export function dropout<T extends tf.Tensor>(ctx: Ctx, x: T, p: number): T {
  if (!ctx.training || p <= 0 || !ctx.rng) return x;
  const { rngs, lens } = ctx.rng;
  const [b, t] = x.shape as number[];
  if (rngs.length !== b || lens.length !== b) throw new Error(`dropout: ${rngs.length} item streams for a batch of ${b}`);
  const inner = x.size / (b! * t!);
  const keep = new Float32Array(x.size);
  const scale = 1 / (1 - p);
  for (let s = 0; s < b!; s++) {
    const r = rngs[s]!;
    const base = s * t! * inner;
    for (let i = 0; i < lens[s]! * inner; i++) keep[base + i] = r.uniform() >= p ? scale : 0;
  }
  return tf.mul(x, tf.tensor(keep, x.shape)) as T;
}
