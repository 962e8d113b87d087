/**
 * Grad-TTS (Popov et al. 2021, arXiv 2105.06337): text encoder + duration predictor, monotonic
 * alignment search, and a score-based U-Net decoder on a VP-SDE whose prior mean is the aligned
 * encoder output μ. The training loss splits into the terms Grad-TTS/Matcha log:
 *   duration  Σ (log ŵ − log(1e-8 + d_MAS))² / Σ text lengths
 *   prior     Σ ½((y − μ_aligned)² + ln 2π)·mask / (Σ mask · nFeats)   (loss.scope "all": the loss
 *             type's ρ(y − μ_aligned; δ(0)) instead of the square, δ under the model's SDE)
 *   diffusion diffusionLoss(loss cfg, the model's SDE, s_θ(x_t, μ, t)·√λ_t + z, mask, t) on a random segment
 *             (decoder.objective "flow": of v_θ(x_t, μ, t) − u on the OT path, δ at 1 − t; flow.ts)
 * Multi-speaker (cfg.nSpeakers > 1, as the official multi-speaker Grad-TTS): a speaker embedding table
 * `speaker.emb` [nSpeakers, E] (N(0, 1) init, as torch.nn.Embedding); item b's row feeds the text
 * encoder (concatenated to the pre-net output, encoder.ts) and the decoder (a third U-Net input channel,
 * unet.ts). Speakers are row indices here; names live in checkpoints (src/train/speakers.ts).
 * All randomness (dropout, segment offsets, t, z, sampling noise) comes from the caller's Rng; in
 * training each batch item draws from its own stream (ItemDraws), so a batch split into worker
 * shards draws exactly what the whole batch draws, and the shards' terms, computed with the whole
 * batch's denominators (LossNorm), sum to the whole batch's.
 */
import * as tf from '@tensorflow/tfjs';
import type { Mel } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { diffusionLoss, priorLoss, type LossConfig } from '../loss/index.js';
import { ItemDraws, Rng } from '../util/rng.js';
import { fixLen, MODEL_PART_PREFIX, speakerCount, speakerWidth, validateModelConfig, type ModelConfig, type ModelPart } from './configs.js';
import { forwardDiffusion, lambdaAt, reverseStep } from './diffusion.js';
import { eulerFlow, flowPath, flowScheduleTime, flowStart, flowTarget } from './flow.js';
import { textEncoder } from './encoder.js';
import type { Ctx, ItemRngs } from './layers.js';
import { batchMatMul, embedding } from './ops.js';
import { durationsFromPath, maximumPath, pathFromDurations } from './mas.js';
import { ParamStore } from './params.js';
import { readAsync, readSync } from '../util/tensor.js';
import { withFrozenWeights } from '../kernels/frozen.js';
import { disposeScorePrior, keptScorePrior, scoreFromPrior, scoreUNet, type ScorePrior } from './unet.js';

/** Unpadded utterances: ids[i] (token ids) and mels[i] ([nFeats, frames], natural-log mel). */
export interface Batch {
  ids: Int32Array[];
  mels: Mel[];
  /**
   * MAS alignments (per item, the token index of each mel frame) from `alignments()`, read
   * asynchronously before the step; without them `losses` computes them with dataSync.
   */
  paths?: Int32Array[];
  /** Speaker (embedding row) of each item; required when the model has several speakers, else absent (or all 0). */
  speakers?: number[];
}

/** Scalar loss terms of one batch (the caller disposes them). deltaMean: mean δ of the loss schedule. */
export interface LossTerms {
  duration: tf.Scalar;
  prior: tf.Scalar;
  diffusion: tf.Scalar;
  total: tf.Scalar;
  deltaMean: tf.Scalar;
}

/**
 * The denominators of a batch's loss terms (counts, from the lengths alone): duration Σ text
 * lengths, prior Σ frames · nFeats, diffusion max(Σ segment frames · nFeats, 1), deltaMean items.
 */
export type LossNorm = { duration: number; prior: number; diffusion: number; items: number };

export interface SynthesisOptions {
  /** Reverse-diffusion steps. */
  steps: number;
  /** τ: the sampler starts from N(μ, τ⁻¹ I) (Grad-TTS uses 1.5). */
  temperature: number;
  /** Multiplies the predicted durations (> 1 = slower speech). */
  lengthScale: number;
  /** Reverse SDE (with noise) instead of the probability-flow ODE. */
  stochastic: boolean;
  rng: Rng;
  /**
   * Score decoder only: the diffusion time t₀ ∈ (0, 1] the sampler starts from (default 1, Grad-TTS).
   * Below 1 it is shallow diffusion (DiffSinger's mechanism): x_{t₀} = μ + √λ_{t₀}·z/τ, the forward
   * marginal of x₀ = μ, then `steps` steps over [0, t₀], so the decoder only refines μ in the
   * low-noise range. Measured on allison-enc128 in docs/quality/LEVERS.md.
   */
  startTime?: number;
  /** The speaker's embedding row (required when the model has several speakers; a single-speaker model takes none or 0). */
  speaker?: number;
}

