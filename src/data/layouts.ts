/**
 * Corpus layouts: where the transcripts and the audio of each utterance live. Each lister turns a
 * corpus directory into rows (id, texts, speaker, audio path) plus row-level problems; readCorpus
 * then checks the audio the same way for every layout.
 *   ljspeech  metadata.csv (`id|text|normalized[|speaker]`) + wavs/<id>.wav
 *   vctk      wav48…/<speaker>/<id>[_micN].wav + txt/<speaker>/<id>.txt (mic1 preferred)
 *   libritts  <speaker>/<chapter>/<id>.wav + <id>.normalized.txt (+ <id>.original.txt)
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { parseMetadata, SAFE_ID, type MetadataRow } from './metadata.js';
import type { Problem } from './problems.js';

export const LAYOUTS = ['ljspeech', 'vctk', 'libritts'] as const;
export type Layout = (typeof LAYOUTS)[number];

export interface CorpusRow extends MetadataRow {
  /** The audio file the row names (it may be missing). */
  wav: string;
  /** Where the row's text comes from, as messages name it: "metadata.csv row 3" or a .txt path. */
  where: string;
  /** The file a text problem belongs to. */
  textFile: string;
  /** What a missing audio file should have been, for the message. */
  expectedWav: string;
}

export interface CorpusListing {
  layout: Layout;
  /** metadata.csv, or the folder that holds the transcripts (VCTK txt/, the LibriTTS root). */
  metadataPath: string;
  rows: CorpusRow[];
  problems: Problem[];
}

const dirs = (d: string) =>
  readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
