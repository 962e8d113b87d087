/**
 * Texts → WAV files (+ optional .npy / .png of the mel): what `difftts synthesize`, the quickstart
 * and the benchmarks call. Each text is tokenized here into pieces (long text in pieces, memory
 * bounded; src/synthesis/speak.ts) and spoken by src/synthesis/batch-job.ts, in this thread or a
 * helper's (src/parallel/map-pool.ts); a batch (`many`) writes OUT-001.wav … and a manifest of JSON
 * lines (index, line, text, file, seconds), and skips a line with nothing speakable with a `FILE:LINE:` notice — checked for every
 * line before the first is synthesized, so the notices come first and the rest is still spoken.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { UserError } from '../errors.js';
import { appendWhole, writeFileAtomic } from '../util/atomic.js';
import { capabilities } from '../backend/index.js';
import { mapInWorkers, startHelpers, type Helpers } from '../parallel/map-pool.js';
import { resolveJobWorkers, type WorkersSetting } from '../parallel/workers.js';
import { loadModel, modelFromCheckpoint, type LoadedModel } from './model.js';
import { openCheckpoint } from '../train/checkpoint.js';
import { concat, idPieces, quoteText, SENTENCE_PAUSE_SEC, type IdPiece, type SynthesisParams } from './speak.js';
import { renderText } from './render.js';
import {
  isDirectoryName,
  paramsFor,
  renderToFiles,
  type FileOptions,
  type SynthesizedFile,
  type SynthJobArgs,
  type SynthSettings,
  type TextItem,
} from './batch-job.js';

import { printable } from '../util/printable.js';
import { textToIds } from '../text/index.js';

export { isDirectoryName, numberedPath, writeMelFiles, type SynthesizedFile } from './batch-job.js';

/** The batch job's module: what the helpers import (no text front end). */
const JOB_MODULE = new URL('./batch-job.js', import.meta.url).href;

/** What to speak and where to write it; the synthesis settings (SynthSettings) default to the recipe's synth section. */
export interface SynthesizeToFilesOptions extends SynthSettings {
  /** Run directory or checkpoint directory. */
  checkpoint: string;
  texts: string[];
  /** Where the texts came from, for `FILE:LINE:` messages: the file's name and each text's line number. */
  source?: { name: string; lines: number[] };
  /** OUT.wav for one text; with `many`, OUT-001.wav … or files inside OUT when it is a directory. */
  out: string;
  many?: boolean;
  /** Also write the mel as .npy / .png (numbered like the WAVs with `many`). */
  melOut?: string;
  png?: string;
  /** Griffin-Lim iterations (default 32). */
  iters?: number;
  /** Reuse an already loaded model (evaluation loops); the caller keeps ownership. */
  loaded?: LoadedModel;
  /** Called after each sentence (1-based count), e.g. for a progress bar. */
  onDone?: (done: number, total: number) => void;
  /** Skipped lines and other notices (one line each, control characters escaped); default: none. */
  notice?: (msg: string) => void;
  /**
   * Worker threads, each with its own copy of the model (src/parallel/map-pool.ts): "auto" = the
   * cores, at most one per sentence; default 1 (this thread). Outputs are the same either way.
   */
  workers?: WorkersSetting;
}

/** The batch manifest beside numbered outputs: OUT/manifest.jsonl, or OUT.jsonl for OUT.wav. */
export function manifestPath(out: string): string {
  if (isDirectoryName(out)) return join(out, 'manifest.jsonl');
  return join(dirname(out), `${basename(out, extname(out))}.jsonl`);
}

/**
 * An output name's extension is the format it is written in, so a name that says otherwise is
 * refused (`--out x.mp3` would be WAV bytes under an MP3 name): `flag: expected a .wav name …`.
 * A name without extension is taken as is (with `many`, as the stem of numbered files).
 */
export function checkOutputName(path: string, ext: string, flag: string, many = false): void {
  if (many && isDirectoryName(path)) return;
  const e = extname(path);
  if (e && e.toLowerCase() !== ext) {
    throw new UserError(
      `${flag} ${path}: difftts writes ${ext} files here (expected a name ending in ${ext}${many ? ', or a directory' : ''}${flag === '--out' ? ', or - for stdout' : ''})`,
    );
  }
}

/** "FILE:LINE: " for text i of a source, "" without one. */
function at(o: Pick<SynthesizeToFilesOptions, 'source'>, i: number): string {
  return o.source ? `${o.source.name}:${o.source.lines[i] ?? i + 1}: ` : '';
}

