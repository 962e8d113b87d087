/**
 * Reading and validating an LJSpeech-layout corpus: `metadata.csv` + `wavs/<id>.wav`.
 * Every row is checked (fields, id, text, audio, duration, rate, channels) and every problem is
 * collected with its file and row, so `difftts data check` can list them all at once.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { decodeWav } from '../audio/wav.js';
import { DEFAULT_TEXT, textToIds, type TextConfig } from '../text/index.js';
import { parseMetadata, type MetadataRow } from './metadata.js';
import type { Problem } from './problems.js';

export interface ReadCorpusOptions {
  /** Shortest usable utterance in seconds (default 0.5). */
  minDur?: number;
  /** Longest usable utterance in seconds (default 15). */
  maxDur?: number;
  /** Rate the features are computed at; other rates are reported (and resampled by prepare). Default 22050. */
  sampleRate?: number;
  /** Text front end used to check that every text has known symbols. Default DEFAULT_TEXT. */
  textConfig?: TextConfig;
}

export const DEFAULT_MIN_DUR = 0.5;
export const DEFAULT_MAX_DUR = 15;

export interface CorpusEntry extends MetadataRow {
  /** Path of wavs/<id>.wav. */
  wav: string;
  /** NaN when the audio is missing or unreadable. */
  durationSec: number;
  sampleRate: number;
  channels: number;
  /** sha256 (hex) of the wav file's bytes; '' when missing. */
  wavSha256: string;
  /** Token ids of `text` under the corpus's text config. */
  ids: Int32Array;
  unknown: string[];
  usable: boolean;
}

export interface CorpusReport {
  dir: string;
  metadataPath: string;
  /** Every row that parsed (id and text present, id unique), usable or not, in file order. */
  entries: CorpusEntry[];
  /** The usable subset of `entries`. */
  usable: CorpusEntry[];
  problems: Problem[];
  /** Sample rate → number of readable files. */
  sampleRates: Map<number, number>;
  /** Total duration of usable utterances, seconds. */
  usableSec: number;
}

/** sha256 of bytes, hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Throws a UserError unless `dir` looks like an LJSpeech corpus. Returns metadata.csv's path. */
export function corpusMetadataPath(dir: string): string {
  const meta = join(dir, 'metadata.csv');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: not a directory (expected a corpus with metadata.csv and wavs/)`);
  if (!existsSync(meta)) throw new UserError(`${dir}: no metadata.csv (expected LJSpeech layout: metadata.csv with id|text|normalized rows and wavs/<id>.wav)`);
  return meta;
}

/** Reads and validates a corpus. Only a missing directory or metadata.csv throws; all else is a Problem. */
/** A recording whose peak stays below −80 dBFS holds no speech: its log-mel is the floor everywhere. */
export const SILENCE_PEAK = 1e-4;

export function readCorpus(dir: string, opts: ReadCorpusOptions = {}): CorpusReport {
  const minDur = opts.minDur ?? DEFAULT_MIN_DUR;
  const maxDur = opts.maxDur ?? DEFAULT_MAX_DUR;
  const rate = opts.sampleRate ?? 22050;
  const textConfig = opts.textConfig ?? DEFAULT_TEXT;
  if (!(minDur >= 0 && maxDur > minDur)) throw new UserError(`duration bounds: expected 0 ≤ min < max, got min ${minDur} s, max ${maxDur} s`);
  const metadataPath = corpusMetadataPath(dir);
  const { rows, problems, mentioned } = parseMetadata(readFileSync(metadataPath, 'utf8'), metadataPath);
  const entries: CorpusEntry[] = [];
  const sampleRates = new Map<number, number>();

  for (const r of rows) {
    const wav = join(dir, 'wavs', `${r.id}.wav`);
    const e: CorpusEntry = { ...r, wav, durationSec: NaN, sampleRate: 0, channels: 0, wavSha256: '', ids: new Int32Array(0), unknown: [], usable: true };
    entries.push(e);
    const at = `${metadataPath} row ${r.row}`;
    const report = (kind: Problem['kind'], file: string, message: string, fatal: boolean) => {
      problems.push({ kind, file, row: r.row, id: r.id, message, fatal });
      if (fatal) e.usable = false;
    };

    const { ids, unknown } = textToIds(r.text, textConfig);
    e.ids = ids;
    e.unknown = unknown;
    if (ids.length === 0) report('unknown-only', metadataPath, `${at}: text of '${r.id}' has no known symbol (unknown: ${unknown.map((c) => JSON.stringify(c)).join(' ')})`, true);
    else if (unknown.length) report('unknown-symbols', metadataPath, `${at}: skipping unknown characters ${unknown.map((c) => JSON.stringify(c)).join(' ')} in '${r.id}'`, false);

    if (!existsSync(wav)) {
      report('missing-wav', wav, `${at}: missing audio ${wav} (expected wavs/${r.id}.wav)`, true);
      continue;
    }
    let bytes: Buffer;
    let peak = 0;
    try {
      bytes = readFileSync(wav);
      const audio = decodeWav(bytes, wav);
      for (const v of audio.samples) peak = Math.max(peak, Math.abs(v));
      e.wavSha256 = sha256Hex(bytes);
      e.durationSec = audio.durationSec;
      e.sampleRate = audio.sampleRate;
      e.channels = audio.channels;
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      report('unreadable-audio', wav, err.message, true);
      continue;
    }
    sampleRates.set(e.sampleRate, (sampleRates.get(e.sampleRate) ?? 0) + 1);
    if (e.channels > 1) report('multichannel', wav, `${wav}: ${e.channels} channels, downmixed to mono (expected mono)`, false);
    if (e.sampleRate !== rate) report('sample-rate', wav, `${wav}: ${e.sampleRate} Hz, resampled to ${rate} Hz on prepare (expected ${rate} Hz)`, false);
    if (e.durationSec < minDur || e.durationSec > maxDur) {
      report('duration', wav, `${wav}: ${e.durationSec.toFixed(2)} s long (expected ${minDur}–${maxDur} s)`, true);
    }
    if (peak < SILENCE_PEAK) {
      report('silent', wav, `${wav}: silent (peak ${peak === 0 ? '0' : (20 * Math.log10(peak)).toFixed(0) + ' dBFS'}; expected speech above ${20 * Math.log10(SILENCE_PEAK)} dBFS)`, true);
    }
  }

  // Wavs that no row names: usually a deleted row or a misspelt id.
  const named = new Set([...mentioned].map((id) => `${id}.wav`));
  const wavDir = join(dir, 'wavs');
  if (existsSync(wavDir)) {
    for (const f of readdirSync(wavDir).sort()) {
      if (f.toLowerCase().endsWith('.wav') && !named.has(f)) {
        const file = join(wavDir, f);
        problems.push({ kind: 'extra-wav', file, message: `${file}: no row in ${metadataPath} (expected a row '${f.slice(0, -4)}|text')`, fatal: false });
      }
    }
  }

  const usable = entries.filter((e) => e.usable);
  return { dir, metadataPath, entries, usable, problems, sampleRates, usableSec: usable.reduce((s, e) => s + e.durationSec, 0) };
}

/** Unusable rows' problems (what --skip-bad would skip), in metadata row order. */
export function fatalProblems(report: CorpusReport): Problem[] {
  return report.problems.filter((p) => p.fatal).sort((a, b) => (a.row ?? Infinity) - (b.row ?? Infinity));
}
