/**
 * Text front end: English text → token ids for the Grad-TTS encoder.
 *
 * `phonemes` mode: each word is looked up in CMUdict (first pronunciation, ARPAbet with stress
 * digits); words not in the dictionary are spelled with letter symbols. `characters` mode: the
 * cleaned letters themselves. Both keep punctuation and the space between words as symbols.
 * Characters that have no symbol are skipped and returned in `unknown` so callers can warn.
 */
import { dictionary } from 'cmu-pronouncing-dictionary';
import { cleanText } from './cleaners.js';
import { symbolTable, SPACE, type TextMode } from './symbols.js';

export { cleanText } from './cleaners.js';
export { ARPABET, PUNCTUATION, PAD, BLANK, type TextMode } from './symbols.js';

export interface TextConfig {
  mode: TextMode;
  /** Interleave the blank symbol (id symbolCount − 1) between all tokens and at both ends. */
  addBlank: boolean;
}

export const DEFAULT_TEXT: TextConfig = { mode: 'phonemes', addBlank: true };

/** Vocabulary size including padding (id 0) and, with addBlank, the blank (last id). */
export function symbolCount(cfg: TextConfig = DEFAULT_TEXT): number {
  return symbolTable(cfg.mode, cfg.addBlank).symbols.length;
}

/** First CMUdict pronunciation of a lower-case word as ARPAbet symbols, or null. */
export function lookupWord(word: string): string[] | null {
  if (!Object.hasOwn(dictionary, word)) return null;
  return dictionary[word]!.split(' ');
}

/** Splits cleaned text into tokens: words ([a-z'] runs), single punctuation marks, spaces, others. */
function phonemeTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[a-z]+(?:'[a-z]+)*|./gsu)) {
    const tok = m[0];
    if (/^[a-z]/.test(tok)) {
      const pron = lookupWord(tok);
      if (pron) out.push(...pron);
      else out.push(...Array.from(tok));
    } else out.push(tok);
  }
  return out;
}

/**
 * Cleans `text` and converts it to token ids (all ≥ 1; 0 is padding). Returns the characters
 * that have no symbol, once each in order of appearance. Text with no known symbol gives
 * empty ids (no lone blank).
 */
export function textToIds(text: string, cfg: TextConfig = DEFAULT_TEXT): { ids: Int32Array; unknown: string[] } {
  const table = symbolTable(cfg.mode, cfg.addBlank);
  const cleaned = cleanText(text);
  const tokens = cfg.mode === 'phonemes' ? phonemeTokens(cleaned) : Array.from(cleaned);
  const unknown: string[] = [];
  const ids: number[] = [];
  for (const tok of tokens) {
    const id = table.index.get(tok);
    if (id === undefined || id === 0 || id === table.blank) {
      if (!unknown.includes(tok)) unknown.push(tok);
      continue;
    }
    // Skipped unknowns can leave two spaces in a row or a space at an edge.
    if (tok === SPACE && (ids.length === 0 || ids[ids.length - 1] === id)) continue;
    ids.push(id);
  }
  const spaceId = table.index.get(SPACE)!;
  while (ids.length && ids[ids.length - 1] === spaceId) ids.pop();
  if (table.blank === null || ids.length === 0) return { ids: Int32Array.from(ids), unknown };
  const out = new Int32Array(2 * ids.length + 1).fill(table.blank);
  ids.forEach((id, i) => (out[2 * i + 1] = id));
  return { ids: out, unknown };
}

/** Ids back to their symbols ('<pad>', '<blank>', ' ', 'a', 'AH0', ','). Throws on an out-of-range id. */
export function idsToSymbols(ids: ArrayLike<number>, cfg: TextConfig = DEFAULT_TEXT): string[] {
  const { symbols } = symbolTable(cfg.mode, cfg.addBlank);
  return Array.from(ids, (id) => {
    const s = symbols[id];
    if (s === undefined) throw new RangeError(`token id ${id} outside vocabulary [0, ${symbols.length})`);
    return s;
  });
}

/** Parses a text config from untrusted JSON-ish input (manifest, recipe), or returns null. */
export function isTextConfig(x: unknown): x is TextConfig {
  const o = x as Partial<TextConfig> | null;
  return !!o && (o.mode === 'phonemes' || o.mode === 'characters') && typeof o.addBlank === 'boolean';
}
