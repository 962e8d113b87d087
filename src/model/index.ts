/** The Grad-TTS model: configs, the GradTTS class, and the pieces tests and tools reach for. */
export {
  MODEL_CONFIGS,
  MODEL_PARTS,
  MODEL_PART_PREFIX,
  DEFAULT_SPEAKER_EMB_DIM,
  speakerCount,
  speakerWidth,
  type ModelPart,
  fixLen,
  validateModelConfig,
  type ModelConfig,
  type EncoderConfig,
} from './configs.js';
export { GradTTS, SPEAKER_TABLE, type Batch, type LossNorm, type LossTerms, type SynthesisOptions } from './gradtts.js';
export { maximumPath, durationsFromPath, pathFromDurations } from './mas.js';
export { betaAt, betaIntegral, lambdaAt, forwardDiffusion, reverseStep } from './diffusion.js';
export { conv1d, conv2d, conv2dTranspose, embedding, usesReplacementGrads } from './ops.js';
