/**
 * The feature cache: log-mels and token ids computed once per corpus, with the seeded split.
 *
 * Layout of a features directory:
 *   manifest.json        { format, version, corpus, melConfig, textConfig, split, splits, speakers[], utterances[], skipped[] }
 *   mels/<id>.<key>.f32  one float32 little-endian row-major [nMels, frames] log-mel per utterance
 * `key` is sha256(wav sha256 + mel config) (16 hex digits): a mel file is reused only when both
 * the wav bytes and the mel parameters are unchanged. Token ids are recomputed from the text
 * (cheap). Files are written under their new name before the manifest is replaced atomically, and
 * unreferenced mel files are removed last, so a killed prepare leaves the old cache readable.
 * One prepare per directory (`FEATURES/prepare.lock`, src/util/lock.ts): a second one into the same
 * directory stops with one line naming the first, instead of deleting the mel files it lists.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { UserError } from '../errors.js';
import { checkOutput, ensureDir, writeFileAtomic } from '../util/atomic.js';
import { acquireDirLock } from '../util/lock.js';
import { decodeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { checkMelConfig, DEFAULT_MEL, logMel, type Mel, type MelConfig } from '../audio/mel.js';
import { DEFAULT_TEXT, isTextConfig, type TextConfig } from '../text/index.js';
import { readCorpus, sha256Hex, fatalProblems, speakersById, type CorpusReport } from './corpus.js';
import { corpusLayout, type Layout } from './layouts.js';
import { computeSplit, restrictSplit, DEFAULT_SPLIT_SEED, type Splits } from './split.js';
import type { Problem } from './problems.js';

export interface Utterance {
  id: string;
  text: string;
  speaker: string | null;
  ids: Int32Array;
  mel: Mel;
}

export interface FeatureSet {
  dir: string;
  melConfig: MelConfig;
  textConfig: TextConfig;
  utterances: Map<string, Utterance>;
  splits: Splits;
  /** Names of the utterances' speakers, sorted; [] when none is named (one unnamed speaker, as in caches made before speakers). */
  speakers: string[];
  /** Only from prepareFeatures: what this call computed, reused and skipped. */
  report?: PrepareReport;
}

export interface PrepareReport {
  computed: string[];
  reused: string[];
  skipped: Problem[];
  warnings: Problem[];
}

export interface PrepareOptions {
  melConfig?: MelConfig;
  textConfig?: TextConfig;
  /** Split seed (default DEFAULT_SPLIT_SEED = 1234) and sizes (see split.ts). */
  seed?: number;
  valid?: number;
  test?: number;
  /** Skip unusable rows (and report them) instead of failing. */
  skipBad?: boolean;
  minDur?: number;
  maxDur?: number;
  /** Corpus layout (default 'auto': detected). */
  layout?: Layout | 'auto';
  /** Show a cli-progress bar on stderr. */
  progress?: boolean;
  /** Receives one-line warnings (resampled, downmixed, unknown characters, skipped rows). */
  warn?: (line: string) => void;
}

interface ManifestUtterance {
  id: string;
  text: string;
  /** Absent in caches made before speakers: null. */
  speaker?: string | null;
  frames: number;
  file: string;
  ids: number[];
  /** sha256 of (wav sha256 + "\n" + text): changes when either source changes. */
  sha256: string;
  wavSha256: string;
  melKey: string;
}

interface Manifest {
  format: 'difftts-features';
  version: 1;
  corpus: string;
  melConfig: MelConfig;
  textConfig: TextConfig;
  split: { seed: number; valid: number | null; test: number | null };
  splits: Splits;
  /** Absent in caches made before speakers: derived from the utterances. */
  speakers?: string[];
  utterances: ManifestUtterance[];
  skipped: { id?: string; row?: number; kind: string; message: string }[];
}

const MANIFEST = 'manifest.json';

function melKey(wavSha256: string, cfg: MelConfig): string {
  const c = cfg;
  return sha256Hex(`${wavSha256}\n${[c.sampleRate, c.nFft, c.hop, c.win, c.nMels, c.fMin, c.fMax, c.logFloor].join(',')}`).slice(0, 16);
}

const PREPARE_AGAIN = 'run difftts data prepare again';

