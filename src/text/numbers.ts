/**
 * English number words: cardinals, ordinals, decimals and years, as the Grad-TTS/Tacotron
 * cleaners produce them (via inflect), except that compound numbers use a space
 * ("twenty one") instead of a hyphen so the phonemiser sees two dictionary words.
 */

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion'];

/** 0 ≤ n < 1000 in words ("three hundred forty two"); 0 → "" so callers can skip empty groups. */
function under1000(n: number): string {
  const parts: string[] = [];
  const h = Math.floor(n / 100);
  const r = n % 100;
  if (h > 0) parts.push(ONES[h]!, 'hundred');
  if (r > 0) {
    if (r < 20) parts.push(ONES[r]!);
    else {
      parts.push(TENS[Math.floor(r / 10)]!);
      if (r % 10) parts.push(ONES[r % 10]!);
    }
  }
  return parts.join(' ');
}

/**
 * A non-negative integer given as a digit string (arbitrary length up to 10^18) in words.
 * Longer strings are read digit by digit, which is how people read serial numbers.
 */
export function cardinal(digits: string): string {
  const s = digits.replace(/^0+(?=\d)/, '');
  if (s.length > SCALES.length * 3) return digitByDigit(s);
  if (s === '0') return 'zero';
  const groups: number[] = [];
  for (let end = s.length; end > 0; end -= 3) groups.unshift(Number(s.slice(Math.max(0, end - 3), end)));
  const parts: string[] = [];
  groups.forEach((g, i) => {
    if (g === 0) return;
    const scale = SCALES[groups.length - 1 - i]!;
    parts.push(under1000(g) + (scale ? ` ${scale}` : ''));
  });
  return parts.join(' ');
}

/** "007" → "zero zero seven". */
export function digitByDigit(digits: string): string {
  return Array.from(digits, (d) => ONES[Number(d)]!).join(' ');
}

const ORDINAL_IRREGULAR: Record<string, string> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

/** "21" → "twenty first". */
export function ordinal(digits: string): string {
  const words = cardinal(digits).split(' ');
  const last = words.pop()!;
  let ord: string;
  if (ORDINAL_IRREGULAR[last]) ord = ORDINAL_IRREGULAR[last]!;
  else if (last.endsWith('y')) ord = `${last.slice(0, -1)}ieth`;
  else ord = `${last}th`;
  return [...words, ord].join(' ');
}

/**
 * A bare 4-digit integer between 1001 and 2999 read as a year, following inflect's rule as
 * used by the Tacotron cleaners: 2000 → "two thousand", 2001–2009 → "two thousand N",
 * 1900 → "nineteen hundred", 1984 → "nineteen eighty four"; other numbers as cardinals.
 */
export function yearOrCardinal(digits: string): string {
  const n = Number(digits);
  if (!/^\d{4}$/.test(digits) || n <= 1000 || n >= 3000) return cardinal(digits);
  if (n === 2000) return 'two thousand';
  if (n > 2000 && n < 2010) return `two thousand ${ONES[n % 100]!}`;
  if (n % 100 === 0) return `${cardinal(String(n / 100))} hundred`;
  const lo = n % 100;
  return `${cardinal(String(Math.floor(n / 100)))} ${lo < 10 ? `oh ${ONES[lo]!}` : cardinal(String(lo))}`;
}

