/**
 * Model sizes. `full` is Grad-TTS as published (Popov et al. 2021, arXiv 2105.06337, Appendix /
 * official params.py); `tiny` and `small` are CPU sizes for a 2-core machine on tfjs-wasm.
 *
 * Weights (`GradTTS.paramCount()`, 109 symbols = symbolCount() of the default phoneme text config;
 * `node dist/bench/model-measure.js`):
 *   tiny   0.77 M — encoder 64 ch × 2 layers (FFN 192), duration predictor 64, U-Net dim 16
 *                   (channels 16/32/64), linear attention 2 heads × 16, segment 64 frames, batch 4
 *   small  3.75 M — encoder 128 ch × 4 layers (FFN 384), duration predictor 128, U-Net dim 32,
 *                   linear attention 4 × 16, segment 96 frames, batch 4
 *   full  14.82 M — Grad-TTS (paper: 14.84 M; we use rotary positions instead of windowed relative
 *                   attention, which drops its small relative-position tables)
 * Why these sizes: the U-Net runs at 80 × frames and dominates the cost; its linear attention at
 * Grad-TTS's 4 × 32 alone cost more than all convolutions of a dim-16 U-Net, so the small configs
 * shrink it. Measured CPU seconds per training step on wasm (1 thread, shared 2-core machine;
 * `node dist/bench/model-measure.js tiny wasm 4 560`, src/kernels registered as initBackend does):
 * tiny ≈ 0.45 s at batch 4, small ≈ 1.5 s (2026-11-25; 0.9 s and 4.2 s before difftts's own wasm
 * GEMM) — i.e. ~7000 tiny steps per hour.
 * 150 tiny steps on the three LibriVox fixtures (batch 3) take the total loss from 20.0 to 2.4
 * (prior 18.0 → 1.66; its floor is ½ ln 2π ≈ 0.92) at 0.9 s CPU per step (before the GEMM)
 * (`node dist/bench/model-overfit.js tiny 150`). Batch 4 × 870 frames fits the 4 GB wasm heap for
 * small (the diffusion segment bounds the U-Net's memory; TFJS-NOTES.md saw dim 64 at batch 4 ×
 * 128 frames abort, so `full` is for native backends).
 * Learning rates: Grad-TTS's 1e-4 for full; the small models take a larger step (Adam 1e-3 tiny,
 * 5e-4 small); gradient-norm clip 1 as Grad-TTS. Dropout is lowered for the small models (less
 * capacity, less to regularise), the pre-net's 0.5 in particular.
 */
import { UserError } from '../errors.js';

export interface EncoderConfig {
  /** Embedding / transformer width. */
  channels: number;
  /** FFN inner width. */
  filterChannels: number;
  layers: number;
  heads: number;
  /** FFN conv kernel. */
  kernel: number;
  dropout: number;
  prenetKernel: number;
  prenetLayers: number;
  prenetDropout: number;
}

export const DECODER_OBJECTIVES = ['score', 'flow'] as const;
export type DecoderObjective = (typeof DECODER_OBJECTIVES)[number];

export interface ModelConfig {
  name: string;
  /** Mel bins (80). */
  nFeats: number;
  encoder: EncoderConfig;
  durationPredictor: { channels: number; kernel: number; dropout: number };
  /**
   * U-Net base width, width multipliers per resolution, GroupNorm groups, time-embedding scale;
   * optional linear-attention size (default Grad-TTS's 4 heads × 32).
   */
  decoder: {
    dim: number;
    mults: number[];
    groups: number;
    peScale: number;
    attnHeads?: number;
    attnDimHead?: number;
    /**
     * What the U-Net learns: "score" (Grad-TTS, the default when absent) or "flow" (Matcha-TTS's
     * optimal-transport conditional flow matching, src/model/flow.ts). Absent from the named
     * configs, so the configs stored by earlier runs compare equal.
     */
    objective?: DecoderObjective;
  };
  /** Frames of the random training segment per utterance for the diffusion loss; null = whole. */
  segmentFrames: number | null;
  /** VP-SDE noise schedule β(t) = β0 + (β1 − β0)t. */
  beta0: number;
  beta1: number;
  /** Defaults for recipes: batch size, Adam learning rate, gradient-norm clip. */
  training: { batchSize: number; lr: number; gradClip: number };
  /**
   * Speakers with an embedding row (Grad-TTS's n_spks; absent = 1: no speaker embedding at all, the
   * single-speaker model). Absent from the named configs and stored only when > 1, so single-speaker
   * configs stored by earlier runs compare equal. Training sets it from the data (src/train/speakers.ts).
   */
  nSpeakers?: number;
  /** Width of a speaker's embedding (Grad-TTS's spk_emb_dim; absent = 64). Used only when nSpeakers > 1. */
  speakerEmbDim?: number;
}

