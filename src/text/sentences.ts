/**
 * Long text → pieces short enough to synthesize one at a time. The encoder's attention grows with
 * the square of a piece's length and the decoder with its frames, so synthesis memory is bounded by
 * the longest piece, not by the text (src/synthesis/speak.ts speaks the pieces in turn).
 *
 * Order of preference: sentence ends (. ! ? … and paragraph breaks), then clause marks (, ; : and
 * dashes), then spaces between words; a single "word" longer than the limit (a URL, a long digit
 * string) is cut at the limit. Whitespace runs become one space; nothing else is changed or lost.
 */
import { ABBREVIATION_WORDS } from './cleaners.js';

/** A piece of a text: its words, and whether it ends a sentence (synthesis pauses longer after one). */
export interface TextPiece {
  text: string;
  sentenceEnd: boolean;
}

/** A period after these does not end a sentence ("Dr. Smith", "No. 5", "e.g. this"). */
const NOT_SENTENCE_END = new Set([...ABBREVIATION_WORDS, 'e.g', 'i.e', 'a.m', 'p.m', 'u.s']);

/**
 * Splits `text` into sentences, each at most `maxChars` characters (over-long sentences at clause,
 * then word boundaries). Every piece is non-empty and trimmed; the pieces joined by single spaces
 * give the text with its whitespace collapsed.
 */
export function splitSentences(text: string, maxChars: number): string[] {
  return splitPieces(text, maxChars).map((p) => p.text);
}

/** `splitSentences`, with whether each piece ends a sentence. */
export function splitPieces(text: string, maxChars: number): TextPiece[] {
  if (!(Number.isInteger(maxChars) && maxChars >= 1))
    throw new RangeError(`splitSentences: maxChars ${maxChars} (expected an integer ≥ 1)`);
  const out: TextPiece[] = [];
  for (const sentence of sentences(text)) {
    const parts = fit(sentence, maxChars, 0);
    parts.forEach((p, i) => out.push({ text: p, sentenceEnd: i === parts.length - 1 }));
  }
  return out;
}

/** Sentences of the text, whitespace collapsed: split after a sentence mark followed by space, and at blank lines. */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n[ \t\r\f\v]*\n/)) {
    const flat = para.replace(/\s+/g, ' ').trim();
    if (!flat) continue;
    let start = 0;
    // a run of sentence marks, closing quotes/brackets, then a space
    for (const m of flat.matchAll(/[.!?\u2026]+["'\u2019\u201D)\]]*(?= )/g)) {
      const end = m.index + m[0].length;
      if (m[0] === '.' && !endsSentence(flat.slice(start, m.index))) continue;
      out.push(flat.slice(start, end).trim());
      start = end + 1;
    }
    const rest = flat.slice(start).trim();
    if (rest) out.push(rest);
  }
  return out;
}

/** Whether a lone period after `before` ends a sentence: not after an abbreviation or an initial ("J. Smith"). */
function endsSentence(before: string): boolean {
  const word = /(\S+)$/.exec(before)?.[1] ?? '';
  if (/^[A-Za-z]$/.test(word)) return false;
  return !NOT_SENTENCE_END.has(word.toLowerCase());
}

/** Boundaries tried in turn: after clause marks, then at spaces; level 2 cuts at the limit. */
const BOUNDARIES = [/(?<=[,;:\u2013\u2014]) |(?<= -) /g, / /g];

/** `s` (no leading/trailing space) as pieces ≤ max, packing as many units per piece as fit. */
function fit(s: string, max: number, level: number): string[] {
  if (s.length <= max) return [s];
  if (level === BOUNDARIES.length) {
    const out: string[] = [];
    for (let i = 0; i < s.length; i += max) out.push(s.slice(i, i + max));
    return out;
  }
  const units = s.split(BOUNDARIES[level]!).flatMap((u) => fit(u, max, level + 1));
  const out: string[] = [];
  let cur = '';
  for (const u of units) {
    if (!cur) cur = u;
    else if (cur.length + 1 + u.length <= max) cur += ` ${u}`;
    else {
      out.push(cur);
      cur = u;
    }
  }
  if (cur) out.push(cur);
  return out;
}
