/**
 * Grad-TTS score estimator s_θ(x_t, μ, t): a 2-D U-Net over the mel "image" (Popov et al. 2021,
 * §3.3; layout of the official GradLogPEstimator2d). x_t and μ are the two input channels; a
 * multi-speaker model adds a third, as the official estimator: its spk_mlp (Linear E → 4E, Mish,
 * Linear 4E → nFeats) maps the speaker embedding to one value per mel bin, broadcast over frames,
 * and the input is the stack [μ, x_t, s].
 *
 * Layout NHWC: [B, nFeats (H), frames (W), C]. Masks [B, 1, W, 1]. Differences from the official
 * code, all so that padded frames cannot change valid outputs: GroupNorm statistics count only
 * valid frames, linear attention gives padded keys zero weight, and down/upsampling convolve
 * masked inputs.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './configs.js';
import { batchMatMul, conv2d, conv2dTranspose, matMul2d } from './ops.js';
import { conv2dLayer, conv2dParams, groupNormParams, linear, mish, type Ctx } from './layers.js';
import { groupNormMishMask } from '../kernels/norm-mish.js';

/** Grad-TTS's linear attention size, used when the config does not set one. */
export const DEFAULT_ATTN_HEADS = 4;
export const DEFAULT_ATTN_DIM_HEAD = 32;

/** GroupNorm's eps (PyTorch's default, as layers.ts). */
const GROUP_NORM_EPS = 1e-5;

/** Sinusoidal embedding of t·scale: t [B] → [B, dim] (sin half, then cos half). */
export function timeEmbedding(t: tf.Tensor1D, dim: number, scale: number): tf.Tensor2D {
  const half = dim / 2;
  const f = new Float32Array(half);
  const k = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) f[i] = Math.exp(-i * k);
  const arg = tf.mul(tf.reshape(tf.mul(t, scale), [-1, 1]), tf.tensor2d(f, [1, half]));
  return tf.concat([tf.sin(arg), tf.cos(arg)], 1) as tf.Tensor2D;
}

/** A block's conv 3×3 output before its bias, with the bias and the GroupNorm weights that follow. */
interface BlockConv {
  h: tf.Tensor4D;
  convBias: tf.Tensor1D;
  norm: { g: tf.Tensor1D; b: tf.Tensor1D };
}

/** The conv of a block: xm [B, H, W, Cin] (masked) → h [B, H, W, cout] (weights `${name}.conv`, `${name}.norm`). */
function blockConv(ctx: Ctx, name: string, xm: tf.Tensor4D, cout: number): BlockConv {
  const c = conv2dParams(ctx, `${name}.conv`, xm.shape[3], cout, 3);
  const h = conv2d(xm, c.w);
  return { h, convBias: c.b, norm: groupNormParams(ctx, `${name}.norm`, cout) };
}

/**
 * The rest of a block: (Mish(GroupNorm(h + convBias)) + bias)·mask + residual → [B, H, W, cout]
 * (one fused kernel at inference; see src/kernels/norm-mish.ts).
 */
function blockTail(
  bc: BlockConv,
  mask: tf.Tensor4D,
  groups: number,
  extras: { bias?: tf.Tensor2D; residual?: tf.Tensor4D } = {},
): tf.Tensor4D {
  return groupNormMishMask(bc.h, mask, bc.norm.g, bc.norm.b, groups, GROUP_NORM_EPS, { convBias: bc.convBias, ...extras });
}

/**
 * ResNet block: block1 → + Linear(Mish(temb)) → block2, plus the (1×1-projected) input.
 * x [B, H, W, Cin], tact = Mish(temb) [B, dim] → [B, H, W, cout]. Block1's output is masked with
 * the embedding added, which is all block2 reads. Weights are requested in the unfused layout's
 * order (block1, mlp, block2, res): creation order fixes their initial values.
 */
function resnet(ctx: Ctx, name: string, x: tf.Tensor4D, mask: tf.Tensor4D, tact: tf.Tensor2D, cout: number, groups: number): tf.Tensor4D {
  const xm = tf.mul(x, mask) as tf.Tensor4D;
  const b1 = blockConv(ctx, `${name}.block1`, xm, cout);
  const temb = linear(ctx, `${name}.mlp`, tact, cout) as tf.Tensor2D; // [B, cout]
  const h = blockTail(b1, mask, groups, { bias: temb });
  const b2 = blockConv(ctx, `${name}.block2`, h, cout);
  const res = x.shape[3] === cout ? xm : conv2dLayer(ctx, `${name}.res`, xm, cout, 1);
  return blockTail(b2, mask, groups, { residual: res });
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
 * softmax-normalised over positions). x + g·attn(x), g initialised 0. x [B, H, W, C];
 * keyBias [B, 1, H·W] (0 valid, −1e4 padded: padded keys get zero weight); heads [hidden, hidden]
 * from headMask. All heads in one [hidden, hidden] context masked block-diagonally: plain matMuls,
 * no 5-D tensors.
 */
