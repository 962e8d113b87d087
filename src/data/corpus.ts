/**
 * Reading and validating a corpus — LJSpeech (`metadata.csv` + `wavs/<id>.wav`), VCTK or LibriTTS
 * (layouts.ts lists the rows). Every row is checked (fields, id, text, audio, duration, rate,
 * channels, speaker) and every problem is collected with its file and row, so `difftts data check`
 * can list them all at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { decodeWav } from '../audio/wav.js';
import { DEFAULT_TEXT, textToIds, type TextConfig } from '../text/index.js';
import type { MetadataRow } from './metadata.js';
import { listCorpus, type Layout } from './layouts.js';
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
  /** Corpus layout; default 'auto' (detected, see layouts.ts). */
  layout?: Layout | 'auto';
}

export const DEFAULT_MIN_DUR = 0.5;
export const DEFAULT_MAX_DUR = 15;

export interface CorpusEntry extends MetadataRow {
  /** Path of the audio (wavs/<id>.wav in the LJSpeech layout). */
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
  layout: Layout;
  /** metadata.csv, or the folder of the transcripts (layouts.ts). */
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

/** A recording whose peak stays below −80 dBFS holds no speech: its log-mel is the floor everywhere. */
export const SILENCE_PEAK = 1e-4;

/** Reads and validates a corpus. Only a missing directory or transcript source throws; all else is a Problem. */
export function readCorpus(dir: string, opts: ReadCorpusOptions = {}): CorpusReport {
  const minDur = opts.minDur ?? DEFAULT_MIN_DUR;
  const maxDur = opts.maxDur ?? DEFAULT_MAX_DUR;
  const rate = opts.sampleRate ?? 22050;
  const textConfig = opts.textConfig ?? DEFAULT_TEXT;
  if (!(minDur >= 0 && maxDur > minDur))
    throw new UserError(`duration bounds: expected 0 ≤ min < max, got min ${minDur} s, max ${maxDur} s`);
  const { layout, metadataPath, rows, problems } = listCorpus(dir, opts.layout);
  const entries: CorpusEntry[] = [];
  const sampleRates = new Map<number, number>();
  // A model gives each named speaker an embedding: a row without one among named rows has none.
  const named = rows.find((r) => r.speaker !== null);

  for (const { where: at, textFile, expectedWav, ...r } of rows) {
    const { wav } = r;
    const e: CorpusEntry = {
      ...r,
      durationSec: NaN,
      sampleRate: 0,
      channels: 0,
      wavSha256: '',
      ids: new Int32Array(0),
      unknown: [],
      usable: true,
    };
    entries.push(e);
    const report = (kind: Problem['kind'], file: string, message: string, fatal: boolean) => {
      problems.push({ kind, file, row: r.row, id: r.id, message, fatal });
      if (fatal) e.usable = false;
    };

    const { ids, unknown } = textToIds(r.text, textConfig);
    e.ids = ids;
    e.unknown = unknown;
    if (named && r.speaker === null)
      report(
        'missing-speaker',
        textFile,
        `${at}: no speaker for '${r.id}' while other rows name one (row ${named.row}: '${named.speaker}'; expected id|text|normalized text|speaker)`,
        true,
      );
    if (ids.length === 0)
      report(
        'unknown-only',
        textFile,
        `${at}: text of '${r.id}' has no known symbol (unknown: ${unknown.map((c) => JSON.stringify(c)).join(' ')})`,
        true,
      );
    else if (unknown.length)
      report(
        'unknown-symbols',
        textFile,
        `${at}: skipping unknown characters ${unknown.map((c) => JSON.stringify(c)).join(' ')} in '${r.id}'`,
        false,
      );

    if (!existsSync(wav)) {
      report('missing-wav', wav, `${at}: missing audio ${wav} (expected ${expectedWav})`, true);
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
    if (e.sampleRate !== rate)
      report('sample-rate', wav, `${wav}: ${e.sampleRate} Hz, resampled to ${rate} Hz on prepare (expected ${rate} Hz)`, false);
    if (e.durationSec < minDur || e.durationSec > maxDur) {
      report('duration', wav, `${wav}: ${e.durationSec.toFixed(2)} s long (expected ${minDur}–${maxDur} s)`, true);
    }
    if (peak < SILENCE_PEAK) {
      report(
        'silent',
        wav,
        `${wav}: silent (peak ${peak === 0 ? '0' : (20 * Math.log10(peak)).toFixed(0) + ' dBFS'}; expected speech above ${20 * Math.log10(SILENCE_PEAK)} dBFS)`,
        true,
      );
    }
  }

  const usable = entries.filter((e) => e.usable);
  return { dir, layout, metadataPath, entries, usable, problems, sampleRates, usableSec: usable.reduce((s, e) => s + e.durationSec, 0) };
}

/** Unusable rows' problems (what --skip-bad would skip), in metadata row order. */
export function fatalProblems(report: CorpusReport): Problem[] {
  return report.problems.filter((p) => p.fatal).sort((a, b) => (a.row ?? Infinity) - (b.row ?? Infinity));
}

export interface SpeakerSummary {
  /** null: the rows name no speaker. */
  speaker: string | null;
  utterances: number;
  seconds: number;
}

/** Usable utterances and seconds per speaker, speakers sorted by name (an unnamed speaker first). */
export function speakerSummary(entries: readonly CorpusEntry[]): SpeakerSummary[] {
  const by = new Map<string | null, SpeakerSummary>();
  for (const e of entries) {
    const s = by.get(e.speaker) ?? { speaker: e.speaker, utterances: 0, seconds: 0 };
    s.utterances++;
    s.seconds += e.durationSec;
    by.set(e.speaker, s);
  }
  return [...by.values()].sort((a, b) =>
    a.speaker === b.speaker ? 0 : a.speaker === null ? -1 : b.speaker === null ? 1 : a.speaker < b.speaker ? -1 : 1,
  );
}

/** id → speaker of every row, for the speaker-stratified split. */
export function speakersById(entries: readonly CorpusEntry[]): Map<string, string | null> {
  return new Map(entries.map((e) => [e.id, e.speaker]));
}
