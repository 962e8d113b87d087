/** A very small model config for tests: 16 mel bins, 16-channel encoder, U-Net dim 8. */
import { MODEL_CONFIGS, type ModelConfig } from '../model/configs.js';

export const TEST_CFG: ModelConfig = {
  ...MODEL_CONFIGS.tiny,
  name: 'test',
  nFeats: 16,
  encoder: { ...MODEL_CONFIGS.tiny.encoder, channels: 16, filterChannels: 24, layers: 1, heads: 2 },
  durationPredictor: { channels: 16, kernel: 3, dropout: 0.1 },
  decoder: { dim: 8, mults: [1, 2, 4], groups: 2, peScale: 1000 },
  segmentFrames: 12,
};