function linearAttention(ctx: Ctx, name: string, x: tf.Tensor4D, keyBias: tf.Tensor3D, heads: tf.Tensor2D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const n = h * w;
  const hidden = heads.shape[0];
  // One [C, 3·hidden] weight (as a fused qkv projection), applied as three products with column
  // blocks of the *weight*: slicing column blocks of the [B·N, 3·hidden] activation instead costs
  // ~2 ms per slice on wasm (strided copies), ~8 % of a synthesis step.
  const wqkv = ctx.ps.get<tf.Rank.R2>(`${name}.qkv.w`, [c, 3 * hidden], { kind: 'uniform', fanIn: c });
  const x2 = tf.reshape(x, [b * n, c]) as tf.Tensor2D;
  const wPart = (i: number) => tf.slice(wqkv, [0, i * hidden], [c, hidden]) as tf.Tensor2D; // [C, hidden]
  const project = (i: number) => tf.reshape(matMul2d(x2, wPart(i)), [b, n, hidden]) as tf.Tensor3D;
  const keys = (k: tf.Tensor3D) => tf.softmax(tf.add(tf.transpose(k, [0, 2, 1]), keyBias), -1) as tf.Tensor3D; // [B, hidden, N]
  if (!tf.engine().isTapeOn()) return linearAttentionInference(ctx, name, x, keys(project(1)), wPart(0), wPart(2), heads);
  const q = project(0);
  const k = project(1);
  const v = project(2);
  const context = tf.mul(batchMatMul(keys(k), v), heads) as tf.Tensor3D; // [B, hidden(d), hidden(e)]
  const out = linear(ctx, `${name}.out`, batchMatMul(q, context), c); // [B, N, C]
  const g = ctx.ps.get(`${name}.g`, [1], { kind: 'const', value: 0 });
  return tf.add(x, tf.mul(tf.reshape(out, [b, h, w, c]), g));
}

/**
 * linearAttention when no gradient is recorded, reassociated: after the key softmax everything is
 * linear, so x + g·(((x·Wq)·ctx)·Wo + bo) = x·(I + g·Wq·ctx·Wo) + g·bo with ctx = (K·x)·Wv ⊙ heads.
 * The full-size work is one key projection, K·x and one [C, C] product instead of three projections
 * and three hidden-wide products (~3× fewer FLOPs). Same weights; rounding differs by ~1e-7.
 * x [B, H, W, C], kt = softmax(keys) [B, hidden, N], wq, wv [C, hidden] → [B, H, W, C].
 */
function linearAttentionInference(
  ctx: Ctx,
  name: string,
  x: tf.Tensor4D,
  kt: tf.Tensor3D,
  wq: tf.Tensor2D,
  wv: tf.Tensor2D,
  heads: tf.Tensor2D,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const hidden = heads.shape[0];
  // the weights of linear(`${name}.out`) and the gate, requested in the training path's order
  const wo = ctx.ps.get<tf.Rank.R2>(`${name}.out.w`, [hidden, c], { kind: 'uniform', fanIn: hidden });
  const bo = ctx.ps.get<tf.Rank.R1>(`${name}.out.b`, [c], { kind: 'uniform', fanIn: hidden });
  const g = ctx.ps.get(`${name}.g`, [1], { kind: 'const', value: 0 });
  const x3 = tf.reshape(x, [b, h * w, c]) as tf.Tensor3D;
  const kx = tf.reshape(batchMatMul(kt, x3), [b * hidden, c]) as tf.Tensor2D; // K·x
  const context = tf.mul(tf.reshape(matMul2d(kx, wv), [b, hidden, hidden]), heads) as tf.Tensor3D;
  const ctxOut = tf.reshape(matMul2d(tf.reshape(context, [b * hidden, hidden]) as tf.Tensor2D, tf.mul(wo, g) as tf.Tensor2D), [
    b,
    hidden,
    c,
  ]) as tf.Tensor3D;
  // Wq·ctxOut_b for every b as one [C, hidden]·[hidden, B·C] product
  const stacked = b === 1 ? tf.reshape(ctxOut, [hidden, c]) : tf.reshape(tf.transpose(ctxOut, [1, 0, 2]), [hidden, b * c]);
  const wqc = matMul2d(wq, stacked as tf.Tensor2D); // [C, B·C]
  const perSample = b === 1 ? tf.reshape(wqc, [1, c, c]) : tf.transpose(tf.reshape(wqc, [c, b, c]), [1, 0, 2]);
  const a = tf.add(perSample, tf.eye(c)) as tf.Tensor3D; // [B, C, C]: I + g·Wq·ctx·Wo
  return tf.reshape(tf.add(batchMatMul(x3, a), tf.mul(bo, g)), [b, h, w, c]) as tf.Tensor4D;
}

