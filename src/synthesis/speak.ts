/**
 * Text → waveform with a loaded model: the text front end (src/text) turns a text into pieces of
 * token ids, which src/synthesis/render.ts speaks. Any text is split into sentences of at most
 * `MAX_PIECE_CHARS` (src/text/sentences.ts), each spoken in turn and followed by a pause, so memory
 * depends on the longest piece, not the text.
 */
import type { Mel } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { cleanText, textToIds } from '../text/index.js';
import { splitPieces, splitSentences, type TextPiece } from '../text/sentences.js';
import { printable } from '../util/printable.js';
import {
  checkSteps,
  renderMel,
  renderPieces,
  renderText,
  speakerRow,
  type IdPiece,
  type SpeakingModel,
  type SpokenPiece,
  type SynthesisParams,
} from './render.js';

export {
  CLAUSE_PAUSE_SEC,
  concat,
  joinMels,
  SENTENCE_PAUSE_SEC,
  speakerRow,
  vocode,
  type IdPiece,
  type SpeakingModel,
  type SpokenPiece,
  type SynthesisParams,
} from './render.js';

/**
 * The longest piece spoken at once, in cleaned characters (≈ 20 s of speech). The encoder's
 * attention is quadratic in it; 5000 characters at once needed > 4 GB, a piece of this length
 * stays within the 1.5 GB docs/README state for any text.
 */
export const MAX_PIECE_CHARS = 300;

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
 * `steps` 0: the encoder's prior μ alone (render.ts). Long text: `speakPieces`.
 */
export async function synthesizeMel(lm: SpeakingModel, text: string, p: SynthesisParams): Promise<{ mel: Mel; unknown: string[] }> {
  checkSteps(p.steps);
  speakerRow(lm, p.speaker);
  const { ids, unknown } = speakableIds(lm, text);
  return { mel: await renderMel(lm, ids, p), unknown };
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

/** `text`'s pieces (textPieces) with their token ids: what render.ts speaks. */
export function idPieces(lm: SpeakingModel, text: string, maxChars = MAX_PIECE_CHARS): IdPiece[] {
  return textPieces(lm, text, maxChars).map((q) => ({ ...q, ...speakableIds(lm, q.text) }));
}

/**
 * Speaks `text` one piece at a time (an async iterator, so a caller can play or write each as it
 * comes); the pieces' seeds as in render.ts's renderPieces.
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
  yield* renderPieces(lm, idPieces(lm, text, maxChars), p, iters);
}

/** A whole text spoken: the pieces' samples and mels joined, the unknown characters (once each). */
export async function speakText(
  lm: SpeakingModel,
  text: string,
  p: SynthesisParams,
  iters: number,
  maxChars = MAX_PIECE_CHARS,
): Promise<{ samples: Float32Array; unknown: string[]; mel: Mel }> {
  checkSteps(p.steps);
  speakerRow(lm, p.speaker);
  return renderText(lm, idPieces(lm, text, maxChars), p, iters);
}
