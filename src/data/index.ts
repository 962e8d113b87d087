/** Corpora, the feature cache and corruption experiments. */
export { readCorpus, fatalProblems, sha256Hex, DEFAULT_MIN_DUR, DEFAULT_MAX_DUR, type CorpusEntry, type CorpusReport, type ReadCorpusOptions } from './corpus.js';
export { parseMetadata, type MetadataRow } from './metadata.js';
export { groupProblems, type Problem, type ProblemKind } from './problems.js';
export { computeSplit, restrictSplit, DEFAULT_SPLIT_SEED, type Splits, type SplitOptions } from './split.js';
export { prepareFeatures, loadFeatures, openDataset, type Utterance, type FeatureSet, type PrepareOptions, type PrepareReport } from './features.js';