/** Every other frame of a mask [B, 1, W, 1] → [B, 1, W/2, 1]. */
function halveMask(mask: tf.Tensor4D): tf.Tensor4D {
  const [b, , w] = mask.shape;
  return tf.stridedSlice(mask, [0, 0, 0, 0], [b, 1, w, 1], [1, 1, 2, 1]) as tf.Tensor4D;
}

/**
 * What the score U-Net computes from μ and the mask alone, i.e. what stays the same over the
 * sampler's steps for one sentence. Level i runs at [F/2^i, W/2^i] (rounded up).
 */
export interface ScorePrior {
  /** μ [B, F, W], the first input channel. */
  mu: tf.Tensor3D;
  /** The speaker channel [B, F, W] (spk_mlp of the embedding on every valid frame), the third input channel; null without speakers. */
  spk: tf.Tensor3D | null;
  /** Frame mask per level: [B, 1, W/2^i, 1]. */
  masks: tf.Tensor4D[];
  /** Linear attention's key bias per level: [B, 1, (F/2^i)·(W/2^i)], 0 valid, −1e4 padded. */
  keyBias: tf.Tensor3D[];
  /** Per-head block-diagonal ones [hidden, hidden] (see headMask). */
  heads: tf.Tensor2D;
  /**
   * The first resnet's two convs split by input channel: the share of μ (and of the speaker channel)
   * with the conv biases (muConv, muRes: [B, F, W, dim]) and the x_t slices of their weights
   * (wConv [3, 3, 1, dim], wRes [1, 1, 1, dim]); null to stack [μ, x_t(, s)] as one input instead.
   */
  input: { muConv: tf.Tensor4D; muRes: tf.Tensor4D; wConv: tf.Tensor4D; wRes: tf.Tensor4D } | null;
}

/**
 * The speaker channel: spk [B, E] → spk_mlp → [B, F], broadcast over the W frames and masked: [B, F, W].
 * Weights decoder.spk_mlp.lin1 [E, 4E], decoder.spk_mlp.lin2 [4E, F] (Grad-TTS's sizes).
 */
function speakerChannel(ctx: Ctx, spk: tf.Tensor2D, f: number, mask: tf.Tensor3D): tf.Tensor3D {
  const e = spk.shape[1];
  const h = mish(linear(ctx, 'decoder.spk_mlp.lin1', spk, 4 * e));
  const s = linear(ctx, 'decoder.spk_mlp.lin2', h, f); // [B, F]
  return tf.mul(tf.reshape(s, [spk.shape[0], f, 1]), mask) as tf.Tensor3D; // × mask [B, 1, W] broadcasts over frames
}

/**
 * The x_t-independent part of the score U-Net for μ [B, F, W], mask [B, 1, W] and the speakers'
 * embeddings spk [B, E] (null: a single-speaker model). `splitInput` precomputes the share of μ
 * (and of the speaker channel) in the first convs (worth it when the prior serves several steps; it
 * changes only the summation order of those convs).
 */