/** What `losses` computes. */
export interface LossOptions {
  /** Denominators of the terms (default: this batch's lossNorm): a shard passes its whole batch's. */
  norm?: LossNorm;
  /**
   * false: skip the decoder (diffusion = 0, no U-Net, nothing drawn for it) — the encoder and
   * duration predictor train alone (recipe train.priorOnlySteps).
   */
  diffusion?: boolean;
}

/** The ItemDraws of a batch: given, or seeded by one nextU32 of a bare Rng. */
function itemDraws(draws: Rng | ItemDraws): ItemDraws {
  return draws instanceof ItemDraws ? draws : new ItemDraws(draws.nextU32());
}

/** Per-item random streams of a batch (itemDraws' first b). */
function itemRngs(draws: Rng | ItemDraws, b: number): Rng[] {
  const items = itemDraws(draws);
  return Array.from({ length: b }, (_, s) => items.rng(s));
}

const T_EPS = 1e-5;

/** Per-token frame counts ⌈exp(log ŵ)·lengthScale⌉ (≥ 1 each) of one utterance. */
function predictedDurations(logw: Float32Array, n: number, lengthScale: number): Int32Array {
  const d = new Int32Array(n);
  for (let i = 0; i < n; i++) d[i] = Math.max(1, Math.ceil(Math.exp(logw[i]!) * lengthScale));
  return d;
}

/** Name of the speaker embedding table [nSpeakers, speakerEmbDim] (multi-speaker models only). */
export const SPEAKER_TABLE = 'speaker.emb';

/** One-hot alignment [B, W, Tx]: frame j of sample b (offset off[b]) → token path_b[off + j]. */
function alignmentTensor(paths: Int32Array[], offsets: number[], lens: number[], w: number, tx: number): tf.Tensor3D {
  const b = paths.length;
  const a = new Float32Array(b * w * tx);
  for (let s = 0; s < b; s++) {
    for (let j = 0; j < lens[s]!; j++) a[(s * w + j) * tx + paths[s]![offsets[s]! + j]!] = 1;
  }
  return tf.tensor3d(a, [b, w, tx]);
}

/** μ per token [B, Tx, F] aligned to frames by A [B, W, Tx] → [B, F, W]. */
function alignMu(a: tf.Tensor3D, mu: tf.Tensor3D): tf.Tensor3D {
  return tf.transpose(batchMatMul(a, mu), [0, 2, 1]) as tf.Tensor3D;
}

/** Pads the mels' [F, frames] data into [B, F, W], frames offsets[b] .. offsets[b]+lens[b]. */
function melTensor(mels: Mel[], offsets: number[], lens: number[], w: number, f: number): tf.Tensor3D {
  const b = mels.length;
  const y = new Float32Array(b * f * w);
  for (let s = 0; s < b; s++) {
    const m = mels[s]!;
    for (let r = 0; r < f; r++) y.set(m.data.subarray(r * m.frames + offsets[s]!, r * m.frames + offsets[s]! + lens[s]!), (s * f + r) * w);
  }
  return tf.tensor3d(y, [b, f, w]);
}

/** Frame mask [B, 1, W] with lens[b] leading ones. */
function frameMask(lens: number[], w: number): tf.Tensor3D {
  const m = new Float32Array(lens.length * w);
  lens.forEach((l, s) => m.fill(1, s * w, s * w + l));
  return tf.tensor3d(m, [lens.length, 1, w]);
}

export class GradTTS {
  readonly variables: Map<string, tf.Variable>;
  private readonly ps: ParamStore;

  private constructor(
    readonly cfg: ModelConfig,
    readonly nSymbols: number,
    seed: number,
  ) {
    this.ps = new ParamStore(seed);
    this.variables = this.ps.variables;
  }