/**
 * The texts with something to speak, by index, with their pieces as ids (tokenized once, here).
 * Single text: nothing speakable is a UserError. Batch: such a line is skipped with a notice; a
 * batch with no speakable line at all is a UserError.
 */
function speakableTexts(lm: LoadedModel, o: SynthesizeToFilesOptions): Map<number, IdPiece[]> {
  const keep = new Map<number, IdPiece[]>();
  const skipped: string[] = [];
  for (const [i, text] of o.texts.entries()) {
    try {
      keep.set(i, idPieces(lm, text));
    } catch (err) {
      if (!(err instanceof UserError) || !o.many) throw err instanceof UserError && o.source ? new UserError(at(o, i) + err.message) : err;
      skipped.push(`${at(o, i)}${err.message} — skipped`);
    }
  }
  for (const s of skipped) o.notice?.(s);
  if (keep.size === 0) throw new UserError(`${o.source?.name ?? 'synthesize'}: no line has anything to speak (${o.texts.length} skipped)`);
  return keep;
}

/** Synthesizes each text to a WAV (+ optional .npy / .png); returns what was written, in text order. */
export async function synthesizeToFiles(o: SynthesizeToFilesOptions): Promise<SynthesizedFile[]> {
  if (o.texts.length === 0) throw new UserError('synthesize: no text to speak');
  if (o.texts.length > 1 && !o.many) throw new UserError('synthesize: several texts need numbered outputs (many: true / --text-file)');
  const files: FileOptions = { out: o.out, many: o.many ?? false, melOut: o.melOut, png: o.png, iters: o.iters ?? 32 };
  const ckpt = o.loaded?.checkpoint ?? openCheckpoint(o.checkpoint, (m) => process.stderr.write(`difftts: ${m}\n`));
  // helpers start before this thread loads the model and checks the texts, so their start-up (~2 s:
  // imports, wasm, the checkpoint) overlaps that; each works out the settings from its own copy
  const most = files.many ? resolveJobWorkers(o.workers ?? 1, o.texts.length, capabilities().parallelisesOps) : 1;
  const args: SynthJobArgs = { checkpoint: ckpt.dir, options: settingsOf(o), files };
  let helpers: Helpers | null = most > 1 ? startHelpers({ module: JOB_MODULE, args }, most - 1, 'synthesis', most) : null;
  let lm: LoadedModel;
  let p: SynthesisParams;
  try {
    lm = o.loaded ?? modelFromCheckpoint(ckpt);
  } catch (err) {
    await helpers?.close();
    throw err;
  }
  try {
    p = paramsFor(lm, o);
  } catch (err) {
    if (!o.loaded) lm.model.dispose();
    await helpers?.close();
    throw err;
  }
  const manifest = files.many ? manifestPath(o.out) : null;
  const done: SynthesizedFile[] = [];
  let todo: number[] = [];
  try {
    const pieces = speakableTexts(lm, o);
    todo = [...pieces.keys()];
    const item = (i: number): TextItem => ({ i, text: o.texts[i]!, pieces: pieces.get(i)! });
    if (manifest) writeFileAtomic(manifest, ''); // a manifest left by an earlier batch must not describe this one
    const record = (f: SynthesizedFile) => {
      done.push(f);
      if (manifest) appendWhole(manifest, manifestLine(f, o));
      o.onDone?.(done.length, todo.length);
    };
    const n = resolveJobWorkers(o.workers ?? 1, todo.length, capabilities().parallelisesOps);
    if (n > 1) {
      const here = (it: TextItem) => renderToFiles(lm, it, p, files);
      const started = helpers;
      helpers = null; // mapInWorkers ends them
      await mapInWorkers<TextItem, SynthesizedFile>(
        { module: JOB_MODULE, args },
        longestFirst(lm, o.texts, todo).map(item),
        n,
        'synthesis',
        (_d, _k, f) => record(f),
        here,
        started ?? undefined,
      );
    } else {
      await helpers?.close(); // one speakable line: nothing to share
      helpers = null;
      for (const i of todo) record(await renderToFiles(lm, item(i), p, files));
    }
  } catch (err) {
    if (manifest && done.length > 0)
      o.notice?.(`batch stopped after ${done.length} of ${todo.length} sentences; ${manifest} lists the files written`);
    throw err;
  } finally {
    await helpers?.close();
    if (!o.loaded) lm.model.dispose();
  }
  done.sort((a, b) => a.index - b.index);
  // the manifest in text order (lines were appended as they finished)
  if (manifest) writeFileAtomic(manifest, done.map((f) => manifestLine(f, o)).join(''));
  return done;
}