export function scorePrior(
  ctx: Ctx,
  cfg: ModelConfig,
  mu: tf.Tensor3D,
  mask: tf.Tensor3D,
  splitInput: boolean,
  spk: tf.Tensor2D | null = null,
): ScorePrior {
  const { dim, mults } = cfg.decoder;
  const [b, f, w] = mu.shape;
  const sp = spk ? speakerChannel(ctx, spk, f, mask) : null;
  const masks: tf.Tensor4D[] = [tf.reshape(mask, [b, 1, w, 1])];
  for (let i = 1; i < mults.length; i++) masks.push(halveMask(masks[i - 1]!));
  let rows = f;
  const keyBias = masks.map((m, i) => {
    if (i > 0) rows = Math.ceil(rows / 2);
    return tf.reshape(tf.mul(tf.sub(tf.tile(m, [1, rows, 1, 1]), 1), 1e4), [b, 1, rows * m.shape[2]]) as tf.Tensor3D;
  });
  const heads = headMask(cfg.decoder.attnHeads ?? DEFAULT_ATTN_HEADS, cfg.decoder.attnDimHead ?? DEFAULT_ATTN_DIM_HEAD);
  let input: ScorePrior['input'] = null;
  const cout = dim * mults[0]!;
  if (splitInput && cout !== 2) {
    const mu4 = tf.mul(tf.reshape(mu, [b, f, w, 1]), masks[0]!) as tf.Tensor4D;
    const half = (wt: tf.Tensor4D, ch: number) => tf.slice(wt, [0, 0, ch, 0], [wt.shape[0], wt.shape[1], 1, cout]) as tf.Tensor4D;
    const cin = sp ? 3 : 2;
    const c1 = conv2dParams(ctx, 'decoder.down0.res1.block1.conv', cin, cout, 3);
    const cr = conv2dParams(ctx, 'decoder.down0.res1.res', cin, cout, 1);
    // channel 0 is μ, 1 is x_t, 2 the speaker: what does not change over the sampler's steps is μ's and the speaker's share
    const share = (wt: tf.Tensor4D) => {
      const m = conv2d(mu4, half(wt, 0));
      return sp ? tf.add(m, conv2d(tf.reshape(sp, [b, f, w, 1]) as tf.Tensor4D, half(wt, 2))) : m;
    };
    input = {
      muConv: tf.add(share(c1.w), c1.b),
      muRes: tf.add(share(cr.w), cr.b),
      wConv: half(c1.w, 1),
      wRes: half(cr.w, 1),
    };
  }
  return { mu, spk: sp, masks, keyBias, heads, input };
}

/** The tensors a ScorePrior owns (not μ, which is the caller's). */
function priorTensors(p: ScorePrior): tf.Tensor[] {
  return [...p.masks, ...p.keyBias, p.heads, ...(p.spk ? [p.spk] : []), ...(p.input ? Object.values(p.input) : [])];
}

/**
 * scorePrior for use across several tidy scopes (the sampler's steps): its intermediates are freed,
 * its own tensors kept until disposeScorePrior.
 */
export function keptScorePrior(
  ctx: Ctx,
  cfg: ModelConfig,
  mu: tf.Tensor3D,
  mask: tf.Tensor3D,
  splitInput: boolean,
  spk: tf.Tensor2D | null = null,
): ScorePrior {
  let prior: ScorePrior | null = null;
  tf.tidy(() => {
    prior = scorePrior(ctx, cfg, mu, mask, splitInput, spk);
    for (const t of priorTensors(prior)) tf.keep(t);
  });
  return prior!;
}

/** Frees what keptScorePrior kept (μ stays the caller's). */
export function disposeScorePrior(p: ScorePrior): void {
  tf.dispose(priorTensors(p));
}

/** `resnet` on the input [μ, x_t] with μ's share of its convs precomputed: x_t [B, F, W] → [B, F, W, cout]. */
function inputResnet(
  ctx: Ctx,
  name: string,
  xt: tf.Tensor3D,
  inp: NonNullable<ScorePrior['input']>,
  mask: tf.Tensor4D,
  tact: tf.Tensor2D,
  cout: number,
  groups: number,
): tf.Tensor4D {
  const [b, f, w] = xt.shape;
  const xm = tf.mul(tf.reshape(xt, [b, f, w, 1]), mask) as tf.Tensor4D;
  const h1 = tf.add(conv2d(xm, inp.wConv), inp.muConv) as tf.Tensor4D; // conv bias included in muConv
  const norm = groupNormParams(ctx, `${name}.block1.norm`, cout);
  const temb = linear(ctx, `${name}.mlp`, tact, cout) as tf.Tensor2D;
  const h = groupNormMishMask(h1, mask, norm.g, norm.b, groups, GROUP_NORM_EPS, { bias: temb });
  const b2 = blockConv(ctx, `${name}.block2`, h, cout);
  return blockTail(b2, mask, groups, { residual: tf.add(conv2d(xm, inp.wRes), inp.muRes) as tf.Tensor4D });
}

/**
 * Score estimate from a prior made by scorePrior: xt [B, nFeats, W], t [B] → [B, nFeats, W] (masked).
 * W must be a multiple of 2^(len(mults) − 1) (callers pad with `fixLen`).
 */