  /** A model with weights drawn deterministically from `seed` (same seed → same weights). */
  static create(cfg: ModelConfig, nSymbols: number, seed: number): GradTTS {
    validateModelConfig(cfg);
    if (!(Number.isInteger(nSymbols) && nSymbols >= 1)) throw new Error(`GradTTS.create: nSymbols ${nSymbols} (expected an integer ≥ 1)`);
    const m = new GradTTS(cfg, nSymbols, seed);
    // One tiny forward creates every weight, in a fixed order.
    tf.tidy(() => {
      const ctx = m.ctx(false, null);
      // the speaker table first (the official model builds spk_emb before the encoder)
      const spk = m.speakerVectors(ctx, speakerCount(cfg) > 1 ? [0] : null);
      textEncoder(ctx, cfg, nSymbols, tf.tensor2d([[0]], [1, 1], 'int32'), tf.ones([1, 1, 1]), spk);
      const w = fixLen(1, cfg);
      const z = tf.zeros([1, cfg.nFeats, w]) as tf.Tensor3D;
      scoreUNet(ctx, cfg, z, z, tf.ones([1, 1, w]), tf.tensor1d([0.5]), spk);
    });
    m.ps.freeze();
    return m;
  }

  private ctx(training: boolean, rng: ItemRngs | null): Ctx {
    return { ps: this.ps, training, rng };
  }

  /** Names of the weights of the given parts, in model order. */
  variablesOf(parts: readonly ModelPart[]): string[] {
    return [...this.variables.keys()].filter((name) => parts.some((p) => name.startsWith(MODEL_PART_PREFIX[p])));
  }

  /** Number of trainable weights. */
  paramCount(): number {
    return this.ps.count();
  }

  /** Speakers with an embedding row (1: a single-speaker model, no embedding). */
  get nSpeakers(): number {
    return speakerCount(this.cfg);
  }

  /** The embedding rows of `speakers` [B, E], or null for a single-speaker model (or no speakers given). */
  private speakerVectors(ctx: Ctx, speakers: readonly number[] | null): tf.Tensor2D | null {
    if (speakers === null || this.nSpeakers === 1) return null;
    const e = speakerWidth(this.cfg);
    const table = ctx.ps.get<tf.Rank.R2>(SPEAKER_TABLE, [this.nSpeakers, e], { kind: 'normal', std: 1 });
    return tf.reshape(embedding(tf.tensor2d(Int32Array.from(speakers), [speakers.length, 1], 'int32'), table), [
      speakers.length,
      e,
    ]) as tf.Tensor2D;
  }

  /**
   * The rows of a batch's (or one sentence's) speakers, checked: null for a single-speaker model,
   * which takes none or 0; with several speakers one row index per item in 0..nSpeakers − 1.
   */
  private checkSpeakers(speakers: readonly (number | undefined)[] | undefined, b: number, where: string): number[] | null {
    const n = this.nSpeakers;
    if (n === 1) {
      if (speakers && speakers.some((s) => s !== undefined && s !== 0))
        throw new UserError(
          `${where}: speaker ${speakers.find((s) => s !== undefined && s !== 0)} given to a single-speaker model (expected none)`,
        );
      return null;
    }
    if (!speakers || speakers.length !== b || speakers.some((s) => s === undefined))
      throw new UserError(`${where}: the model has ${n} speakers: a speaker (embedding row 0..${n - 1}) is needed for every item`);
    for (const s of speakers)
      if (!(Number.isInteger(s) && s! >= 0 && s! < n))
        throw new UserError(`${where}: speaker ${s} outside the model's ${n} speakers (expected 0..${n - 1})`);
    return speakers as number[];
  }

  private checkIds(ids: Int32Array, where: string): void {
    if (ids.length === 0) throw new UserError(`${where}: empty token sequence (expected at least one symbol)`);
    for (const id of ids) {
      if (!(id >= 0 && id < this.nSymbols))
        throw new UserError(`${where}: token id ${id} outside the model's symbol set (expected 0..${this.nSymbols - 1})`);
    }
  }

  /**
   * Runs the encoder on padded ids with the items' speakers (rows, or null); returns μ [B, Tx, F],
   * log ŵ [B, Tx, 1], mask [B, Tx, 1] and the speakers' embeddings [B, E] (null without speakers).
   */
  private encode(
    ids: Int32Array[],
    ctx: Ctx,
    speakers: number[] | null,
  ): { mu: tf.Tensor3D; logw: tf.Tensor3D; xMask: tf.Tensor3D; tx: number; spk: tf.Tensor2D | null } {
    const b = ids.length;
    const tx = Math.max(...ids.map((x) => x.length));
    const idp = new Int32Array(b * tx);
    const xm = new Float32Array(b * tx);
    ids.forEach((x, s) => {
      idp.set(x, s * tx);
      xm.fill(1, s * tx, s * tx + x.length);
    });
    const xMask = tf.tensor3d(xm, [b, tx, 1]);
    const spk = this.speakerVectors(ctx, speakers);
    const { mu, logw } = textEncoder(ctx, this.cfg, this.nSymbols, tf.tensor2d(idp, [b, tx], 'int32'), xMask, spk);
    return { mu, logw, xMask, tx, spk };
  }

