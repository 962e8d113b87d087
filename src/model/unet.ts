/**
 * Grad-TTS score estimator s_θ(x_t, μ, t): a 2-D U-Net over the mel "image" (Popov et al. 2021,
 * §3.3; layout of the official GradLogPEstimator2d). x_t and μ are the two input channels.
 *
 * Layout NHWC: [B, nFeats (H), frames (W), C]. Masks [B, 1, W, 1]. Differences from the official
 * code, all so that padded frames cannot change valid outputs: GroupNorm statistics count only
 * valid frames, linear attention gives padded keys zero weight, and down/upsampling convolve
 * masked inputs.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './configs.js';
import { batchMatMul, conv2dTranspose, matMul2d } from './ops.js';
import { conv2dLayer, groupNorm, linear, mish, type Ctx } from './layers.js';

/** Grad-TTS's linear attention size, used when the config does not set one. */
export const DEFAULT_ATTN_HEADS = 4;
export const DEFAULT_ATTN_DIM_HEAD = 32;

/** Sinusoidal embedding of t·scale: t [B] → [B, dim] (sin half, then cos half). */
export function timeEmbedding(t: tf.Tensor1D, dim: number, scale: number): tf.Tensor2D {
  const half = dim / 2;
  const f = new Float32Array(half);
  const k = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) f[i] = Math.exp(-i * k);
  const arg = tf.mul(tf.reshape(tf.mul(t, scale), [-1, 1]), tf.tensor2d(f, [1, half]));
  return tf.concat([tf.sin(arg), tf.cos(arg)], 1) as tf.Tensor2D;
}

/** conv 3×3 → masked GroupNorm → Mish, on masked input; output masked. */
function block(ctx: Ctx, name: string, x: tf.Tensor4D, mask: tf.Tensor4D, cout: number, groups: number): tf.Tensor4D {
  const h = conv2dLayer(ctx, `${name}.conv`, tf.mul(x, mask) as tf.Tensor4D, cout, 3);
  return tf.mul(mish(groupNorm(ctx, `${name}.norm`, h, mask, groups)), mask);
}

/** ResNet block with the time embedding (after Mish → Linear) added between its two blocks. */
function resnet(ctx: Ctx, name: string, x: tf.Tensor4D, mask: tf.Tensor4D, temb: tf.Tensor2D, cout: number, groups: number): tf.Tensor4D {
  const b = x.shape[0];
  let h = block(ctx, `${name}.block1`, x, mask, cout, groups);
  h = tf.add(h, tf.reshape(linear(ctx, `${name}.mlp`, mish(temb), cout), [b, 1, 1, cout]));
  h = block(ctx, `${name}.block2`, h, mask, cout, groups);
  const xm = tf.mul(x, mask) as tf.Tensor4D;
  const res = x.shape[3] === cout ? xm : conv2dLayer(ctx, `${name}.res`, xm, cout, 1);
  return tf.add(h, res);
}

/** [heads·dimHead, heads·dimHead] with ones on the per-head diagonal blocks. */
function headMask(heads: number, dimHead: number): tf.Tensor2D {
  const hidden = heads * dimHead;
  const m = new Float32Array(hidden * hidden);
  for (let i = 0; i < hidden; i++) {
    for (let j = 0; j < hidden; j++) m[i * hidden + j] = Math.floor(i / dimHead) === Math.floor(j / dimHead) ? 1 : 0;
  }
  return tf.tensor2d(m, [hidden, hidden]);
}

/**
 * Residual, ReZero-gated linear attention (Shen et al.; Grad-TTS uses 4 heads × 32; keys
 * softmax-normalised over positions). x + g·attn(x), g initialised 0.
 * All heads in one [hidden, hidden] context masked block-diagonally: plain matMuls, no 5-D tensors.
 */
function linearAttention(ctx: Ctx, cfg: ModelConfig, name: string, x: tf.Tensor4D, mask: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const n = h * w;
  const heads = cfg.decoder.attnHeads ?? DEFAULT_ATTN_HEADS;
  const dimHead = cfg.decoder.attnDimHead ?? DEFAULT_ATTN_DIM_HEAD;
  const hidden = heads * dimHead;
  // One [C, 3·hidden] weight (as a fused qkv projection), applied as three products with column
  // blocks of the *weight*: slicing column blocks of the [B·N, 3·hidden] activation instead costs
  // ~2 ms per slice on wasm (strided copies), ~8 % of a synthesis step.
  const wqkv = ctx.ps.get<tf.Rank.R2>(`${name}.qkv.w`, [c, 3 * hidden], { kind: 'uniform', fanIn: c });
  const x2 = tf.reshape(x, [b * n, c]) as tf.Tensor2D;
  const project = (i: number) => tf.reshape(matMul2d(x2, tf.slice(wqkv, [0, i * hidden], [c, hidden])), [b, n, hidden]) as tf.Tensor3D;
  const q = project(0);
  const k = project(1);
  const v = project(2);
  const keyBias = tf.reshape(tf.mul(tf.sub(tf.tile(mask, [1, h, 1, 1]), 1), 1e4), [b, 1, n]);
  const kt = tf.softmax(tf.add(tf.transpose(k, [0, 2, 1]), keyBias), -1) as tf.Tensor3D; // [B, hidden, N]
  const context = tf.mul(batchMatMul(kt, v), headMask(heads, dimHead)) as tf.Tensor3D; // [B, hidden(d), hidden(e)]
  const out = linear(ctx, `${name}.out`, batchMatMul(q, context), c); // [B, N, C]
  const g = ctx.ps.get(`${name}.g`, [1], { kind: 'const', value: 0 });
  return tf.add(x, tf.mul(tf.reshape(out, [b, h, w, c]), g));
}