export function scoreFromPrior(ctx: Ctx, cfg: ModelConfig, prior: ScorePrior, xt: tf.Tensor3D, t: tf.Tensor1D): tf.Tensor3D {
  const { dim, mults, groups, peScale } = cfg.decoder;
  const [b, f, w] = xt.shape;
  const p = 'decoder';
  let temb = timeEmbedding(t, dim, peScale);
  temb = linear(ctx, `${p}.time.lin1`, temb, dim * 4) as tf.Tensor2D;
  temb = linear(ctx, `${p}.time.lin2`, mish(temb), dim) as tf.Tensor2D;
  const tact = mish(temb); // every resnet's embedding MLP starts with Mish

  const dims = [2, ...mults.map((m) => dim * m)];
  const { masks, keyBias, heads } = prior;
  const hiddens: tf.Tensor4D[] = [];
  // input [μ, x_t(, s)] as channels [B, F, W, 2 or 3], or with the share of μ (and s) in the first convs precomputed
  let x = prior.input
    ? inputResnet(ctx, `${p}.down0.res1`, xt, prior.input, masks[0]!, tact, dims[1]!, groups)
    : resnet(
        ctx,
        `${p}.down0.res1`,
        tf.stack(prior.spk ? [prior.mu, xt, prior.spk] : [prior.mu, xt], 3) as tf.Tensor4D,
        masks[0]!,
        tact,
        dims[1]!,
        groups,
      );
  for (let i = 0; i < mults.length; i++) {
    const m = masks[i]!;
    const q = `${p}.down${i}`;
    if (i > 0) x = resnet(ctx, `${q}.res1`, x, m, tact, dims[i + 1]!, groups);
    x = resnet(ctx, `${q}.res2`, x, m, tact, dims[i + 1]!, groups);
    x = linearAttention(ctx, `${q}.attn`, x, keyBias[i]!, heads);
    hiddens.push(x);
    if (i < mults.length - 1) x = conv2dLayer(ctx, `${q}.downsample`, tf.mul(x, m), dims[i + 1]!, 3, 2, [1, 1, 1, 1]);
  }
  const mid = dims[dims.length - 1]!;
  const last = mults.length - 1;
  x = resnet(ctx, `${p}.mid.res1`, x, masks[last]!, tact, mid, groups);
  x = linearAttention(ctx, `${p}.mid.attn`, x, keyBias[last]!, heads);
  x = resnet(ctx, `${p}.mid.res2`, x, masks[last]!, tact, mid, groups);

  for (let i = mults.length - 2; i >= 0; i--) {
    const m = masks[i + 1]!; // up block i runs at level i + 1, then upsamples to level i
    const q = `${p}.up${i}`;
    const cin = dims[i + 1]!;
    x = tf.concat([x, hiddens.pop()!], 3);
    x = resnet(ctx, `${q}.res1`, x, m, tact, cin, groups);
    x = resnet(ctx, `${q}.res2`, x, m, tact, cin, groups);
    x = linearAttention(ctx, `${q}.attn`, x, keyBias[i + 1]!, heads);
    const wt = ctx.ps.get<tf.Rank.R4>(`${q}.upsample.w`, [4, 4, cin, cin], { kind: 'uniform', fanIn: cin * 16 });
    const bt = ctx.ps.get(`${q}.upsample.b`, [cin], { kind: 'uniform', fanIn: cin * 16 });
    const [, hh, ww] = x.shape;
    x = tf.add(conv2dTranspose(tf.mul(x, m), wt, hh * 2, ww * 2, 2, [1, 1, 1, 1]), bt);
  }
  const m0 = masks[0]!;
  x = blockTail(blockConv(ctx, `${p}.final.block`, tf.mul(x, m0) as tf.Tensor4D, dim), m0, groups);
  const out = tf.mul(conv2dLayer(ctx, `${p}.final.conv`, x, 1, 1), m0);
  return tf.reshape(out, [b, f, w]);
}

/**
 * Score estimate. xt, mu [B, nFeats, W], mask [B, 1, W], t [B], spk [B, E] (null without speakers)
 * → [B, nFeats, W] (masked). W must be a multiple of 2^(len(mults) − 1) (callers pad with `fixLen`).
 * One-shot form of scorePrior + scoreFromPrior (training: one call per batch).
 */
export function scoreUNet(
  ctx: Ctx,
  cfg: ModelConfig,
  xt: tf.Tensor3D,
  mu: tf.Tensor3D,
  mask: tf.Tensor3D,
  t: tf.Tensor1D,
  spk: tf.Tensor2D | null = null,
): tf.Tensor3D {
  return scoreFromPrior(ctx, cfg, scorePrior(ctx, cfg, mu, mask, false, spk), xt, t);
}