  /** Diffusion segment length of a batch whose longest mel has `ty` frames. */
  private segmentFor(ty: number): number {
    return this.cfg.segmentFrames === null ? ty : Math.min(this.cfg.segmentFrames, ty);
  }

  /**
   * This batch's own loss denominators. A shard's segment length can be shorter than the whole
   * batch's only when every item of the shard is shorter than it, so the cut lengths (and these
   * counts) of an item do not depend on its batch.
   */
  lossNorm(batch: Batch): LossNorm {
    const tyLens = batch.mels.map((m) => m.frames);
    const seg = this.segmentFor(Math.max(...tyLens));
    const sum = (xs: number[]) => xs.reduce((p, q) => p + q, 0);
    return {
      duration: sum(batch.ids.map((x) => x.length)),
      prior: sum(tyLens) * this.cfg.nFeats,
      diffusion: Math.max(sum(tyLens.map((l) => Math.min(l, seg))) * this.cfg.nFeats, 1),
      items: batch.ids.length,
    };
  }

  private checkBatch(batch: Batch): { b: number; txLens: number[]; tyLens: number[]; ty: number; speakers: number[] | null } {
    const f = this.cfg.nFeats;
    const b = batch.ids.length;
    if (b === 0 || batch.mels.length !== b) throw new Error(`GradTTS.losses: ${b} id sequences but ${batch.mels.length} mels`);
    batch.ids.forEach((x, s) => this.checkIds(x, `batch item ${s}`));
    batch.mels.forEach((m, s) => {
      if (m.nMels !== f || m.frames < 1 || m.data.length !== f * m.frames)
        throw new Error(`GradTTS.losses: batch item ${s}: mel is [${m.nMels}, ${m.frames}], expected [${f}, frames ≥ 1]`);
    });
    const tyLens = batch.mels.map((m) => m.frames);
    const speakers = this.checkSpeakers(batch.speakers, b, 'GradTTS.losses: batch.speakers');
    return { b, txLens: batch.ids.map((x) => x.length), tyLens, ty: Math.max(...tyLens), speakers };
  }

  /** MAS score log N(y_j; μ_i, I) up to terms constant along a path, μ_i·y_j − ½|μ_i|²: [B, Tx, Ty]. */
  private alignmentScores(mu: tf.Tensor3D, y: tf.Tensor3D): tf.Tensor3D {
    return tf.sub(tf.matMul(mu, y), tf.mul(tf.sum(tf.square(mu), 2, true), 0.5));
  }

  /** Per item the monotonic alignment (token of each frame) maximising the scores logp [B, tx, ty] (read back). */
  private pathsFromScores(logp: Float32Array, txLens: number[], tyLens: number[], tx: number, ty: number): Int32Array[] {
    return txLens.map((txs, s) => {
      const lp = new Float32Array(txs * tyLens[s]!);
      for (let i = 0; i < txs; i++) lp.set(logp.subarray((s * tx + i) * ty, (s * tx + i) * ty + tyLens[s]!), i * tyLens[s]!);
      return maximumPath(lp, txs, tyLens[s]!);
    });
  }

  /**
   * The MAS alignments `losses(batch, …, rng, training)` would compute, read asynchronously (for
   * backends without synchronous reads, webgpu). Give it a copy of losses' rng: the encoder draws
   * the same dropout masks from it. One extra encoder forward.
   */
  async alignments(batch: Batch, draws: Rng | ItemDraws, training = true): Promise<Int32Array[]> {
    const { b, txLens, tyLens, ty, speakers } = this.checkBatch(batch);
    const rngs = itemRngs(draws, b);
    let tx = 0;
    const logp = await readAsync(() => {
      const enc = this.encode(batch.ids, this.ctx(training, { rngs, lens: txLens }), speakers);
      tx = enc.tx;
      return this.alignmentScores(enc.mu, melTensor(batch.mels, new Array(b).fill(0), tyLens, ty, this.cfg.nFeats));
    });
    return this.pathsFromScores(logp as Float32Array, txLens, tyLens, tx, ty);
  }

