/**
 * Losses and δ schedules for Grad-TTS training (L2, L1, Huber and the pseudo-Huber family with
 * δ scheduled over diffusion time, arXiv 2403.16728). The model calls `diffusionLoss`.
 */
export { LOSS_TYPES, type LossType, elementwiseLoss, lossAt, usesDelta } from './elementwise.js';
export { SCHEDULES, type ScheduleName, type VpSde, deltaAt, deltaTensor, integralBeta, vpSigma } from './schedule.js';
export { type LossConfig, LossConfigSchema, parseLossConfig } from './config.js';
export { maskedMean, perSampleMaskedMean } from './reduce.js';
export { diffusionLoss } from './diffusion.js';
export { priorDelta, priorLoss } from './prior.js';
