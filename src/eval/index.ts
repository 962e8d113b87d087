/**
 * Evaluation metrics for generated speech against references of the same text: MCD-DTW (SPTK
 * mel-cepstra), a speaker distance, reference-free naturalness (global variance, mean log-mel distance,
 * Fréchet distance of mel-cepstral frames), YIN F0
 * (log-F0 RMSE, voicing error), mel-spectral similarity, LSD, WER via pocketsphinx, and the
 * orientation/resilience arithmetic used by corruption experiments. Pure functions over
 * Float32Array / Mel (no tfjs).
 */
export { dtw, dtwMatrix, type DtwResult } from './dtw.js';
export { blackmanUnitPower, freqt, mcepAlpha, mcepFrame, melCepstrum, type McepOptions, type MelCepstra } from './mcep.js';
export { MCD_DB, mcd, type McdResult } from './mcd.js';
export { speakerDistance, speakerStats, speechFrames, type SpeakerStats } from './speaker.js';
export { yin, yinFrameCount, medianF0, voicedFraction, type YinOptions, type PitchTrack } from './yin.js';
export { compareF0, type F0Comparison } from './f0compare.js';
export { LN_TO_DB, cosineSimilarity, lsdAligned, meanLogMel, meanMelCosine, melStatsCosine, stdLogMel } from './spectral.js';
export { findOnPath, normalizeWords, recognize, wordErrorRate, type RecognizeOptions, type WerResult } from './wer.js';
export {
  METRICS,
  metricResilience,
  resilience,
  similarity,
  spread,
  type MetricInfo,
  type MetricName,
  type Orientation,
  type Resilience,
  type Spread,
} from './resilience.js';
export {
  frechetDistance,
  gaussianOf,
  melSpeechFrames,
  naturalnessRef,
  scoreSet,
  scoreUtterance,
  sqrtmPsd,
  symmetricEigen,
  utteranceNaturalness,
  wavNaturalness,
  writeGvPng,
  type Gaussian,
  type NaturalnessRef,
  type SetNaturalness,
  type UtteranceNaturalness,
} from './naturalness.js';
export { aggregate, evaluatePair, type EvaluateOptions, type PairMetrics, type Utterance } from './evaluate.js';