  /**
   * Loss terms for one batch. Synchronous, so it can run inside tf.variableGrads: MAS reads μ with
   * dataSync unless `batch.paths` holds the alignments already. Item s draws from draws.rng(s), in
   * order: its dropout masks, segment offset, t, z (a bare Rng gives one nextU32 as the step seed).
   * `opts.norm` (default: lossNorm(batch)) divides the terms: a worker shard passes its whole
   * batch's, so the shards' terms sum to the batch's.
   */
  losses(batch: Batch, loss: LossConfig, draws: Rng | ItemDraws, training = true, opts: LossOptions = {}): LossTerms {
    const cfg = this.cfg;
    const f = cfg.nFeats;
    const { b, txLens, tyLens, ty, speakers } = this.checkBatch(batch);
    const items = itemDraws(draws);
    const rngs = itemRngs(items, b);
    const den = opts.norm ?? this.lossNorm(batch);

    return tf.tidy(() => {
      const ctx = this.ctx(training, { rngs, lens: txLens });
      const { mu, logw, xMask, tx, spk } = this.encode(batch.ids, ctx, speakers);

      const y = melTensor(batch.mels, new Array(b).fill(0), tyLens, ty, f);
      if (batch.paths?.some((p, i) => p.length !== tyLens[i]))
        throw new Error('GradTTS.losses: batch.paths do not match the mels (one token index per frame expected)');
      const paths =
        batch.paths ?? this.pathsFromScores(readSync(() => this.alignmentScores(mu, y)) as Float32Array, txLens, tyLens, tx, ty);
      const logwTarget = new Float32Array(b * tx);
      for (let s = 0; s < b; s++) {
        const d = durationsFromPath(paths[s]!, txLens[s]!);
        for (let i = 0; i < txLens[s]!; i++) logwTarget[s * tx + i] = Math.log(1e-8 + d[i]!);
      }

      // --- duration: MSE of log-durations per token
      const duration = tf.div(
        tf.sum(tf.square(tf.sub(logw, tf.mul(tf.tensor3d(logwTarget, [b, tx, 1]), xMask)))),
        den.duration,
      ) as tf.Scalar;

      // --- prior: Gaussian NLL of every valid frame under N(μ_aligned, I)
      const zeros = new Array<number>(b).fill(0);
      const yMask = frameMask(tyLens, ty);
      const muY = alignMu(alignmentTensor(paths, zeros, tyLens, ty, tx), mu);
      const prior = priorLoss(loss, cfg, y, muY, yMask, den.prior);

      if (opts.diffusion === false) {
        // Encoder warm-up: no segment, t or z is drawn and the U-Net is not run.
        const zero = tf.scalar(0);
        return { duration, prior, diffusion: zero, total: tf.add(duration, prior) as tf.Scalar, deltaMean: tf.scalar(0) };
      }

      // --- diffusion on a random segment of each utterance (the same frames of y and μ_aligned)
      const seg = this.segmentFor(ty);
      const w = fixLen(seg, cfg);
      const cutLens = tyLens.map((l) => Math.min(l, seg));
      const offsets = tyLens.map((l, s) => (l > seg ? rngs[s]!.int(l - seg + 1) : 0));
      const y0 = melTensor(batch.mels, offsets, cutLens, w, f);
      const muCut = alignMu(alignmentTensor(paths, offsets, cutLens, w, tx), mu);
      const mask = frameMask(cutLens, w);
      // every item draws its t (so its z is the same either way); loss.tPer "batch" then uses the step's shared one
      const own = rngs.map((r) => r.uniform());
      const shared = loss.tPer === 'batch' ? items.shared().uniform() : null;
      // t ~ U(ε, tMax − ε); tMax 1 keeps the expression (and the bits) of every earlier run. A flow's
      // time runs the other way (t = 1 is data): its noise level 1 − t lies in (ε, tMax − ε) (flow.ts)
      const low = cfg.decoder.objective === 'flow' ? 1 - loss.tMax : 0;
      const ts = own.map((u) => low + T_EPS + (loss.tMax - 2 * T_EPS) * (shared ?? u));
      // z on each item's valid cells only (zero on padding), row by row from its own stream
      const zData = new Float32Array(b * f * w);
      for (let s = 0; s < b; s++) for (let r = 0; r < f; r++) zData.set(rngs[s]!.normals(cutLens[s]!), (s * f + r) * w);
      const z = tf.tensor3d(zData, [b, f, w]);
      const { residual, scheduleT } = this.decoderResidual(ctx, y0, muCut, mask, ts, z, spk);
      const { loss: diffusion, delta } = diffusionLoss(loss, cfg, residual, mask, scheduleT, den.diffusion);
      const deltaMean = tf.div(tf.sum(delta), den.items) as tf.Scalar;
      const total = tf.addN([duration, prior, diffusion]) as tf.Scalar;
      return { duration, prior, diffusion, total, deltaMean };
    });
  }

