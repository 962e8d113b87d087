/**
 * Grad-TTS text encoder and duration predictor (Popov et al. 2021, §3 and Appendix; the encoder is
 * Glow-TTS's): embedding ×√C → conv pre-net → transformer blocks → μ projection to nFeats, and a
 * duration predictor on the detached encoder output.
 *
 * Positions use rotary embeddings (Su et al. 2021, as Matcha-TTS) instead of Grad-TTS's windowed
 * relative attention: no extra weights, and only 4-D tensors (5-D transposes are slow on wasm).
 * Layout [B, T, C]; masks [B, T, 1] with 1 on real tokens.
 *
 * Speakers (multi-speaker Grad-TTS, official text_encoder.py TextEncoder.forward): the speaker's
 * embedding [B, E] is concatenated, broadcast over tokens, to the pre-net's output, i.e. before the
 * transformer, so the transformer runs at width C + E and the μ projection and the duration predictor
 * (on the detached transformer output) read C + E channels. The official tts.py builds its
 * TextEncoder without n_spks, so its released code never feeds the speaker to the encoder (their PR
 * #29); the maintainers' account of their multi-speaker model conditions encoder and decoder, as the
 * TextEncoder's own code does and as here.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './configs.js';
import { batchMatMul, embedding } from './ops.js';
import { conv1dLayer, dropout, layerNorm, linear, type Ctx } from './layers.js';

/** Identity forward, zero gradient (tfjs has no stopGradient op). */
export const detach = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** cos/sin tables [1, T, 1, d/2] for rotary embeddings of head size d. */
function rotaryTables(t: number, d: number): [tf.Tensor4D, tf.Tensor4D] {
  const half = d / 2;
  const c = new Float32Array(t * half);
  const s = new Float32Array(t * half);
  for (let p = 0; p < t; p++) {
    for (let i = 0; i < half; i++) {
      const a = p * 10000 ** ((-2 * i) / d);
      c[p * half + i] = Math.cos(a);
      s[p * half + i] = Math.sin(a);
    }
  }
  return [tf.tensor4d(c, [1, t, 1, half]), tf.tensor4d(s, [1, t, 1, half])];
}

/** Rotates pairs (x_i, x_{i+d/2}) of x [B, T, H, d] by position-dependent angles. */
function rotary(x: tf.Tensor4D, cos: tf.Tensor4D, sin: tf.Tensor4D): tf.Tensor4D {
  const [b, t, h, d] = x.shape;
  const x1 = tf.slice(x, [0, 0, 0, 0], [b, t, h, d / 2]);
  const x2 = tf.slice(x, [0, 0, 0, d / 2], [b, t, h, d / 2]);
  return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x1, sin), tf.mul(x2, cos))], 3) as tf.Tensor4D;
}

/** Multi-head self-attention with rotary positions; padded keys get −1e4 logits. x [B, T, C] → [B, T, C]. */
function selfAttention(
  ctx: Ctx,
  name: string,
  x: tf.Tensor3D,
  keyBias: tf.Tensor4D,
  heads: number,
  rot: [tf.Tensor4D, tf.Tensor4D],
): tf.Tensor3D {
  const [b, t, c] = x.shape;
  const dh = c / heads;
  const split = (n: string) => tf.reshape(linear(ctx, `${name}.${n}`, x, c), [b, t, heads, dh]) as tf.Tensor4D;
  const q = tf.reshape(tf.transpose(rotary(split('q'), ...rot), [0, 2, 1, 3]), [b * heads, t, dh]) as tf.Tensor3D;
  const k = tf.reshape(tf.transpose(rotary(split('k'), ...rot), [0, 2, 3, 1]), [b * heads, dh, t]) as tf.Tensor3D;
  const v = tf.reshape(tf.transpose(split('v'), [0, 2, 1, 3]), [b * heads, t, dh]) as tf.Tensor3D;
  const logits = tf.add(tf.reshape(tf.mul(batchMatMul(q, k), 1 / Math.sqrt(dh)), [b, heads, t, t]), keyBias);
  const attn = tf.reshape(tf.softmax(logits, -1), [b * heads, t, t]) as tf.Tensor3D;
  const o = tf.reshape(tf.transpose(tf.reshape(batchMatMul(attn, v), [b, heads, t, dh]), [0, 2, 1, 3]), [b, t, c]);
  return linear(ctx, `${name}.o`, o, c) as tf.Tensor3D;
}

