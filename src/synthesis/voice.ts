/**
 * The library's voice: `loadVoice(name or directory)` loads a checkpoint once (the same object for
 * the same directory until disposed); `voice.synthesize(text)` speaks any length of text, and
 * `voice.stream(text)` yields it a piece (sentence) at a time as it is synthesized.
 */
import { realpathSync } from 'node:fs';
import { initBackend } from '../backend/index.js';
import { UserError } from '../errors.js';
import { loadModel, type LoadedModel } from './model.js';
import { concat, speakerRow, speakPieces, type SynthesisParams } from './speak.js';
import type { SynthDefaults } from '../train/checkpoint-format.js';
import { resolveVoice } from './voices.js';

/** Mono audio: samples in [-1, 1] at `sampleRate` Hz. */
export interface Audio {
  sampleRate: number;
  samples: Float32Array;
}

/** Synthesis settings; each defaults to the voice's own (`voice.defaults`), seed to 1. */
export interface SynthesizeOptions {
  /** Reverse-diffusion steps; 0 = the encoder's prior alone. */
  steps?: number;
  /** Prior temperature (> 0). */
  temperature?: number;
  /** Duration multiplier (> 1 slower). */
  lengthScale?: number;
  /** Noise seed: the same text, settings and seed give the same samples. */
  seed?: number;
  /** Stochastic (SDE) sampler instead of the probability-flow ODE. */
  stochastic?: boolean;
  /** Shallow diffusion: the diffusion time the score sampler starts from, in (0, 1]. */
  startTime?: number;
  /** Griffin-Lim iterations (default 32). */
  iters?: number;
  /** The speaker, one of `voice.speakers`: required by a multi-speaker voice, none (or its own name) for a single-speaker one. */
  speaker?: string;
}

/** One piece of a streamed text: its audio (with the pause after it) and which piece it is. */
export interface AudioPiece extends Audio {
  text: string;
  index: number;
  count: number;
}

export interface LoadVoiceOptions {
  /** tfjs backend (wasm, cpu, tfjs-node, …) when none is initialised yet; default: the first available. */
  backend?: string;
  /** Receives notices while loading (a checkpoint skipped); default: none. */
  notice?: (message: string) => void;
}

export class Voice {
  /** The voice's checkpoint directory. */
  readonly dir: string;
  readonly sampleRate: number;
  /** The voice's own synthesis settings (its recipe's synth section). */
  readonly defaults: Readonly<SynthDefaults>;
  /**
   * The speakers it speaks as: several names for a multi-speaker voice (pass one as `speaker`), its one
   * speaker's name, or [] (one unnamed speaker).
   */
  readonly speakers: readonly string[];
  private lm: LoadedModel | null;
  /** Calls run one after another: the model's tensors are shared. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    lm: LoadedModel,
    private readonly key: string,
  ) {
    this.lm = lm;
    this.dir = lm.checkpoint.dir;
    this.sampleRate = lm.melConfig.sampleRate;
    this.defaults = { ...lm.synth };
    this.speakers = [...lm.speakers];
  }

  /** Speaks `text` (any length: long text is spoken a sentence at a time, with pauses). */
  async synthesize(text: string, opts: SynthesizeOptions = {}): Promise<Audio & { unknown: string[] }> {
    const parts: Float32Array[] = [];
    const unknown = new Set<string>();
    await this.serial(async () => {
      for await (const piece of speakPieces(this.model(), text, this.params(opts), opts.iters ?? 32)) {
        parts.push(piece.samples);
        piece.unknown.forEach((u) => unknown.add(u));
      }
    });
    return { sampleRate: this.sampleRate, samples: concat(parts), unknown: [...unknown] };
  }

  /** Speaks `text` a piece at a time: play or send each piece while the next is synthesized. */
  async *stream(text: string, opts: SynthesizeOptions = {}): AsyncGenerator<AudioPiece> {
    const lm = this.model();
    const it = speakPieces(lm, text, this.params(opts), opts.iters ?? 32);
    for (;;) {
      const r = await this.serial(() => it.next());
      if (r.done) return;
      yield { sampleRate: this.sampleRate, samples: r.value.samples, text: r.value.text, index: r.value.index, count: r.value.count };
    }
  }

  /** Frees the model's memory; the voice cannot speak afterwards (loadVoice loads it again). */
  dispose(): void {
    this.lm?.model.dispose();
    this.lm = null;
    if (cache.get(this.key) === this) cache.delete(this.key);
  }

  private model(): LoadedModel {
    if (!this.lm) throw new UserError(`voice ${this.dir}: disposed (call loadVoice again)`);
    return this.lm;
  }

  private params(o: SynthesizeOptions): SynthesisParams {
    const d = this.defaults;
    const p: SynthesisParams = {
      steps: o.steps ?? d.steps,
      temperature: o.temperature ?? d.temperature,
      lengthScale: o.lengthScale ?? d.lengthScale,
      stochastic: o.stochastic ?? false,
      startTime: o.startTime ?? d.startTime,
      seed: o.seed ?? 1,
      ...(o.speaker !== undefined ? { speaker: o.speaker } : {}),
    };
    speakerRow(this.model(), p.speaker);
    if (!(p.temperature > 0)) throw new UserError(`synthesize: temperature ${p.temperature} (expected a number > 0)`);
    if (!(p.lengthScale > 0 && Number.isFinite(p.lengthScale)))
      throw new UserError(`synthesize: lengthScale ${p.lengthScale} (expected a number > 0)`);
    if (!(Number.isInteger(p.seed) && p.seed >= 0)) throw new UserError(`synthesize: seed ${p.seed} (expected an integer ≥ 0)`);
    return p;
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

const cache = new Map<string, Voice>();

/** A shipped voice's name (see `listVoices`) or a run/checkpoint directory → a voice, loaded once. */
export async function loadVoice(nameOrDir: string, opts: LoadVoiceOptions = {}): Promise<Voice> {
  const dir = resolveVoice(nameOrDir);
  const key = realpathSync(dir);
  const known = cache.get(key);
  if (known) return known;
  await initBackend(opts.backend);
  const voice = new Voice(loadModel(dir, opts.notice ?? (() => {})), key);
  cache.set(key, voice);
  return voice;
}
