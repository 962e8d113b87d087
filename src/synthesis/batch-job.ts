/**
 * One synthesis job item → its files: a text's tokenized pieces (src/synthesis/render.ts) → WAV
 * (+ .npy / .png of the mel). What this thread and the helpers of a batch (src/synthesis/batch.ts,
 * src/parallel/map-pool.ts) run per text. Helpers import only this module's graph, which has no
 * text front end: the batch's thread tokenizes every text once and sends the ids, so a helper's
 * start-up skips CMUdict (issue #24: the helper's start-up is on the file's critical path).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Mel } from '../audio/mel.js';
import { writeWav } from '../audio/wav.js';
import { writeSpectrogramPng } from '../plot/spectrogram.js';
import { writeNpy } from '../util/npy.js';
import { printable } from '../util/printable.js';
import { loadModel, type LoadedModel } from './model.js';
import { renderText, speakerRow, type IdPiece, type SynthesisParams } from './render.js';

export interface SynthesizedFile {
  /** 1-based position of the text (its WAV's number with `many`). */
  index: number;
  text: string;
  wav: string;
  mel: string | null;
  png: string | null;
  /** Audio seconds. */
  seconds: number;
  frames: number;
  unknown: string[];
}

/** OUT.wav → OUT-001.wav (or OUT/001.wav when OUT is a directory). */
export function numberedPath(out: string, i: number, ext: string): string {
  const n = String(i + 1).padStart(3, '0');
  if (isDirectoryName(out)) return join(out, `${n}${ext}`);
  const e = extname(out);
  return join(dirname(out), `${basename(out, e)}-${n}${e || ext}`);
}

/** OUT names a directory for numbered outputs: it ends in / or is one. */
export function isDirectoryName(out: string): boolean {
  return out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory());
}

/** The caller's synthesis settings (structured-cloneable); unset ones default to the voice's recipe. */
export interface SynthSettings {
  steps?: number;
  temperature?: number;
  lengthScale?: number;
  /** Shallow diffusion start time in (0, 1] (default: the voice's synth.startTime). */
  startTime?: number;
  stochastic?: boolean;
  seed?: number;
  /** The speaker's name (required by a multi-speaker voice; see speakerRow). */
  speaker?: string;
}

/** The options' settings, each defaulting to the model's recipe (seed 1); the speaker checked before any text is spoken. */
export function paramsFor(lm: LoadedModel, o: SynthSettings): SynthesisParams {
  speakerRow(lm, o.speaker);
  return {
    steps: o.steps ?? lm.synth.steps,
    temperature: o.temperature ?? lm.synth.temperature,
    lengthScale: o.lengthScale ?? lm.synth.lengthScale,
    startTime: o.startTime ?? lm.synth.startTime,
    stochastic: o.stochastic ?? false,
    seed: o.seed ?? 1,
    ...(o.speaker !== undefined ? { speaker: o.speaker } : {}),
  };
}

/** Where and how a batch writes its files. */
export interface FileOptions {
  out: string;
  many: boolean;
  melOut: string | undefined;
  png: string | undefined;
  iters: number;
}

/** One text to speak: its 0-based index in the batch, the text, and its pieces as ids. */
export interface TextItem {
  i: number;
  text: string;
  pieces: IdPiece[];
}

/** Text i → its WAV (+ .npy / .png); its noise seeds are p.seed + i wherever it runs. */
export async function renderToFiles(lm: LoadedModel, item: TextItem, p: SynthesisParams, f: FileOptions): Promise<SynthesizedFile> {
  const { i, text } = item;
  const name = (path: string | undefined, ext: string) => (path === undefined ? null : f.many ? numberedPath(path, i, ext) : path);
  const { samples, mel, unknown } = await renderText(lm, item.pieces, { ...p, seed: p.seed + i }, f.iters);
  const wavPath = name(f.out, '.wav')!;
  writeWav(wavPath, samples, lm.melConfig.sampleRate, 'pcm16');
  const { mel: melPath, png: pngPath } = writeMelFiles(
    lm,
    mel,
    text,
    { ...p, seed: p.seed + i },
    name(f.melOut, '.npy'),
    name(f.png, '.png'),
  );
  return {
    index: i + 1,
    text,
    wav: wavPath,
    mel: melPath,
    png: pngPath,
    seconds: samples.length / lm.melConfig.sampleRate,
    frames: mel.frames,
    unknown,
  };
}

/** The mel as .npy and/or a titled spectrogram PNG (either path may be null). */
export function writeMelFiles(
  lm: LoadedModel,
  mel: Mel,
  text: string,
  p: SynthesisParams,
  melPath: string | null,
  pngPath: string | null,
): { mel: string | null; png: string | null } {
  if (melPath) writeNpy(melPath, mel.data, [mel.nMels, mel.frames]);
  if (pngPath) {
    writeSpectrogramPng(pngPath, {
      title: `Synthesized: "${printable(text.slice(0, 200))}"`,
      panels: [
        {
          mel,
          label: `model at step ${lm.checkpoint.meta.step}${p.speaker !== undefined ? `, speaker ${printable(p.speaker)}` : ''}: ${p.steps === 0 ? 'encoder prior, no diffusion (steps 0)' : `${p.steps} ${p.stochastic ? 'SDE' : 'ODE'} steps${p.startTime !== undefined && p.startTime < 1 ? ` from t₀ ${p.startTime}` : ''}, temperature ${p.temperature}, seed ${p.seed}`}`,
        },
      ],
      melConfig: lm.melConfig,
    });
  }
  return { mel: melPath, png: pngPath };
}

export interface SynthJobArgs {
  /** The checkpoint directory the main thread loaded (not the run directory: a newer one may appear). */
  checkpoint: string;
  /** The caller's settings: each worker resolves them against its model's recipe as this thread does. */
  options: SynthSettings;
  files: FileOptions;
}

/** A synthesis helper (src/parallel/map-pool.ts): loads the checkpoint once, then one TextItem per item. */
export async function setup(args: unknown): Promise<(item: unknown) => Promise<SynthesizedFile>> {
  const a = args as SynthJobArgs;
  const lm = loadModel(a.checkpoint);
  const p = paramsFor(lm, a.options);
  return (item) => renderToFiles(lm, item as TextItem, p, a.files);
}