function readF32(path: string, expected: number): Float32Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new UserError(`${path}: missing (manifest.json lists it; ${PREPARE_AGAIN})`);
    throw new UserError(`${path}: cannot read (${e.code ?? e.message.split('\n')[0]}; ${PREPARE_AGAIN})`);
  }
  if (buf.length !== expected * 4)
    throw new UserError(`${path}: ${buf.length} bytes (expected ${expected * 4} for the frames in manifest.json; ${PREPARE_AGAIN})`);
  // Copy into a fresh, aligned buffer (Buffers can share an unaligned pool).
  const out = new Float32Array(expected);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) throw new UserError(`${dir}: no ${MANIFEST} (expected a features directory made by difftts data prepare)`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (
    m?.format !== 'difftts-features' ||
    m.version !== 1 ||
    !Array.isArray(m.utterances) ||
    !isTextConfig(m.textConfig) ||
    !m.melConfig ||
    !m.splits
  ) {
    throw new UserError(`${path}: not a difftts features manifest (expected format 'difftts-features', version 1)`);
  }
  checkMelConfig(m.melConfig, `${path} melConfig`);
  return m;
}

/** Loads a features directory written by prepareFeatures. */
export function loadFeatures(featuresDir: string): FeatureSet {
  const m = readManifest(featuresDir);
  const utterances = new Map<string, Utterance>();
  for (const u of m.utterances) {
    const data = readF32(join(featuresDir, u.file), m.melConfig.nMels * u.frames);
    utterances.set(u.id, {
      id: u.id,
      text: u.text,
      speaker: u.speaker ?? null,
      ids: Int32Array.from(u.ids),
      mel: { data, nMels: m.melConfig.nMels, frames: u.frames },
    });
  }
  return {
    dir: featuresDir,
    melConfig: m.melConfig,
    textConfig: m.textConfig,
    utterances,
    splits: m.splits,
    speakers: m.speakers ?? speakerNames(utterances.values()),
  };
}

/** Sorted distinct speaker names. */
function speakerNames(us: Iterable<{ speaker?: string | null }>): string[] {
  return [...new Set([...us].map((u) => u.speaker).filter((s): s is string => typeof s === 'string'))].sort();
}

/** One line per kind: the first problem and how many more. */
function summarise(problems: Problem[]): string[] {
  const byKind = new Map<string, Problem[]>();
  for (const p of problems) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p]);
  return [...byKind.values()].map((ps) => `${ps[0]!.message}${ps.length > 1 ? ` (and ${ps.length - 1} more ${ps[0]!.kind})` : ''}`);
}

/** Rows (by metadata line) that have a fatal problem. */
function unusableRowCount(problems: Problem[]): number {
  return new Set(problems.filter((p) => p.fatal).map((p) => p.row ?? p.file)).size;
}

/**
 * Computes (or reuses) log-mels and token ids for every usable row of an LJSpeech corpus and
 * writes the cache to `outDir`. Audio at another rate is resampled to melConfig.sampleRate first.
 * Throws a UserError naming the first unusable row unless `skipBad`.
 */
export async function prepareFeatures(corpusDir: string, outDir: string, opts: PrepareOptions = {}): Promise<FeatureSet> {
  const melConfig = opts.melConfig ?? DEFAULT_MEL;
  const textConfig = opts.textConfig ?? DEFAULT_TEXT;
  checkMelConfig(melConfig);
  if (!isTextConfig(textConfig)) throw new UserError(`text config: expected { mode: 'phonemes'|'characters', addBlank: boolean }`);
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  checkOutput(outDir, 'dir');
  const lock = acquireDirLock(outDir, { name: 'prepare.lock', what: 'another data prepare', log: opts.warn });
  try {
    return await prepareLocked(corpusDir, outDir, { ...opts, melConfig, textConfig, seed });
  } finally {
    lock.release();
  }
}