export interface EncoderOut {
  /** μ per token [B, Tx, nFeats] (zero on padding). */
  mu: tf.Tensor3D;
  /** Predicted log-durations [B, Tx, 1] (zero on padding). */
  logw: tf.Tensor3D;
}

/**
 * ids [B, Tx] int32 (padding id 0), mask [B, Tx, 1] float, the speakers' embeddings spk [B, E]
 * (null for a single-speaker model) → μ and log-durations.
 * Weight names: encoder.emb, encoder.prenet.*, encoder.layerN.*, encoder.proj_mu, dp.*.
 */
export function textEncoder(
  ctx: Ctx,
  cfg: ModelConfig,
  nSymbols: number,
  ids: tf.Tensor2D,
  mask: tf.Tensor3D,
  spk: tf.Tensor2D | null = null,
): EncoderOut {
  const e = cfg.encoder;
  const [b, t] = ids.shape;
  const c = e.channels;
  const table = ctx.ps.get<tf.Rank.R2>('encoder.emb', [nSymbols, c], { kind: 'normal', std: 1 / Math.sqrt(c) });
  let x = tf.mul(embedding(ids, table), Math.sqrt(c)) as tf.Tensor3D;

  // pre-net: conv k5 → LayerNorm → ReLU → dropout, ×layers, then a zero-initialised 1×1 residual
  const x0 = x;
  for (let i = 0; i < e.prenetLayers; i++) {
    x = conv1dLayer(ctx, `encoder.prenet.conv${i}`, tf.mul(x, mask), c, e.prenetKernel);
    x = dropout(ctx, tf.relu(layerNorm(ctx, `encoder.prenet.norm${i}`, x)) as tf.Tensor3D, e.prenetDropout);
  }
  x = tf.mul(tf.add(x0, conv1dLayer(ctx, 'encoder.prenet.proj', x, c, 1, true)), mask);
  // the speaker joins here, as extra channels on every token (see the file comment); width C + E from now on
  if (spk) x = tf.mul(tf.concat([x, tf.tile(tf.reshape(spk, [b, 1, spk.shape[1]]), [1, t, 1])], 2), mask) as tf.Tensor3D;
  const width = x.shape[2];

  // transformer (post-norm, as Glow-TTS/Grad-TTS)
  const keyBias = tf.reshape(tf.mul(tf.sub(mask, 1), 1e4), [b, 1, 1, t]) as tf.Tensor4D;
  const rot = rotaryTables(t, width / e.heads);
  for (let i = 0; i < e.layers; i++) {
    const p = `encoder.layer${i}`;
    let y = dropout(ctx, selfAttention(ctx, `${p}.attn`, x, keyBias, e.heads, rot), e.dropout);
    x = layerNorm(ctx, `${p}.norm1`, tf.add(x, y)) as tf.Tensor3D;
    y = tf.relu(conv1dLayer(ctx, `${p}.ffn0`, tf.mul(x, mask), e.filterChannels, e.kernel));
    y = dropout(ctx, y, e.dropout);
    y = tf.mul(conv1dLayer(ctx, `${p}.ffn1`, tf.mul(y, mask), width, e.kernel), mask);
    y = dropout(ctx, y, e.dropout);
    x = layerNorm(ctx, `${p}.norm2`, tf.add(x, y)) as tf.Tensor3D;
  }
  x = tf.mul(x, mask);
  const mu = tf.mul(linear(ctx, 'encoder.proj_mu', x, cfg.nFeats), mask) as tf.Tensor3D;

  // duration predictor on the detached encoder output: the duration loss must not shape the encoder
  const d = cfg.durationPredictor;
  let h = detach(x) as tf.Tensor3D;
  for (let i = 0; i < 2; i++) {
    h = tf.relu(conv1dLayer(ctx, `dp.conv${i}`, tf.mul(h, mask), d.channels, d.kernel));
    h = dropout(ctx, layerNorm(ctx, `dp.norm${i}`, h) as tf.Tensor3D, d.dropout);
  }
  const logw = tf.mul(linear(ctx, 'dp.proj', tf.mul(h, mask), 1), mask) as tf.Tensor3D;
  return { mu, logw };
}
