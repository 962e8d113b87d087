/**
 * Synthesis from a checkpoint: text → ids (the checkpoint's text config) → GradTTS reverse
 * diffusion → mel → Griffin-Lim → WAV. `synthesizeToFiles` is what `difftts synthesize`, the
 * quickstart and the evaluation code call.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { griffinLim } from '../audio/griffinlim.js';
import { DEFAULT_MEL, type Mel, type MelConfig } from '../audio/mel.js';
import { writeWav } from '../audio/wav.js';
import { UserError } from '../errors.js';
import { GradTTS, MODEL_CONFIGS, type ModelConfig } from '../model/index.js';
import { textToIds, type TextConfig } from '../text/index.js';
import { writeNpy } from '../util/npy.js';
import { writeSpectrogramPng } from '../util/spectrogram.js';
import { Rng } from '../util/rng.js';
import { assignWeights, openCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { parallelisesOps } from '../backend/index.js';
import { mapInWorkers } from '../parallel/map-pool.js';
import { resolveJobWorkers, type WorkersSetting } from '../parallel/workers.js';

export interface LoadedModel {
  model: GradTTS;
  textConfig: TextConfig;
  melConfig: MelConfig;
  /** The recipe's synth defaults (steps, temperature, lengthScale). */
  synth: { steps: number; temperature: number; lengthScale: number };
  checkpoint: LoadedCheckpoint;
}

/** A run directory (its newest loadable checkpoint) or a checkpoint directory → a ready model. */
export function loadModel(path: string): LoadedModel {
  const ckpt = openCheckpoint(path, (m) => process.stderr.write(`difftts: ${m}\n`));
  const where = join(ckpt.dir, 'state.json');
  const m = ckpt.meta;
  if (m.model?.kind !== 'gradtts' || typeof m.nSymbols !== 'number' || !m.textConfig) {
    throw new UserError(`${where}: not a GradTTS checkpoint (model kind '${m.model?.kind}')`);
  }
  const model = GradTTS.create(withDefaults(m.model.config as ModelConfig), m.nSymbols, 0);
  try {
    assignWeights(model.variables, ckpt, 'best');
  } catch (err) {
    model.dispose();
    throw err;
  }
  const recipeSynth = (m.recipe as { synth?: Partial<LoadedModel['synth']> } | null)?.synth ?? {};
  return {
    model,
    textConfig: m.textConfig as TextConfig,
    melConfig: (m.melConfig as MelConfig | null) ?? DEFAULT_MEL,
    synth: { steps: recipeSynth.steps ?? 10, temperature: recipeSynth.temperature ?? 1.5, lengthScale: recipeSynth.lengthScale ?? 1 },
    checkpoint: ckpt,
  };
}

/** A stored model config with fields added since it was written filled from today's named config. */
function withDefaults(stored: ModelConfig): ModelConfig {
  const base = (MODEL_CONFIGS as Record<string, ModelConfig>)[stored.name];
  if (!base) return stored;
  const merge = (d: any, v: any): any =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && d !== null && typeof d === 'object' && !Array.isArray(d)
      ? Object.fromEntries([...new Set([...Object.keys(d), ...Object.keys(v)])].map((k) => [k, k in v ? merge(d[k], v[k]) : d[k]]))
      : v;
  return merge(base, stored) as ModelConfig;
}

export interface SynthesisParams {
  steps: number;
  temperature: number;
  lengthScale: number;
  stochastic: boolean;
  seed: number;
}

function speakableIds(lm: LoadedModel, text: string): { ids: Int32Array; unknown: string[] } {
  const r = textToIds(text, lm.textConfig);
  if (r.ids.length === 0) throw new UserError(`text ${JSON.stringify(text.slice(0, 40))}: nothing to speak after cleaning`);
  return r;
}

/**
 * One sentence → mel [nMels, frames] (natural-log); unknown characters are reported, not fatal.
 * `steps` 0: the encoder's prior μ alone, no reverse diffusion (a small decoder can blur what the
 * encoder says; docs/quality/LEVERS.md measures when that wins).
 */
export async function synthesizeMel(lm: LoadedModel, text: string, p: SynthesisParams): Promise<{ mel: Mel; unknown: string[] }> {
  if (!(Number.isInteger(p.steps) && p.steps >= 0)) throw new UserError(`synthesize: steps ${p.steps} (expected an integer ≥ 0; 0 = the encoder's prior alone)`);
  const { ids, unknown } = speakableIds(lm, text);
  if (p.steps === 0) return { mel: await lm.model.prior(ids, p.lengthScale), unknown };
  const mel = await lm.model.synthesize(ids, { steps: p.steps, temperature: p.temperature, lengthScale: p.lengthScale, stochastic: p.stochastic, rng: new Rng(p.seed) });
  return { mel, unknown };
}

/** Mel → waveform in [-1, 1] (peak-limited to 0.95 if Griffin-Lim overshoots). */
export function vocode(mel: Mel, melConfig: MelConfig, iters: number, seed = 0): Float32Array {
  const wav = griffinLim(mel, { iters, cfg: melConfig, seed });
  let peak = 0;
  for (const v of wav) peak = Math.max(peak, Math.abs(v));
  if (peak > 0.95) for (let i = 0; i < wav.length; i++) wav[i] = (wav[i]! * 0.95) / peak;
  return wav;
}