/**
 * The indices by decreasing symbol count (ties in text order): synthesis time grows with the
 * frames, i.e. the symbols, so workers dealt the longest texts first finish together — the last
 * items dealt are short, and whichever worker ends early idles little.
 */
export function longestFirst(lm: Pick<LoadedModel, 'textConfig'>, texts: readonly string[], indices: readonly number[]): number[] {
  const size = new Map(indices.map((i) => [i, textToIds(texts[i]!, lm.textConfig).ids.length]));
  return [...indices].sort((a, b) => size.get(b)! - size.get(a)! || a - b);
}

/** The synthesis settings of the options (structured-cloneable, for the helpers' paramsFor). */
function settingsOf(o: SynthesizeToFilesOptions): SynthSettings {
  const { steps, temperature, lengthScale, startTime, stochastic, seed, speaker } = o;
  return { steps, temperature, lengthScale, startTime, stochastic, seed, speaker };
}

function manifestLine(f: SynthesizedFile, o: Pick<SynthesizeToFilesOptions, 'source'>): string {
  const line = o.source ? { line: o.source.lines[f.index - 1] } : {};
  return JSON.stringify({ index: f.index, ...line, text: f.text, file: f.wav, seconds: +f.seconds.toFixed(3) }) + '\n';
}

/** A text file's sentences: its non-empty lines, with their line numbers. */
export interface TextLines {
  /** The file's name for messages ("stdin" for -). */
  name: string;
  texts: string[];
  lines: number[];
}

/** Sentences of a text file (`-` = standard input), one per non-empty line. */
export function readTextFile(path: string): TextLines {
  const name = path === '-' ? 'stdin' : path;
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${name}: cannot read the text file${code ? ` (${code})` : ''} (expected one sentence per line)`);
  }
  const out: TextLines = { name, texts: [], lines: [] };
  text.split(/\r?\n/).forEach((l, k) => {
    const t = l.trim();
    if (t.length === 0) return;
    out.texts.push(t);
    out.lines.push(k + 1);
  });
  if (out.texts.length === 0) throw new UserError(`${name}: no sentences (expected one sentence per line)`);
  return out;
}

/** Unknown-character notices for written files: `WHERE: "TEXT": skipped characters …`, escaped. */
export function unknownNotices(written: readonly SynthesizedFile[], source?: SynthesizeToFilesOptions['source']): string[] {
  return written
    .filter((w) => w.unknown.length > 0)
    .map(
      (w) =>
        `${source ? `${source.name}:${source.lines[w.index - 1]}: ` : ''}${quoteText(w.text)}: skipped characters not in the symbol set: ${printable(w.unknown.join(' '))}`,
    );
}

/**
 * All texts spoken into one audio, a sentence pause between them (`--out -`: one WAV on a pipe);
 * lines with nothing to speak are skipped with a notice, as in a batch.
 */
export async function synthesizeJoined(
  o: Omit<SynthesizeToFilesOptions, 'out' | 'many' | 'melOut' | 'png' | 'workers'>,
): Promise<{ samples: Float32Array; sampleRate: number; spoken: SynthesizedFile[] }> {
  if (o.texts.length === 0) throw new UserError('synthesize: no text to speak');
  const lm = o.loaded ?? loadModel(o.checkpoint);
  try {
    const p = paramsFor(lm, o);
    const rate = lm.melConfig.sampleRate;
    const pieces = speakableTexts(lm, { ...o, out: '-', many: o.texts.length > 1 || o.source !== undefined });
    const todo = [...pieces.keys()];
    const parts: Float32Array[] = [];
    const spoken: SynthesizedFile[] = [];
    for (const [k, i] of todo.entries()) {
      const { samples, mel, unknown } = await renderText(lm, pieces.get(i)!, { ...p, seed: p.seed + i }, o.iters ?? 32);
      parts.push(samples);
      if (k < todo.length - 1) parts.push(new Float32Array(Math.round(SENTENCE_PAUSE_SEC * rate)));
      spoken.push({
        index: i + 1,
        text: o.texts[i]!,
        wav: '-',
        mel: null,
        png: null,
        seconds: samples.length / rate,
        frames: mel.frames,
        unknown,
      });
      o.onDone?.(k + 1, todo.length);
    }
    return { samples: concat(parts), sampleRate: rate, spoken };
  } finally {
    if (!o.loaded) lm.model.dispose();
  }
}