const files = (d: string) =>
  readdirSync(d, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

/** The VCTK audio folder (wav48, wav48_silence_trimmed, …), or null. */
function vctkAudioDir(dir: string): string | null {
  const name = dirs(dir).find((d) => d.startsWith('wav48'));
  return name && existsSync(join(dir, 'txt')) ? join(dir, name) : null;
}

/** True when some <speaker>/<chapter>/ folder holds *.normalized.txt. */
function looksLibriTTS(dir: string): boolean {
  for (const s of dirs(dir))
    for (const c of dirs(join(dir, s))) if (files(join(dir, s, c)).some((f) => f.endsWith('.normalized.txt'))) return true;
  return false;
}

/** The layout of `dir`; throws one line when it is none of them. */
export function detectLayout(dir: string): Layout {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(`${dir}: not a directory (expected a corpus with metadata.csv and wavs/)`);
  if (existsSync(join(dir, 'metadata.csv'))) return 'ljspeech';
  if (vctkAudioDir(dir)) return 'vctk';
  if (looksLibriTTS(dir)) return 'libritts';
  throw new UserError(
    `${dir}: no metadata.csv (expected LJSpeech layout: metadata.csv with id|text|normalized rows and wavs/<id>.wav; ` +
      'or VCTK: wav48…/pNNN/*.wav + txt/pNNN/*.txt; or LibriTTS: speaker/chapter/*.wav + *.normalized.txt, one subset folder such as train-clean-100)',
  );
}

/** `dir`'s layout, or null when it is not a corpus (for callers that try something else). */
export function corpusLayout(dir: string): Layout | null {
  try {
    return detectLayout(dir);
  } catch (err) {
    if (err instanceof UserError) return null;
    throw err;
  }
}

/** Lists the rows of a corpus in `layout` ('auto' detects it). */
export function listCorpus(dir: string, layout: Layout | 'auto' = 'auto'): CorpusListing {
  const l = layout === 'auto' ? detectLayout(dir) : layout;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: not a directory (expected a ${l} corpus)`);
  if (l === 'ljspeech') return listLJSpeech(dir);
  if (l === 'vctk') return listVctk(dir);
  return listLibriTTS(dir);
}

function listLJSpeech(dir: string): CorpusListing {
  const metadataPath = join(dir, 'metadata.csv');
  if (!existsSync(metadataPath))
    throw new UserError(`${dir}: no metadata.csv (expected LJSpeech layout: metadata.csv with id|text|normalized rows and wavs/<id>.wav)`);
  const { rows, problems, mentioned } = parseMetadata(readFileSync(metadataPath, 'utf8'), metadataPath);
  const out = rows.map((r) => ({
    ...r,
    wav: join(dir, 'wavs', `${r.id}.wav`),
    where: `${metadataPath} row ${r.row}`,
    textFile: metadataPath,
    expectedWav: `wavs/${r.id}.wav`,
  }));
  // Wavs that no row names: usually a deleted row or a misspelt id.
  const wavDir = join(dir, 'wavs');
  if (existsSync(wavDir)) {
    for (const f of readdirSync(wavDir).sort()) {
      if (f.toLowerCase().endsWith('.wav') && !mentioned.has(f.slice(0, -4))) {
        const file = join(wavDir, f);
        problems.push({
          kind: 'extra-wav',
          file,
          message: `${file}: no row in ${metadataPath} (expected a row '${f.slice(0, -4)}|text')`,
          fatal: false,
        });
      }
    }
  }
  return { layout: 'ljspeech', metadataPath, rows: out, problems };
}

/** Collects rows from (speaker, transcript file) pairs, checking ids and texts like metadata.csv rows. */
class RowBuilder {
  rows: CorpusRow[] = [];
  problems: Problem[] = [];
  private seen = new Map<string, string>();

  add(id: string, speaker: string, textFile: string, rawText: string, text: string, wav: string, expectedWav: string): void {
    const row = this.rows.length + this.problems.filter((p) => p.fatal).length + 1;
    const bad = (kind: Problem['kind'], what: string): void =>
      void this.problems.push({ kind, file: textFile, row, id, message: `${textFile}: ${what}`, fatal: true });
    if (!SAFE_ID.test(id)) {
      bad('bad-id', `id '${id}' is not a safe file name (expected letters, digits, _ . -)`);
      return;
    }
    const first = this.seen.get(id);
    if (first !== undefined) {
      bad('duplicate-id', `duplicate id '${id}' (first in ${first})`);
      return;
    }
    this.seen.set(id, textFile);
    if (!text) {
      bad('empty-text', `empty text for '${id}'`);
      return;
    }
    this.rows.push({ row, id, rawText, text, speaker, wav, where: textFile, textFile, expectedWav });
  }

  extra(file: string, expected: string): void {
    this.problems.push({ kind: 'extra-wav', file, message: `${file}: no transcript (expected ${expected})`, fatal: false });
  }
}

const readText = (f: string) =>
  readFileSync(f, 'utf8')
    .replace(/^\uFEFF/, '')
    .replace(/\s+/g, ' ')
    .trim();

/** One line for audio difftts cannot decode yet, naming the fix. */
function flacError(dir: string, flac: string[]): UserError {
  return new UserError(
    `${dir}: ${flac.length} utterances have only FLAC audio (first: ${flac[0]}); difftts reads WAV: convert them beside the originals, ` +
      `e.g. find ${dir} -name '*.flac' -exec sh -c 'ffmpeg -nostdin -loglevel error -i "$1" "\${1%.flac}.wav"' _ {} \\; (or sox in.flac out.wav)`,
  );
}

function listVctk(dir: string): CorpusListing {
  const audioDir = vctkAudioDir(dir);
  if (!audioDir) throw new UserError(`${dir}: not a VCTK corpus (expected wav48…/pNNN/*.wav and txt/pNNN/*.txt)`);
  const b = new RowBuilder();
  const flac: string[] = [];
  const used = new Set<string>();
  const txtDir = join(dir, 'txt');
  for (const spk of dirs(txtDir)) {
    const audio = existsSync(join(audioDir, spk)) ? new Set(files(join(audioDir, spk))) : new Set<string>();
    for (const f of files(join(txtDir, spk)).filter((x) => x.endsWith('.txt'))) {
      const id = f.slice(0, -4);
      // VCTK 0.92 has two microphones per utterance (_mic1, _mic2): the first one found is used.
      const name = ['', '_mic1', '_mic2'].map((m) => `${id}${m}.wav`).find((n) => audio.has(n));
      const flacName = ['', '_mic1', '_mic2'].map((m) => `${id}${m}.flac`).find((n) => audio.has(n));
      if (!name && flacName) flac.push(join(audioDir, spk, flacName));
      const text = readText(join(txtDir, spk, f));
      b.add(
        id,
        spk,
        join(txtDir, spk, f),
        text,
        text,
        join(audioDir, spk, name ?? `${id}.wav`),
        `${audioDir}/${spk}/${id}.wav or ${id}_mic1.wav`,
      );
      used.add(`${spk}/${id}`);
    }
  }
  if (flac.length) throw flacError(dir, flac);
  for (const spk of dirs(audioDir)) {
    for (const f of files(join(audioDir, spk)).filter((x) => /\.(wav|flac)$/i.test(x))) {
      const id = f.replace(/(_mic\d)?\.(wav|flac)$/i, '');
      if (!used.has(`${spk}/${id}`)) b.extra(join(audioDir, spk, f), `txt/${spk}/${id}.txt`);
    }
  }
  return { layout: 'vctk', metadataPath: txtDir, rows: b.rows, problems: b.problems };
}

function listLibriTTS(dir: string): CorpusListing {
  const b = new RowBuilder();
  const flac: string[] = [];
  for (const spk of dirs(dir)) {
    for (const ch of dirs(join(dir, spk))) {
      const at = join(dir, spk, ch);
      const names = files(at);
      const have = new Set(names);
      for (const f of names.filter((x) => x.endsWith('.normalized.txt'))) {
        const id = f.slice(0, -'.normalized.txt'.length);
        if (!have.has(`${id}.wav`) && have.has(`${id}.flac`)) flac.push(join(at, `${id}.flac`));
        const text = readText(join(at, f));
        const original = have.has(`${id}.original.txt`) ? readText(join(at, `${id}.original.txt`)) : text;
        b.add(id, spk, join(at, f), original, text, join(at, `${id}.wav`), `${spk}/${ch}/${id}.wav`);
      }
      for (const f of names.filter((x) => /\.(wav|flac)$/i.test(x))) {
        const id = f.replace(/\.(wav|flac)$/i, '');
        if (!have.has(`${id}.normalized.txt`)) b.extra(join(at, f), `${spk}/${ch}/${id}.normalized.txt`);
      }
    }
  }
  if (flac.length) throw flacError(dir, flac);
  return { layout: 'libritts', metadataPath: dir, rows: b.rows, problems: b.problems };
}