/** Grad-TTS's speaker embedding width (params.py spk_emb_dim). */
export const DEFAULT_SPEAKER_EMB_DIM = 64;

/** Speaker embedding rows of a config: 1 means a single-speaker model (no embedding). */
export function speakerCount(cfg: ModelConfig): number {
  return cfg.nSpeakers ?? 1;
}

/** The speaker embedding width when the config has speakers, else 0 (nothing is concatenated). */
export function speakerWidth(cfg: ModelConfig): number {
  return speakerCount(cfg) > 1 ? (cfg.speakerEmbDim ?? DEFAULT_SPEAKER_EMB_DIM) : 0;
}

const full: ModelConfig = {
  name: 'full',
  nFeats: 80,
  encoder: {
    channels: 192,
    filterChannels: 768,
    layers: 6,
    heads: 2,
    kernel: 3,
    dropout: 0.1,
    prenetKernel: 5,
    prenetLayers: 3,
    prenetDropout: 0.5,
  },
  durationPredictor: { channels: 256, kernel: 3, dropout: 0.1 },
  decoder: { dim: 64, mults: [1, 2, 4], groups: 8, peScale: 1000, attnHeads: 4, attnDimHead: 32 },
  segmentFrames: 172, // 2 s at 22.05 kHz / hop 256
  beta0: 0.05,
  beta1: 20,
  training: { batchSize: 16, lr: 1e-4, gradClip: 1 },
};

const small: ModelConfig = {
  name: 'small',
  nFeats: 80,
  encoder: {
    channels: 128,
    filterChannels: 384,
    layers: 4,
    heads: 2,
    kernel: 3,
    dropout: 0.1,
    prenetKernel: 5,
    prenetLayers: 3,
    prenetDropout: 0.3,
  },
  durationPredictor: { channels: 128, kernel: 3, dropout: 0.1 },
  decoder: { dim: 32, mults: [1, 2, 4], groups: 8, peScale: 1000, attnHeads: 4, attnDimHead: 16 },
  segmentFrames: 96,
  beta0: 0.05,
  beta1: 20,
  training: { batchSize: 4, lr: 5e-4, gradClip: 1 },
};

const tiny: ModelConfig = {
  name: 'tiny',
  nFeats: 80,
  encoder: {
    channels: 64,
    filterChannels: 192,
    layers: 2,
    heads: 2,
    kernel: 3,
    dropout: 0.05,
    prenetKernel: 5,
    prenetLayers: 3,
    prenetDropout: 0.1,
  },
  durationPredictor: { channels: 64, kernel: 3, dropout: 0.05 },
  decoder: { dim: 16, mults: [1, 2, 4], groups: 4, peScale: 1000, attnHeads: 2, attnDimHead: 16 },
  segmentFrames: 64,
  beta0: 0.05,
  beta1: 20,
  training: { batchSize: 4, lr: 1e-3, gradClip: 1 },
};

/**
 * The model's parts (recipe train.freeze) and the prefix of their weights' names. `speakers` is the
 * speaker embedding table (multi-speaker models only; the decoder's speaker MLP is the decoder's).
 */
export const MODEL_PART_PREFIX = { encoder: 'encoder.', durationPredictor: 'dp.', decoder: 'decoder.', speakers: 'speaker.' } as const;
export type ModelPart = keyof typeof MODEL_PART_PREFIX;
export const MODEL_PARTS = Object.keys(MODEL_PART_PREFIX) as [ModelPart, ...ModelPart[]];

export const MODEL_CONFIGS: Record<'tiny' | 'small' | 'full', ModelConfig> = { tiny, small, full };

/** Frames padded up so the U-Net can halve them len(mults) − 1 times (Grad-TTS fix_len_compatibility). */
export function fixLen(frames: number, cfg: ModelConfig): number {
  const f = 2 ** (cfg.decoder.mults.length - 1);
  return Math.ceil(frames / f) * f;
}

