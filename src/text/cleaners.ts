/**
 * English text normalisation before tokenisation: typographic punctuation to ASCII, accents
 * stripped, abbreviations and numbers spelled out, lower case, whitespace collapsed.
 * Characters outside the symbol set are left in place so `textToIds` can report them.
 */
import { expandNumbers } from './numbers.js';

/** Abbreviations with a trailing period (the Tacotron/Grad-TTS list plus a few common ones). */
const ABBREVIATIONS: [string, string][] = [
  ['mrs', 'misess'],
  ['mr', 'mister'],
  ['ms', 'miss'],
  ['dr', 'doctor'],
  ['drs', 'doctors'],
  ['st', 'saint'],
  ['co', 'company'],
  ['jr', 'junior'],
  ['sr', 'senior'],
  ['maj', 'major'],
  ['gen', 'general'],
  ['rev', 'reverend'],
  ['lt', 'lieutenant'],
  ['hon', 'honorable'],
  ['sgt', 'sergeant'],
  ['capt', 'captain'],
  ['esq', 'esquire'],
  ['ltd', 'limited'],
  ['col', 'colonel'],
  ['ft', 'fort'],
  ['prof', 'professor'],
  ['vs', 'versus'],
  ['etc', 'et cetera'],
  ['no', 'number'],
  ['approx', 'approximately'],
  ['dept', 'department'],
];
/** The abbreviations' words, lower case, without their period (sentences.ts: such a period ends no sentence). */
export const ABBREVIATION_WORDS: readonly string[] = ABBREVIATIONS.map(([a]) => a);
const ABBREV_RE = new RegExp(`\\b(${ABBREVIATIONS.map(([a]) => a).join('|')})\\.`, 'gi');
const ABBREV_MAP = new Map(ABBREVIATIONS);

/** Maps typographic characters to the ASCII punctuation the symbol set knows. */
function normalisePunctuation(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201A\u201B\u2032\u0060\u00B4]/g, "'")
    .replace(/[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/g, '"')
    .replace(/[\u2010-\u2015\u2212]/g, '-')
    .replace(/\u2026/g, '...')
    .replace(/&/g, ' and ')
    .replace(/[\u00A0\u2000-\u200B\u3000\t\r\n]/g, ' ');
}

/** "café" → "cafe": canonical decomposition, then combining marks removed. */
function stripAccents(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

/**
 * The full English cleaning pipeline. "No." only expands before a digit ("No. 5"), so a
 * sentence-final "no." stays a word; "St." is "saint" before a capitalised word, else "street".
 */
export function cleanText(text: string): string {
  let t = normalisePunctuation(stripAccents(text));
  t = t.replace(ABBREV_RE, (m: string, w: string, offset: number, all: string) => {
    const key = w.toLowerCase();
    const rest = all.slice(offset + m.length);
    if (key === 'no' && !/^\s*\d/.test(rest)) return m;
    // "St. Paul" is a saint, "Baker St." (not followed by a capitalised word) a street.
    if (key === 'st') return /^\s*[A-Z]/.test(rest) ? ' saint ' : ' street ';
    return ` ${ABBREV_MAP.get(key)!} `;
  });
  t = expandNumbers(t);
  t = t.toLowerCase();
  // Spaces the expansions introduced before punctuation ("five ,") are removed again.
  t = t
    .replace(/\s+/g, ' ')
    .replace(/ ([,.!?;:])/g, '$1')
    .trim();
  return t;
}
