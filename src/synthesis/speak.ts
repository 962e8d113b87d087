/**
 * Text → waveform with a loaded model. One piece: text → ids (the checkpoint's text config) →
 * GradTTS reverse diffusion (or the encoder's prior μ alone, steps 0) → mel → Griffin-Lim.
 * Any text: split into sentences of at most `MAX_PIECE_CHARS` (src/text/sentences.ts), each
 * spoken in turn and followed by a pause, so memory depends on the longest piece, not the text.
 */
import { griffinLim } from '../audio/griffinlim.js';
import type { Mel, MelConfig } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { cleanText, textToIds } from '../text/index.js';
import { splitPieces, splitSentences, type TextPiece } from '../text/sentences.js';
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

/**
 * The longest piece spoken at once, in cleaned characters (≈ 20 s of speech). The encoder's
 * attention is quadratic in it; 5000 characters at once needed > 4 GB, a piece of this length
 * stays within the 1.5 GB docs/README state for any text.
 */
export const MAX_PIECE_CHARS = 300;

/** Silence after a piece that ends a sentence, and after one cut at a clause or word. */
export const SENTENCE_PAUSE_SEC = 0.3;
export const CLAUSE_PAUSE_SEC = 0.1;

/** A text's beginning for a message: at most 40 characters, quoted, control characters escaped. */
export function quoteText(text: string): string {
  const head = Array.from(text).slice(0, 40).join('');
  return `"${printable(head)}${head.length < text.length ? '…' : ''}"`;
}

function speakableIds(lm: SpeakingModel, text: string): { ids: Int32Array; unknown: string[] } {
  const r = textToIds(text, lm.textConfig);
  if (r.ids.length === 0)
    throw new UserError(
      `text ${quoteText(text)}: nothing to speak after cleaning${r.unknown.length ? ` (no character has a symbol: ${printable(r.unknown.join(' '))})` : ''}`,
    );
  return r;
}

/**
 * One sentence → mel [nMels, frames] (natural-log); unknown characters are reported, not fatal.
 * `steps` 0: the encoder's prior μ alone, no reverse diffusion (a small decoder can blur what the
 * encoder says; docs/quality/LEVERS.md measures when that wins). Long text: `speakPieces`.
 */
export async function synthesizeMel(lm: SpeakingModel, text: string, p: SynthesisParams): Promise<{ mel: Mel; unknown: string[] }> {
  checkSteps(p.steps);
  const speaker = speakerRow(lm, p.speaker);
  const { ids, unknown } = speakableIds(lm, text);
  if (p.steps === 0) return { mel: await lm.model.prior(ids, p.lengthScale, speaker), unknown };
  const mel = await lm.model.synthesize(ids, {
    steps: p.steps,
    temperature: p.temperature,
    lengthScale: p.lengthScale,
    stochastic: p.stochastic,
    startTime: p.startTime,
    rng: new Rng(p.seed),
    speaker,
  });
  return { mel, unknown };
}

function checkSteps(steps: number): void {
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

/**
 * The pieces a text is spoken in: its sentences (over-long ones cut at clauses, then words), packed
 * in order into pieces of at most `maxChars` characters after cleaning — a text that fits is spoken
 * whole, as the model was trained. A sentence whose numbers expand past the limit is split again in
 * its cleaned form. Pieces with nothing speakable (a lone emoji between sentences) are dropped;
 * none at all is a UserError.
 */
export function textPieces(lm: SpeakingModel, text: string, maxChars = MAX_PIECE_CHARS): TextPiece[] {
  const pieces: TextPiece[] = [];
  for (const piece of splitPieces(text, maxChars)) {
    const parts = withinCleaned(piece.text, maxChars, 3);
    parts.forEach((t, i) => {
      if (textToIds(t, lm.textConfig).ids.length > 0) pieces.push({ text: t, sentenceEnd: piece.sentenceEnd && i === parts.length - 1 });
    });
  }
  if (pieces.length === 0) speakableIds(lm, text); // throws the one-line message
  const out: TextPiece[] = [];
  for (const q of pieces) {
    const prev = out[out.length - 1];
    const joined = prev ? `${prev.text} ${q.text}` : '';
    if (prev && cleanText(joined).length <= maxChars) out[out.length - 1] = { text: joined, sentenceEnd: q.sentenceEnd };
    else out.push({ text: q.text, sentenceEnd: q.sentenceEnd });
  }
  return out;
}

/** `text` as parts whose cleaned form is ≤ max: split again in cleaned form while cleaning lengthens it. */
function withinCleaned(text: string, max: number, depth: number): string[] {
  const cleaned = cleanText(text);
  if (cleaned.length <= max || depth === 0) return [text];
  return splitSentences(cleaned, max).flatMap((t) => withinCleaned(t, max, depth - 1));
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
 * Speaks `text` one piece at a time (an async iterator, so a caller can play or write each as it
 * comes). Piece k of a text seeded `seed` draws its noise from seed + k·1000003, so piece 0 of a
 * short text sounds as it always did and the pieces' noise differs.
 */
export async function* speakPieces(
  lm: SpeakingModel,
  text: string,
  p: SynthesisParams,
  iters: number,
  maxChars = MAX_PIECE_CHARS,
): AsyncGenerator<SpokenPiece> {
  checkSteps(p.steps);
  speakerRow(lm, p.speaker);
  const pieces = textPieces(lm, text, maxChars);
  const rate = lm.melConfig.sampleRate;
  for (const [k, piece] of pieces.entries()) {
    const seed = (p.seed + k * 1000003) >>> 0;
    const { mel, unknown } = await synthesizeMel(lm, piece.text, { ...p, seed });
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
      unknown,
      mel: withPause(mel, Math.round(pause / lm.melConfig.hop), Math.log(lm.melConfig.logFloor)),
    };
  }
}

/** A whole text spoken: the pieces' samples and mels joined, the unknown characters (once each). */
export async function speakText(
  lm: SpeakingModel,
  text: string,
  p: SynthesisParams,
  iters: number,
  maxChars = MAX_PIECE_CHARS,
): Promise<{ samples: Float32Array; unknown: string[]; mel: Mel }> {
  const parts: Float32Array[] = [];
  const mels: Mel[] = [];
  const unknown = new Set<string>();
  for await (const piece of speakPieces(lm, text, p, iters, maxChars)) {
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
