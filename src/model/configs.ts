/**
 * Model sizes. `full` is Grad-TTS as published (Popov et al. 2021, arXiv 2105.06337, Appendix /
 * official params.py); `tiny` and `small` are CPU sizes for a 2-core machine on tfjs-wasm.
 *
 * Parameter counts (nSymbols = 148 for the counts below; `GradTTS.paramCount()` gives the exact
 * number for a symbol set):
 *   tiny  ≈ 0.35 M  — encoder 64 ch ×2 layers, decoder dim 16 (U-Net channels 16/32/64), segment 64
 *   small ≈ 1.9 M   — encoder 128 ch ×4 layers, decoder dim 32, segment 96
 *   full  ≈ 14.8 M  — Grad-TTS (with rotary instead of windowed relative attention: the
 *                     published model's relative-position tables add ~10 k weights)
 * The U-Net dominates compute (it runs at 80 × frames): tiny's decoder is ~16× cheaper per frame
 * than full's, and its shorter segment another ~2.7×, so one tiny step at batch 4 takes seconds on
 * wasm (see the report in docs). Batch sizes keep the wasm heap (4 GB) well clear: TFJS-NOTES.md
 * measured dim 64 at batch 4 × 128 frames aborting, dim 32 at batch 4 fitting.
 * Learning rates: Grad-TTS's 1e-4 for full; the small models train faster with a larger step
 * (Adam 1e-3 for tiny, 5e-4 for small), and grad clip 1 as Grad-TTS.
 */

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
  decoder: { dim: number; mults: number[]; groups: number; peScale: number; attnHeads?: number; attnDimHead?: number };
  /** Frames of the random training segment per utterance for the diffusion loss; null = whole. */
  segmentFrames: number | null;
  /** VP-SDE noise schedule β(t) = β0 + (β1 − β0)t. */
  beta0: number;
  beta1: number;
  /** Defaults for recipes: batch size, Adam learning rate, gradient-norm clip. */
  training: { batchSize: number; lr: number; gradClip: number };
}

const full: ModelConfig = {
  name: 'full',
  nFeats: 80,
  encoder: { channels: 192, filterChannels: 768, layers: 6, heads: 2, kernel: 3, dropout: 0.1, prenetKernel: 5, prenetLayers: 3, prenetDropout: 0.5 },
  durationPredictor: { channels: 256, kernel: 3, dropout: 0.1 },
  decoder: { dim: 64, mults: [1, 2, 4], groups: 8, peScale: 1000 },
  segmentFrames: 172, // 2 s at 22.05 kHz / hop 256
  beta0: 0.05,
  beta1: 20,
  training: { batchSize: 16, lr: 1e-4, gradClip: 1 },
};

const small: ModelConfig = {
  name: 'small',
  nFeats: 80,
  encoder: { channels: 128, filterChannels: 384, layers: 4, heads: 2, kernel: 3, dropout: 0.1, prenetKernel: 5, prenetLayers: 3, prenetDropout: 0.3 },
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
  encoder: { channels: 64, filterChannels: 192, layers: 2, heads: 2, kernel: 3, dropout: 0.05, prenetKernel: 5, prenetLayers: 3, prenetDropout: 0.1 },
  durationPredictor: { channels: 64, kernel: 3, dropout: 0.05 },
  decoder: { dim: 16, mults: [1, 2, 4], groups: 4, peScale: 1000, attnHeads: 2, attnDimHead: 16 },
  segmentFrames: 64,
  beta0: 0.05,
  beta1: 20,
  training: { batchSize: 4, lr: 1e-3, gradClip: 1 },
};

export const MODEL_CONFIGS: Record<'tiny' | 'small' | 'full', ModelConfig> = { tiny, small, full };

/** Frames padded up so the U-Net can halve them len(mults) − 1 times (Grad-TTS fix_len_compatibility). */
export function fixLen(frames: number, cfg: ModelConfig): number {
  const f = 2 ** (cfg.decoder.mults.length - 1);
  return Math.ceil(frames / f) * f;
}