  /**
   * The decoder term's residual (inside the caller's tidy): y0, μ [B, F, W] (the same frames),
   * mask [B, 1, W], one diffusion time per item, noise z [B, F, W] (zero on padding) →
   * s_θ(x_t, μ, t[, speaker])·√λ_t + z for the score decoder, v_θ(x_t, μ, t) − u for a flow (flow.ts), and
   * the times its δ is read at (t, or 1 − t for a flow).
   */
  private decoderResidual(
    ctx: Ctx,
    y0: tf.Tensor3D,
    mu: tf.Tensor3D,
    mask: tf.Tensor3D,
    ts: number[],
    z: tf.Tensor3D,
    spk: tf.Tensor2D | null = null,
  ): { residual: tf.Tensor3D; scheduleT: tf.Tensor1D } {
    const cfg = this.cfg;
    const tT = tf.tensor1d(ts);
    if (cfg.decoder.objective === 'flow') {
      // flow matching: z is the path's noise end x0, the segment its data end x1; δ is read at 1 − t
      const v = scoreUNet(ctx, cfg, flowPath(z, y0, mask, ts), mu, mask, tT, spk);
      return { residual: tf.sub(v, flowTarget(z, y0, mask)), scheduleT: tf.tensor1d(ts.map(flowScheduleTime)) };
    }
    const { xt, sqrtLambda } = forwardDiffusion(y0, mu, mask, ts, z, cfg.beta0, cfg.beta1);
    const score = scoreUNet(ctx, cfg, xt, mu, mask, tT, spk);
    return { residual: tf.add(tf.mul(score, sqrtLambda), z) as tf.Tensor3D, scheduleT: tT };
  }

  /**
   * The two mel terms' residuals of one utterance as training computes them, without dropout (the
   * diagnostic of docs/results/corruption-diagnostic): the prior's y − μ_aligned on the MAS
   * alignment of this μ, and for each time in `ts` the decoder term's residual (decoderResidual)
   * on the whole utterance (no random segment) with the given noise. mel [F, frames] natural-log
   * mel; z row-major [F, frames] standard normal, the same for every t. Returns Float32Arrays
   * [F, frames] (prior in ln-mel units, diffusion in units of z) and the alignment (token per frame).
   */
  async residuals(
    ids: Int32Array,
    mel: Mel,
    ts: number[],
    z: Float32Array,
  ): Promise<{ prior: Float32Array; diffusion: Float32Array[]; path: Int32Array }> {
    const batch: Batch = { ids: [ids], mels: [mel] };
    const { tyLens } = this.checkBatch(batch);
    const f = this.cfg.nFeats;
    const frames = tyLens[0]!;
    if (z.length !== f * frames) throw new Error(`GradTTS.residuals: z has ${z.length} values, expected ${f} × ${frames}`);
    for (const t of ts) if (!(t > 0 && t < 1)) throw new UserError(`residuals: diffusion time ${t} (expected a number in (0, 1))`);
    // no dropout, so the draws are never used
    const path = (await this.alignments(batch, new Rng(0), false))[0]!;
    const w = fixLen(frames, this.cfg);
    const zPad = new Float32Array(f * w);
    for (let r = 0; r < f; r++) zPad.set(z.subarray(r * frames, (r + 1) * frames), r * w);
    const valid = (x: Float32Array, width: number) => {
      const out = new Float32Array(f * frames);
      for (let r = 0; r < f; r++) out.set(x.subarray(r * width, r * width + frames), r * frames);
      return out;
    };
    const ctx = this.ctx(false, null);
    const prior = (await readAsync(() => {
      const { mu, tx } = this.encode([ids], ctx, null);
      return tf.sub(melTensor([mel], [0], [frames], frames, f), alignMu(alignmentTensor([path], [0], [frames], frames, tx), mu));
    })) as Float32Array;
    const diffusion: Float32Array[] = [];
    for (const t of ts) {
      const r = (await readAsync(() => {
        const { mu, tx } = this.encode([ids], ctx, null);
        const muY = alignMu(alignmentTensor([path], [0], [frames], w, tx), mu);
        return this.decoderResidual(
          ctx,
          melTensor([mel], [0], [frames], w, f),
          muY,
          frameMask([frames], w),
          [t],
          tf.tensor3d(zPad, [1, f, w]),
        ).residual;
      })) as Float32Array;
      diffusion.push(valid(r, w));
    }
    return { prior: valid(prior, frames), diffusion, path };
  }

