/**
 * Token ids → waveform with a loaded model, without the text front end: the part of speaking a
 * synthesis helper runs (src/synthesis/batch.ts sends it each text's pieces as ids, so a helper
 * never loads CMUdict, ~0.4 s of its start-up; issue #24). A piece's ids → GradTTS reverse
 * diffusion (or the encoder's prior μ alone, steps 0) → mel → Griffin-Lim; pieces are joined with
 * a pause after each but the last. Text → pieces of ids is src/synthesis/speak.ts.
 */
import { griffinLim } from '../audio/griffinlim.js';
import type { Mel, MelConfig } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { printable } from '../util/printable.js';
import type { LoadedModel } from './model.js';

/** What speaking needs of a loaded voice (the page's voice has no checkpoint on disk). */
export type SpeakingModel = Pick<LoadedModel, 'model' | 'textConfig' | 'melConfig' | 'speakers'>;

export interface SynthesisParams {
  steps: number;
  temperature: number;
  lengthScale: number;
  stochastic: boolean;
  seed: number;
  /** Shallow diffusion: the diffusion time the score sampler starts from (default 1; GradTTS.synthesize). */
  startTime?: number;
  /** The speaker, by name: required by a multi-speaker voice; a single-speaker voice takes none or its own name. */
  speaker?: string;
}

/**
 * The embedding row of speaker `name` of a voice (undefined for a single-speaker voice). A missing
 * or unknown name on a multi-speaker voice, or another name than its own on a single-speaker one, is
 * one line listing the voice's speakers.
 */
export function speakerRow(lm: Pick<SpeakingModel, 'model' | 'speakers'>, name: string | undefined): number | undefined {
  const names = lm.speakers;
  const all = names.map(printable).join(', ');
  if (lm.model.nSpeakers > 1) {
    if (name === undefined) throw new UserError(`no speaker chosen: this voice has ${names.length} speakers (--speaker NAME): ${all}`);
    const row = names.indexOf(name);
    if (row < 0) throw new UserError(`speaker '${printable(name)}' is not one of this voice's ${names.length} speakers: ${all}`);
    return row;
  }
  if (name !== undefined && name !== names[0])
    throw new UserError(
      `speaker '${printable(name)}': this voice has one speaker${names.length ? ` (${all})` : ''} and takes no --speaker`,
    );
  return undefined;
}

/** Silence after a piece that ends a sentence, and after one cut at a clause or word. */
export const SENTENCE_PAUSE_SEC = 0.3;
export const CLAUSE_PAUSE_SEC = 0.1;

/** One piece of a text, tokenized: what is spoken at once. */
export interface IdPiece {
  /** The piece's text (messages, titles). */
  text: string;
  /** Its token ids (the checkpoint's text config; never empty). */
  ids: Int32Array;
  /** Characters of the piece that have no symbol (skipped). */
  unknown: string[];
  /** Whether the piece ends a sentence (the longer pause follows it). */
  sentenceEnd: boolean;
}

/**
 * Ids → mel [nMels, frames] (natural-log). `steps` 0: the encoder's prior μ alone, no reverse
 * diffusion (a small decoder can blur what the encoder says; docs/quality/LEVERS.md measures when
 * that wins).
 */
export async function renderMel(lm: SpeakingModel, ids: Int32Array, p: SynthesisParams): Promise<Mel> {
  checkSteps(p.steps);
  const speaker = speakerRow(lm, p.speaker);
  if (p.steps === 0) return lm.model.prior(ids, p.lengthScale, speaker);
  return lm.model.synthesize(ids, {
    steps: p.steps,
    temperature: p.temperature,
    lengthScale: p.lengthScale,
    stochastic: p.stochastic,
    startTime: p.startTime,
    rng: new Rng(p.seed),
    speaker,
  });
}

export function checkSteps(steps: number): void {
  if (!(Number.isInteger(steps) && steps >= 0))
    throw new UserError(`synthesize: steps ${steps} (expected an integer ≥ 0; 0 = the encoder's prior alone)`);
}