export interface SynthesizeToFilesOptions {
  /** Run directory or checkpoint directory. */
  checkpoint: string;
  texts: string[];
  /** OUT.wav for one text; with `many`, OUT-001.wav … or files inside OUT when it is a directory. */
  out: string;
  many?: boolean;
  /** Defaults: the recipe's synth section. */
  steps?: number;
  temperature?: number;
  lengthScale?: number;
  stochastic?: boolean;
  seed?: number;
  /** Also write the mel as .npy / .png (numbered like the WAVs with `many`). */
  melOut?: string;
  png?: string;
  /** Griffin-Lim iterations (default 32). */
  iters?: number;
  /** Reuse an already loaded model (evaluation loops); the caller keeps ownership. */
  loaded?: LoadedModel;
  /** Called after each sentence (1-based count), e.g. for a progress bar. */
  onDone?: (done: number, total: number) => void;
  /**
   * Worker threads, each with its own copy of the model (src/parallel/map-pool.ts): "auto" = the
   * cores, at most one per sentence; default 1 (this thread). Outputs are the same either way.
   */
  workers?: WorkersSetting;
}

export interface SynthesizedFile {
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
  if (out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory())) return join(out, `${n}${ext}`);
  const e = extname(out);
  return join(dirname(out), `${basename(out, e)}-${n}${e || ext}`);
}

/** Synthesizes each text to a WAV (+ optional .npy / .png); returns what was written. */
export async function synthesizeToFiles(o: SynthesizeToFilesOptions): Promise<SynthesizedFile[]> {
  if (o.texts.length === 0) throw new UserError('synthesize: no text to speak');
  if (o.texts.length > 1 && !o.many) throw new UserError('synthesize: several texts need numbered outputs (many: true / --text-file)');
  const lm = o.loaded ?? loadModel(o.checkpoint);
  const p: SynthesisParams = {
    steps: o.steps ?? lm.synth.steps,
    temperature: o.temperature ?? lm.synth.temperature,
    lengthScale: o.lengthScale ?? lm.synth.lengthScale,
    stochastic: o.stochastic ?? false,
    seed: o.seed ?? 1,
  };
  const files: FileOptions = { out: o.out, many: o.many ?? false, melOut: o.melOut, png: o.png, iters: o.iters ?? 32 };
  const n = resolveJobWorkers(o.workers ?? 1, o.texts.length, parallelisesOps());
  const out: SynthesizedFile[] = [];
  try {
    if (n > 1) {
      const args: SynthJobArgs = { checkpoint: lm.checkpoint.dir, p, files, texts: o.texts };
      const here = (i: number) => synthesizeOne(lm, o.texts[i]!, i, p, files);
      return await mapInWorkers<number, SynthesizedFile>({ module: import.meta.url, args }, o.texts.map((_, i) => i), n, 'synthesis', (d) => o.onDone?.(d, o.texts.length), here);
    }
    for (const [i, text] of o.texts.entries()) {
      out.push(await synthesizeOne(lm, text, i, p, files));
      o.onDone?.(i + 1, o.texts.length);
    }
  } finally {
    if (!o.loaded) lm.model.dispose();
  }
  return out;
}

interface FileOptions {
  out: string;
  many: boolean;
  melOut: string | undefined;
  png: string | undefined;
  iters: number;
}

/** Sentence i of a file → its WAV (+ .npy / .png); its noise seeds are p.seed + i wherever it runs. */
async function synthesizeOne(lm: LoadedModel, text: string, i: number, p: SynthesisParams, f: FileOptions): Promise<SynthesizedFile> {
  const name = (path: string | undefined, ext: string) => (path === undefined ? null : f.many ? numberedPath(path, i, ext) : path);
  const { mel, unknown } = await synthesizeMel(lm, text, { ...p, seed: p.seed + i });
  const wavPath = name(f.out, '.wav')!;
  const samples = vocode(mel, lm.melConfig, f.iters, p.seed + i);
  writeWav(wavPath, samples, lm.melConfig.sampleRate, 'pcm16');
  const melPath = name(f.melOut, '.npy');
  if (melPath) writeNpy(melPath, mel.data, [mel.nMels, mel.frames]);
  const pngPath = name(f.png, '.png');
  if (pngPath) {
    writeSpectrogramPng(pngPath, {
      title: `Synthesized: "${text.slice(0, 200)}"`,
      panels: [{ mel, label: `model at step ${lm.checkpoint.meta.step}: ${p.steps === 0 ? 'encoder prior, no diffusion (steps 0)' : `${p.steps} ${p.stochastic ? 'SDE' : 'ODE'} steps, temperature ${p.temperature}, seed ${p.seed + i}`}` }],
      melConfig: lm.melConfig,
    });
  }
  return { text, wav: wavPath, mel: melPath, png: pngPath, seconds: samples.length / lm.melConfig.sampleRate, frames: mel.frames, unknown };
}

interface SynthJobArgs {
  /** The checkpoint directory the main thread loaded (not the run directory: a newer one may appear). */
  checkpoint: string;
  p: SynthesisParams;
  files: FileOptions;
  texts: string[];
}

/** A synthesis worker (src/parallel/map-pool.ts): loads the checkpoint once, then sentence i per item. */
export async function setup(args: unknown): Promise<(i: unknown) => Promise<SynthesizedFile>> {
  const a = args as SynthJobArgs;
  const lm = loadModel(a.checkpoint);
  return (i) => synthesizeOne(lm, a.texts[i as number]!, i as number, a.p, a.files);
}

/** Sentences of a text file, one per non-empty line. */
export function readTextFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: cannot read the text file (expected one sentence per line)`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) throw new UserError(`${path}: no sentences (expected one sentence per line)`);
  return lines;
}