  /**
   * The encoder on one sequence (inference) spoken by `speaker`: μ [1, Tx, F], the predicted
   * durations (read back) and the speaker's embedding [1, E] (null without speakers).
   */
  private async encodeForSynthesis(
    ids: Int32Array,
    lengthScale: number,
    speaker: number | undefined,
  ): Promise<{ mu: tf.Tensor3D; durations: Int32Array; spk: tf.Tensor2D | null }> {
    this.checkIds(ids, 'synthesize');
    if (!(lengthScale > 0)) throw new UserError(`synthesize: length scale ${lengthScale} (expected a number > 0)`);
    const speakers = this.checkSpeakers([speaker], 1, 'synthesize');
    const enc: { mu: tf.Tensor3D; logw: tf.Tensor3D; spk?: tf.Tensor2D } = tf.tidy(() => {
      const e = this.encode([ids], this.ctx(false, null), speakers);
      return e.spk ? { mu: e.mu, logw: e.logw, spk: e.spk } : { mu: e.mu, logw: e.logw };
    });
    const { mu, logw } = enc;
    const spk = enc.spk ?? null;
    try {
      return { mu, durations: predictedDurations((await logw.data()) as Float32Array, ids.length, lengthScale), spk };
    } catch (err) {
      mu.dispose();
      spk?.dispose();
      throw err;
    } finally {
      logw.dispose();
    }
  }

  /** Predicted frames per token, ⌈exp(log ŵ)·lengthScale⌉ (each ≥ 1), for `speaker`: Int32Array [ids.length]. */
  async durations(ids: Int32Array, lengthScale = 1, speaker?: number): Promise<Int32Array> {
    const { mu, durations, spk } = await this.encodeForSynthesis(ids, lengthScale, speaker);
    mu.dispose();
    spk?.dispose();
    return durations;
  }

  /**
   * μ aligned by predicted durations, plus the mask, padded to fixLen: [1, F, W], [1, 1, W]; and the
   * speaker's embedding [1, E] (null without speakers).
   */
  private async alignedPrior(
    ids: Int32Array,
    lengthScale: number,
    speaker: number | undefined,
  ): Promise<{ muY: tf.Tensor3D; mask: tf.Tensor3D; frames: number; spk: tf.Tensor2D | null }> {
    const { mu, durations, spk } = await this.encodeForSynthesis(ids, lengthScale, speaker);
    try {
      return {
        ...tf.tidy(() => {
          const path = pathFromDurations(durations);
          const frames = path.length;
          const w = fixLen(frames, this.cfg);
          const muY = alignMu(alignmentTensor([path], [0], [frames], w, ids.length), mu);
          return { muY, mask: frameMask([frames], w), frames };
        }),
        spk,
      };
    } catch (err) {
      spk?.dispose();
      throw err;
    } finally {
      mu.dispose();
    }
  }

  private async toMel(x: tf.Tensor3D, frames: number): Promise<Mel> {
    const f = this.cfg.nFeats;
    const data = await readAsync(() => tf.slice(x, [0, 0, 0], [1, f, frames]));
    return { data: Float32Array.from(data as Float32Array), nMels: f, frames };
  }

  /** Encoder-only: μ of `speaker` aligned by predicted durations × lengthScale → Mel [nFeats, frames]. */
  async prior(ids: Int32Array, lengthScale = 1, speaker?: number): Promise<Mel> {
    const { muY, mask, frames, spk } = await this.alignedPrior(ids, lengthScale, speaker);
    try {
      return await this.toMel(muY, frames);
    } finally {
      muY.dispose();
      mask.dispose();
      spk?.dispose();
    }
  }

  /**
   * Text ids → mel [nFeats, frames] by reverse diffusion from N(μ, τ⁻¹ I), `steps` Euler steps at
   * t = 1 − (i + ½)h (Grad-TTS). frames = Σ ⌈exp(log ŵ)·lengthScale⌉.
   */
  async synthesize(ids: Int32Array, opts: SynthesisOptions): Promise<Mel> {
    if (!(Number.isInteger(opts.steps) && opts.steps >= 1))
      throw new UserError(`synthesize: steps ${opts.steps} (expected an integer ≥ 1)`);
    if (!(opts.temperature > 0)) throw new UserError(`synthesize: temperature ${opts.temperature} (expected a number > 0)`);
    // the weights stay as they are for every step: kernels keep what they derive from them (Winograd filters)
    return withFrozenWeights(this.variables.values(), () =>
      this.cfg.decoder.objective === 'flow' ? this.synthesizeFlow(ids, opts) : this.synthesizeScore(ids, opts),
    );
  }