/** Every other frame of a mask [B, 1, W, 1] → [B, 1, W/2, 1]. */
function halveMask(mask: tf.Tensor4D): tf.Tensor4D {
  const [b, , w] = mask.shape;
  return tf.stridedSlice(mask, [0, 0, 0, 0], [b, 1, w, 1], [1, 1, 2, 1]) as tf.Tensor4D;
}

/**
 * Score estimate. xt, mu [B, nFeats, W], mask [B, 1, W], t [B] → [B, nFeats, W] (masked).
 * W must be a multiple of 2^(len(mults) − 1) (callers pad with `fixLen`).
 */
export function scoreUNet(ctx: Ctx, cfg: ModelConfig, xt: tf.Tensor3D, mu: tf.Tensor3D, mask: tf.Tensor3D, t: tf.Tensor1D): tf.Tensor3D {
  const { dim, mults, groups, peScale } = cfg.decoder;
  const [b, f, w] = xt.shape;
  const p = 'decoder';
  let temb = timeEmbedding(t, dim, peScale);
  temb = linear(ctx, `${p}.time.lin1`, temb, dim * 4) as tf.Tensor2D;
  temb = linear(ctx, `${p}.time.lin2`, mish(temb), dim) as tf.Tensor2D;

  const dims = [2, ...mults.map((m) => dim * m)];
  const masks: tf.Tensor4D[] = [tf.reshape(mask, [b, 1, w, 1])];
  const hiddens: tf.Tensor4D[] = [];
  let x = tf.stack([mu, xt], 3) as tf.Tensor4D; // [B, F, W, 2]
  for (let i = 0; i < mults.length; i++) {
    const m = masks[masks.length - 1]!;
    const q = `${p}.down${i}`;
    x = resnet(ctx, `${q}.res1`, x, m, temb, dims[i + 1]!, groups);
    x = resnet(ctx, `${q}.res2`, x, m, temb, dims[i + 1]!, groups);
    x = linearAttention(ctx, cfg, `${q}.attn`, x, m);
    hiddens.push(x);
    if (i < mults.length - 1) {
      x = conv2dLayer(ctx, `${q}.downsample`, tf.mul(x, m), dims[i + 1]!, 3, 2, [1, 1, 1, 1]);
      masks.push(halveMask(m));
    }
  }
  const mid = dims[dims.length - 1]!;
  const mm = masks[masks.length - 1]!;
  x = resnet(ctx, `${p}.mid.res1`, x, mm, temb, mid, groups);
  x = linearAttention(ctx, cfg, `${p}.mid.attn`, x, mm);
  x = resnet(ctx, `${p}.mid.res2`, x, mm, temb, mid, groups);

  for (let i = mults.length - 2; i >= 0; i--) {
    const m = masks.pop()!;
    const q = `${p}.up${i}`;
    const cin = dims[i + 1]!;
    x = tf.concat([x, hiddens.pop()!], 3);
    x = resnet(ctx, `${q}.res1`, x, m, temb, cin, groups);
    x = resnet(ctx, `${q}.res2`, x, m, temb, cin, groups);
    x = linearAttention(ctx, cfg, `${q}.attn`, x, m);
    const wt = ctx.ps.get<tf.Rank.R4>(`${q}.upsample.w`, [4, 4, cin, cin], { kind: 'uniform', fanIn: cin * 16 });
    const bt = ctx.ps.get(`${q}.upsample.b`, [cin], { kind: 'uniform', fanIn: cin * 16 });
    const [, hh, ww] = x.shape;
    x = tf.add(conv2dTranspose(tf.mul(x, m), wt, hh * 2, ww * 2, 2, [1, 1, 1, 1]), bt);
  }
  const m0 = masks[0]!;
  x = block(ctx, `${p}.final.block`, x, m0, dim, groups);
  const out = tf.mul(conv2dLayer(ctx, `${p}.final.conv`, x, 1, 1), m0);
  return tf.reshape(out, [b, f, w]);
}