/**
 * Throws a UserError (one line, naming the field) when a config cannot build a model, e.g. after
 * recipe overrides: widths the heads/groups do not divide, odd rotary head size, mel bins the
 * U-Net cannot halve, non-positive sizes.
 */
export function validateModelConfig(cfg: ModelConfig, where = `model config '${cfg.name}'`): void {
  const e = cfg.encoder;
  const d = cfg.decoder;
  const posInt = (v: unknown, field: string) => {
    if (!(Number.isInteger(v) && (v as number) >= 1))
      throw new UserError(`${where}: ${field} is ${JSON.stringify(v)} (expected an integer ≥ 1)`);
  };
  const frac = (v: unknown, field: string) => {
    if (!(typeof v === 'number' && v >= 0 && v < 1))
      throw new UserError(`${where}: ${field} is ${JSON.stringify(v)} (expected a number in [0, 1))`);
  };
  posInt(cfg.nFeats, 'nFeats');
  for (const k of ['channels', 'filterChannels', 'layers', 'heads', 'kernel', 'prenetKernel', 'prenetLayers'] as const)
    posInt(e[k], `encoder.${k}`);
  frac(e.dropout, 'encoder.dropout');
  frac(e.prenetDropout, 'encoder.prenetDropout');
  posInt(cfg.durationPredictor.channels, 'durationPredictor.channels');
  posInt(cfg.durationPredictor.kernel, 'durationPredictor.kernel');
  frac(cfg.durationPredictor.dropout, 'durationPredictor.dropout');
  if (cfg.nSpeakers !== undefined) posInt(cfg.nSpeakers, 'nSpeakers');
  if (cfg.speakerEmbDim !== undefined) posInt(cfg.speakerEmbDim, 'speakerEmbDim');
  // with speakers the transformer runs on the channels plus the speaker embedding (encoder.ts)
  const width = e.channels + speakerWidth(cfg);
  const headDim = width / e.heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    const what =
      width === e.channels ? `encoder.channels ${e.channels}` : `encoder.channels ${e.channels} + speakerEmbDim ${width - e.channels}`;
    throw new UserError(`${where}: ${what} / encoder.heads ${e.heads} must be an even integer (rotary attention rotates pairs)`);
  }
  posInt(d.dim, 'decoder.dim');
  posInt(d.groups, 'decoder.groups');
  if (!Array.isArray(d.mults) || d.mults.length < 1) throw new UserError(`${where}: decoder.mults must be a non-empty list of integers`);
  d.mults.forEach((m, i) => posInt(m, `decoder.mults[${i}]`));
  if (d.dim % 2 !== 0) throw new UserError(`${where}: decoder.dim ${d.dim} must be even (sinusoidal time embedding)`);
  for (const m of d.mults) {
    if ((d.dim * m) % d.groups !== 0)
      throw new UserError(
        `${where}: decoder.groups ${d.groups} must divide every U-Net width (decoder.dim × mults = ${d.mults.map((x) => x * d.dim).join(', ')})`,
      );
  }
  if (d.dim % d.groups !== 0) throw new UserError(`${where}: decoder.groups ${d.groups} must divide decoder.dim ${d.dim}`);
  if (d.attnHeads !== undefined) posInt(d.attnHeads, 'decoder.attnHeads');
  if (d.attnDimHead !== undefined) posInt(d.attnDimHead, 'decoder.attnDimHead');
  if (d.objective !== undefined && !DECODER_OBJECTIVES.includes(d.objective)) {
    throw new UserError(
      `${where}: decoder.objective is ${JSON.stringify(d.objective)} (expected one of ${DECODER_OBJECTIVES.map((o) => JSON.stringify(o)).join(', ')})`,
    );
  }
  if (!(typeof d.peScale === 'number' && d.peScale > 0)) throw new UserError(`${where}: decoder.peScale must be a number > 0`);
  const f = 2 ** (d.mults.length - 1);
  if (cfg.nFeats % f !== 0)
    throw new UserError(`${where}: nFeats ${cfg.nFeats} must be divisible by ${f} (the U-Net halves it ${d.mults.length - 1} times)`);
  if (cfg.segmentFrames !== null) posInt(cfg.segmentFrames, 'segmentFrames');
  if (!(cfg.beta0 > 0 && cfg.beta1 > cfg.beta0))
    throw new UserError(`${where}: noise schedule beta0 ${cfg.beta0}, beta1 ${cfg.beta1} (expected 0 < beta0 < beta1)`);
}