  /** The score decoder's reverse diffusion (synthesize). */
  private async synthesizeScore(ids: Int32Array, opts: SynthesisOptions): Promise<Mel> {
    const { muY, mask, frames, spk } = await this.alignedPrior(ids, opts.lengthScale, opts.speaker);
    const [, f, w] = muY.shape;
    const cfg = this.cfg;
    const ctx = this.ctx(false, null);
    // what the U-Net computes from μ and the mask alone, once for all steps
    let prior: ScorePrior | null = null;
    let x: tf.Tensor3D | null = null;
    try {
      prior = keptScorePrior(ctx, cfg, muY, mask, true, spk);
      const pr: ScorePrior = prior;
      // t₀ = 1 keeps Grad-TTS's N(μ, τ⁻¹ I) start bit for bit (λ₁ = 1 − e^{−∫β} ≈ 1 − 4.5e-5)
      const t0 = opts.startTime ?? 1;
      if (!(t0 > 0 && t0 <= 1)) throw new UserError(`synthesize: start time ${t0} (expected a number in (0, 1])`);
      x = tf.tidy(() => {
        const z = tf.tensor3d(opts.rng.normals(f * w), [1, f, w]);
        const start = t0 === 1 ? tf.div(z, opts.temperature) : tf.mul(z, Math.sqrt(lambdaAt(t0, cfg.beta0, cfg.beta1)) / opts.temperature);
        return tf.mul(tf.add(muY, start), mask) as tf.Tensor3D;
      });
      const h = t0 / opts.steps;
      for (let i = 0; i < opts.steps; i++) {
        const t = t0 - (i + 0.5) * h;
        const xi: tf.Tensor3D = x;
        const next = tf.tidy(() => {
          const score = scoreFromPrior(ctx, cfg, pr, xi, tf.tensor1d([t]));
          const noise = opts.stochastic ? (tf.tensor3d(opts.rng.normals(f * w), [1, f, w]) as tf.Tensor3D) : null;
          return reverseStep(xi, muY, score, mask, t, h, cfg.beta0, cfg.beta1, noise);
        });
        x.dispose();
        x = next;
      }
      return await this.toMel(x, frames);
    } finally {
      x?.dispose();
      if (prior) disposeScorePrior(prior);
      muY.dispose();
      mask.dispose();
      spk?.dispose();
    }
  }

  /**
   * A flow-matching decoder's synthesis (model.decoder.objective "flow", src/model/flow.ts):
   * `steps` Euler steps of the learned velocity from x0 = n/τ (n ~ N(0, I)) at t = 0 to the mel at
   * t = 1; with `startTime` s₀ < 1 (shallow flow) from flowStart's point at t = 1 − s₀ instead;
   * `stochastic` does not apply (the flow is an ODE).
   */
  private async synthesizeFlow(ids: Int32Array, opts: SynthesisOptions): Promise<Mel> {
    const { muY, mask, frames, spk } = await this.alignedPrior(ids, opts.lengthScale, opts.speaker);
    const [, f, w] = muY.shape;
    const ctx = this.ctx(false, null);
    let prior: ScorePrior | null = null;
    let x0: tf.Tensor3D | null = null;
    let x: tf.Tensor3D | null = null;
    try {
      prior = keptScorePrior(ctx, this.cfg, muY, mask, true, spk);
      const pr: ScorePrior = prior;
      const s0 = opts.startTime ?? 1;
      if (!(s0 > 0 && s0 <= 1)) throw new UserError(`synthesize: start time ${s0} (expected a number in (0, 1])`);
      const mu: tf.Tensor3D = muY;
      x0 = tf.tidy(() => flowStart(tf.tensor3d(opts.rng.normals(f * w), [1, f, w]), mu, mask, s0, opts.temperature));
      x = eulerFlow(x0, mask, opts.steps, (xi, t) => scoreFromPrior(ctx, this.cfg, pr, xi, tf.tensor1d([t])), 1 - s0);
      return await this.toMel(x, frames);
    } finally {
      x?.dispose();
      x0?.dispose();
      if (prior) disposeScorePrior(prior);
      muY.dispose();
      mask.dispose();
      spk?.dispose();
    }
  }

  /** Frees every weight. */
  dispose(): void {
    this.ps.dispose();
  }
}