/** Mel → waveform in [-1, 1] (peak-limited to 0.95 if Griffin-Lim overshoots). */
export function vocode(mel: Mel, melConfig: MelConfig, iters: number, seed = 0): Float32Array {
  const wav = griffinLim(mel, { iters, cfg: melConfig, seed });
  let peak = 0;
  for (const v of wav) peak = Math.max(peak, Math.abs(v));
  if (peak > 0.95) for (let i = 0; i < wav.length; i++) wav[i] = (wav[i]! * 0.95) / peak;
  return wav;
}

/** One piece of a spoken text: its samples with the pause after it (none after the last). */
export interface SpokenPiece {
  index: number;
  count: number;
  text: string;
  samples: Float32Array;
  unknown: string[];
  /** Its mel [nMels, frames] (natural-log), the pause included as frames at the log floor. */
  mel: Mel;
}

/**
 * Speaks tokenized pieces one at a time (an async iterator, so a caller can play or write each as it
 * comes). Piece k of a text seeded `seed` draws its noise from seed + k·1000003, so piece 0 of a
 * short text sounds as it always did and the pieces' noise differs.
 */
export async function* renderPieces(
  lm: SpeakingModel,
  pieces: readonly IdPiece[],
  p: SynthesisParams,
  iters: number,
): AsyncGenerator<SpokenPiece> {
  checkSteps(p.steps);
  speakerRow(lm, p.speaker);
  const rate = lm.melConfig.sampleRate;
  for (const [k, piece] of pieces.entries()) {
    const seed = (p.seed + k * 1000003) >>> 0;
    const mel = await renderMel(lm, piece.ids, { ...p, seed });
    const voiced = vocode(mel, lm.melConfig, iters, seed);
    const last = k === pieces.length - 1;
    const pause = last ? 0 : Math.round((piece.sentenceEnd ? SENTENCE_PAUSE_SEC : CLAUSE_PAUSE_SEC) * rate);
    const samples = new Float32Array(voiced.length + pause);
    samples.set(voiced);
    yield {
      index: k,
      count: pieces.length,
      text: piece.text,
      samples,
      unknown: piece.unknown,
      mel: withPause(mel, Math.round(pause / lm.melConfig.hop), Math.log(lm.melConfig.logFloor)),
    };
  }
}

/** Tokenized pieces spoken whole: their samples and mels joined, the unknown characters (once each). */
export async function renderText(
  lm: SpeakingModel,
  pieces: readonly IdPiece[],
  p: SynthesisParams,
  iters: number,
): Promise<{ samples: Float32Array; unknown: string[]; mel: Mel }> {
  const parts: Float32Array[] = [];
  const mels: Mel[] = [];
  const unknown = new Set<string>();
  for await (const piece of renderPieces(lm, pieces, p, iters)) {
    parts.push(piece.samples);
    mels.push(piece.mel);
    piece.unknown.forEach((u) => unknown.add(u));
  }
  return { samples: concat(parts), unknown: [...unknown], mel: joinMels(mels) };
}

export function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
  let off = 0;
  for (const x of parts) {
    out.set(x, off);
    off += x.length;
  }
  return out;
}

/** `mel` followed by `frames` frames of `floor`. */
function withPause(mel: Mel, frames: number, floor: number): Mel {
  return frames === 0 ? mel : joinMels([mel, { data: new Float32Array(mel.nMels * frames).fill(floor), nMels: mel.nMels, frames }]);
}

/** Row-major mels [nMels, frames_i] side by side in time. */
export function joinMels(mels: Mel[]): Mel {
  if (mels.length === 1) return mels[0]!;
  const nMels = mels[0]!.nMels;
  const frames = mels.reduce((n, m) => n + m.frames, 0);
  const data = new Float32Array(nMels * frames);
  let off = 0;
  for (const m of mels) {
    for (let r = 0; r < nMels; r++) data.set(m.data.subarray(r * m.frames, (r + 1) * m.frames), r * frames + off);
    off += m.frames;
  }
  return { data, nMels, frames };
}
