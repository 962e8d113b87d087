/**
 * Symbol tables. Id 0 is padding; then punctuation, the word separator (space), the letters
 * a–z (the whole alphabet in `characters` mode, the spelling of out-of-dictionary words in
 * `phonemes` mode), then — in `phonemes` mode only — the 69 stressed ARPAbet symbols of CMUdict
 * (vowels carry a stress digit 0/1/2, as Grad-TTS feeds them). With `addBlank`, the last id
 * (symbolCount − 1) is the blank interleaved between tokens (Grad-TTS's `intersperse`).
 */

export const PAD = '<pad>';
export const BLANK = '<blank>';
export const SPACE = ' ';
/** Punctuation kept as its own symbol. */
export const PUNCTUATION = [',', '.', '!', '?', ';', ':', '-', "'", '"', '(', ')'] as const;
export const LETTERS = Array.from('abcdefghijklmnopqrstuvwxyz');

const VOWELS = ['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW'];
const CONSONANTS = [
  'B',
  'CH',
  'D',
  'DH',
  'F',
  'G',
  'HH',
  'JH',
  'K',
  'L',
  'M',
  'N',
  'NG',
  'P',
  'R',
  'S',
  'SH',
  'T',
  'TH',
  'V',
  'W',
  'Y',
  'Z',
  'ZH',
];
/** The 69 ARPAbet symbols with stress: 15 vowels × {0,1,2} + 24 consonants. */
export const ARPABET = [...VOWELS.flatMap((v) => [`${v}0`, `${v}1`, `${v}2`]), ...CONSONANTS];

export type TextMode = 'phonemes' | 'characters';

export interface SymbolTable {
  symbols: string[];
  index: Map<string, number>;
  blank: number | null;
}

const cache = new Map<string, SymbolTable>();

/** The id ↔ symbol table for a mode; built once and cached. */
export function symbolTable(mode: TextMode, addBlank: boolean): SymbolTable {
  const key = `${mode}/${addBlank}`;
  let t = cache.get(key);
  if (!t) {
    const symbols = [PAD, ...PUNCTUATION, SPACE, ...LETTERS, ...(mode === 'phonemes' ? ARPABET : [])];
    if (addBlank) symbols.push(BLANK);
    t = { symbols, index: new Map(symbols.map((s, i) => [s, i])), blank: addBlank ? symbols.length - 1 : null };
    cache.set(key, t);
  }
  return t;
}
