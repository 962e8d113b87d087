/** Corpora, the feature cache and corruption experiments. */
export {
  readCorpus,
  fatalProblems,
  sha256Hex,
  speakerSummary,
  speakersById,
  DEFAULT_MIN_DUR,
  DEFAULT_MAX_DUR,
  type CorpusEntry,
  type CorpusReport,
  type ReadCorpusOptions,
  type SpeakerSummary,
} from './corpus.js';
export { detectLayout, listCorpus, LAYOUTS, type Layout, type CorpusRow, type CorpusListing } from './layouts.js';
export { parseMetadata, type MetadataRow } from './metadata.js';
export { groupProblems, type Problem, type ProblemKind } from './problems.js';
export { computeSplit, restrictSplit, DEFAULT_SPLIT_SEED, DEFAULT_MIN_PER_SPEAKER, type Splits, type SplitOptions } from './split.js';
export {
  prepareFeatures,
  loadFeatures,
  openDataset,
  type Utterance,
  type FeatureSet,
  type PrepareOptions,
  type PrepareReport,
} from './features.js';
export {
  corruptCorpus,
  checkCorruptOptions,
  CORRUPT_MODES,
  NOISE_TYPES,
  type CorruptOptions,
  type CorruptionLog,
  type CorruptionRecord,
  type CorruptMode,
} from './corrupt.js';
export { addNoiseAtSnr, clipAtLevel, lowpass, lowpassKernel, measureSnrDb, pinkNoise, whiteNoise, babbleNoise } from './signal.js';