async function prepareLocked(
  corpusDir: string,
  outDir: string,
  opts: PrepareOptions & { melConfig: MelConfig; textConfig: TextConfig; seed: number },
): Promise<FeatureSet> {
  const { melConfig, textConfig, seed } = opts;
  const corpus: CorpusReport = readCorpus(corpusDir, {
    minDur: opts.minDur,
    maxDur: opts.maxDur,
    sampleRate: melConfig.sampleRate,
    textConfig,
    layout: opts.layout,
  });
  const fatal = fatalProblems(corpus);
  if (fatal.length && !opts.skipBad) {
    throw new UserError(
      `${corpus.metadataPath}: ${unusableRowCount(fatal)} unusable rows; first: ${fatal[0]!.message} (run 'difftts data check' or pass --skip-bad)`,
    );
  }
  if (corpus.usable.length === 0)
    throw new UserError(`${corpus.metadataPath}: no usable utterances (run 'difftts data check ${corpusDir}')`);
  const warnings = corpus.problems.filter((p) => !p.fatal);
  for (const line of summarise(warnings)) opts.warn?.(`warning: ${line}`);
  if (fatal.length) opts.warn?.(`skipping ${unusableRowCount(fatal)} unusable rows: ${summarise(fatal).join('; ')}`);

  const splits = restrictSplit(
    computeSplit(
      corpus.entries.map((e) => e.id),
      { seed, valid: opts.valid, test: opts.test, speakers: speakersById(corpus.entries) },
    ),
    new Set(corpus.usable.map((e) => e.id)),
  );

  let old = new Map<string, ManifestUtterance>();
  if (existsSync(join(outDir, MANIFEST))) {
    try {
      old = new Map(readManifest(outDir).utterances.map((u) => [u.id, u]));
    } catch {
      old = new Map(); // an unreadable old cache is simply rebuilt
    }
  }

  ensureDir(join(outDir, 'mels'));
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'prepare [{bar}] {value}/{total} utterances | {eta_formatted} left', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(corpus.usable.length, 0);
  const utterances = new Map<string, Utterance>();
  const records: ManifestUtterance[] = [];
  const computed: string[] = [];
  const reused: string[] = [];
  const nMels = melConfig.nMels;
  try {
    for (const e of corpus.usable) {
      const key = melKey(e.wavSha256, melConfig);
      const file = `mels/${e.id}.${key}.f32`;
      const prev = old.get(e.id);
      let mel: Mel | null = null;
      if (
        prev &&
        prev.melKey === key &&
        prev.file === file &&
        existsSync(join(outDir, file)) &&
        statSync(join(outDir, file)).size === nMels * prev.frames * 4
      ) {
        mel = { data: readF32(join(outDir, file), nMels * prev.frames), nMels, frames: prev.frames };
        reused.push(e.id);
      } else {
        const audio = decodeWav(readFileSync(e.wav), e.wav);
        const x =
          audio.sampleRate === melConfig.sampleRate ? audio.samples : resample(audio.samples, audio.sampleRate, melConfig.sampleRate);
        mel = logMel(x, melConfig);
        writeFileAtomic(join(outDir, file), f32Bytes(mel.data));
        computed.push(e.id);
      }
      utterances.set(e.id, { id: e.id, text: e.text, speaker: e.speaker, ids: e.ids, mel });
      records.push({
        id: e.id,
        text: e.text,
        speaker: e.speaker,
        frames: mel.frames,
        file,
        ids: Array.from(e.ids),
        sha256: sha256Hex(`${e.wavSha256}\n${e.text}`),
        wavSha256: e.wavSha256,
        melKey: key,
      });
      bar?.increment();
      // Let the event loop breathe (progress redraws, signals) on long corpora.
      if (records.length % 64 === 0) await new Promise((r) => setImmediate(r));
    }
  } finally {
    bar?.stop();
  }

  const manifest: Manifest = {
    format: 'difftts-features',
    version: 1,
    corpus: resolve(corpusDir),
    melConfig,
    textConfig,
    split: { seed, valid: opts.valid ?? null, test: opts.test ?? null },
    splits,
    speakers: speakerNames(records),
    utterances: records,
    skipped: fatal.map((p) => ({ id: p.id, row: p.row, kind: p.kind, message: p.message })),
  };
  writeFileAtomic(join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  const live = new Set(records.map((r) => r.file.slice('mels/'.length)));
  for (const f of readdirSync(join(outDir, 'mels')))
    if (f.endsWith('.f32') && !live.has(f)) rmSync(join(outDir, 'mels', f), { force: true });

  return {
    dir: outDir,
    melConfig,
    textConfig,
    utterances,
    splits,
    speakers: speakerNames(records),
    report: { computed, reused, skipped: fatal, warnings },
  };
}

/**
 * A feature dir (has manifest.json) or a corpus dir (metadata.csv, VCTK or LibriTTS; prepared into cacheDir,
 * default `<corpus>/.difftts-features`, reusing every unchanged entry).
 */
export async function openDataset(path: string, opts: PrepareOptions & { cacheDir?: string } = {}): Promise<FeatureSet> {
  if (existsSync(join(path, MANIFEST))) return loadFeatures(path);
  if (corpusLayout(path)) return prepareFeatures(path, opts.cacheDir ?? join(path, '.difftts-features'), opts);
  throw new UserError(`${path}: neither a features directory (manifest.json) nor a corpus (metadata.csv, VCTK or LibriTTS layout)`);
}