/** "nineteen ninety" → "nineteen nineties", "six" → "sixes". */
function pluralWords(words: string): string {
  const parts = words.split(' ');
  const last = parts.pop()!;
  const plural = last.endsWith('y') ? `${last.slice(0, -1)}ies` : last.endsWith('x') ? `${last}es` : `${last}s`;
  return [...parts, plural].join(' ');
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A date in words, "december fifth, twenty twenty four"; null when month or day is out of range. */
function dateWords(month: number, day: number, year: string): string | null {
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  return `${MONTHS[month - 1]!} ${ordinal(String(day))}, ${yearOrCardinal(year.length === 2 ? `20${year}` : year)}`;
}

/**
 * Dates and clock times with a.m./p.m., before the other rules can read their parts as separate
 * numbers. Slashed dates are US order (month/day/year: the voices speak American English) unless
 * the first number cannot be a month (25/12/2024); two-digit years are 20YY. ISO 2024-12-05 too.
 * "3pm", "3 p.m.", "10:30am" → "three p m", "ten thirty a m" (a period that ends the sentence stays).
 */
export function expandDatesAndTimes(text: string): string {
  let t = text.replace(/\b(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})\b/g, (m, a: string, b: string, y: string) => {
    const [mo, d] = Number(a) > 12 && Number(b) <= 12 ? [Number(b), Number(a)] : [Number(a), Number(b)];
    return dateWords(mo, d, y) ?? m;
  });
  t = t.replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (m, y: string, mo: string, d: string) => dateWords(Number(mo), Number(d), y) ?? m);
  t = t.replace(
    /\b(\d{1,2})(?::(\d{2}))?\s?([ap])\.?\s?m\b(\.?)/gi,
    (m, h: string, mm: string | undefined, ap: string, dot: string, offset: number, all: string) => {
      const hh = Number(h);
      const mi = mm === undefined ? 0 : Number(mm);
      if (hh > 12 || mi > 59) return m;
      const minutes = mi === 0 ? '' : ` ${mi < 10 ? `oh ${ONES[mi]!}` : cardinal(String(mi))}`;
      const endsSentence = dot !== '' && /^(\s+[A-Z]|\s*$)/.test(all.slice(offset + m.length));
      return ` ${cardinal(h)}${minutes} ${ap.toLowerCase()} m${endsSentence ? '.' : ''} `;
    },
  );
  return t;
}

/**
 * Replaces every number in `text` with words: dates and a.m./p.m. times (expandDatesAndTimes), currency ($5, $3.50, £2), clock times, percentages, ordinals
 * (1st, 22nd, 103rd), decimals (3.14 → "three point one four"), grouped thousands (1,000,000)
 * and years/cardinals. A leading minus directly before a digit becomes "minus".
 */
export function expandNumbers(text: string): string {
  let t = text;
  // Thousands separators only between digit groups of three.
  t = t.replace(/(\d)[,](?=\d{3}(?!\d))/g, '$1');
  t = expandDatesAndTimes(t);
  t = t.replace(/([$£€])\s?(\d+)(?:\.(\d{1,2}))?\b/g, (_m, cur: string, whole: string, cents?: string) => {
    const unit = cur === '$' ? ['dollar', 'dollars'] : cur === '£' ? ['pound', 'pounds'] : ['euro', 'euros'];
    const sub = cur === '$' ? ['cent', 'cents'] : cur === '£' ? ['penny', 'pence'] : ['cent', 'cents'];
    const parts: string[] = [];
    const w = Number(whole);
    const c = cents ? Number(cents.padEnd(2, '0')) : 0;
    if (w > 0 || c === 0) parts.push(`${cardinal(whole)} ${w === 1 ? unit[0] : unit[1]}`);
    if (c > 0) parts.push(`${cardinal(String(c))} ${c === 1 ? sub[0] : sub[1]}`);
    return ` ${parts.join(' and ')} `;
  });
  // Clock times: 9:05 → "nine oh five", 3:00 → "three o'clock", 10:30 → "ten thirty".
  t = t.replace(/\b(\d{1,2}):(\d{2})\b/g, (m, h: string, mm: string) => {
    const hh = Number(h);
    const mi = Number(mm);
    if (hh > 24 || mi > 59) return m;
    const hw = cardinal(h);
    return ` ${mi === 0 ? `${hw} o'clock` : `${hw} ${mi < 10 ? `oh ${ONES[mi]!}` : cardinal(mm)}`} `;
  });
  t = t.replace(/(\d+)(?:st|nd|rd|th)\b/gi, (_m, d: string) => ordinal(d));
  // Decades and plurals: 1990s → "nineteen nineties", 80s → "eighties".
  t = t.replace(/(?<![\d.])\b(\d+)'?s\b/g, (_m, d: string) => ` ${pluralWords(yearOrCardinal(d))} `);
  t = t.replace(/#(?=\d)/g, ' number ');
  t = t.replace(/(\d+)\.(\d+)/g, (_m, a: string, b: string) => `${cardinal(a)} point ${digitByDigit(b)}`);
  t = t.replace(/(\d+)\s?%/g, (_m, d: string) => `${yearOrCardinal(d)} percent`);
  t = t.replace(/%/g, ' percent ');
  t = t.replace(/(^|[\s(])-(?=\d)/g, '$1minus ');
  t = t.replace(/\d+/g, (d) => ` ${yearOrCardinal(d)} `);
  return t;
}
