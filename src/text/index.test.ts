import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanText, textToIds, symbolCount, idsToSymbols, DEFAULT_TEXT, lookupWord, type TextConfig } from './index.js';
import { cardinal, ordinal, yearOrCardinal } from './numbers.js';

const noBlank: TextConfig = { mode: 'phonemes', addBlank: false };
const chars: TextConfig = { mode: 'characters', addBlank: false };

test('numbers: cardinals, ordinals, years against hand-written references', () => {
  assert.equal(cardinal('0'), 'zero');
  assert.equal(cardinal('13'), 'thirteen');
  assert.equal(cardinal('342'), 'three hundred forty two');
  assert.equal(cardinal('1000001'), 'one million one');
  assert.equal(ordinal('1'), 'first');
  assert.equal(ordinal('12'), 'twelfth');
  assert.equal(ordinal('21'), 'twenty first');
  assert.equal(ordinal('40'), 'fortieth');
  assert.equal(ordinal('103'), 'one hundred third');
  assert.equal(yearOrCardinal('1984'), 'nineteen eighty four');
  assert.equal(yearOrCardinal('1905'), 'nineteen oh five');
  assert.equal(yearOrCardinal('1900'), 'nineteen hundred');
  assert.equal(yearOrCardinal('2000'), 'two thousand');
  assert.equal(yearOrCardinal('2007'), 'two thousand seven');
  assert.equal(yearOrCardinal('3500'), 'three thousand five hundred');
});

test('cleanText expands numbers in context, lower-cases and collapses whitespace', () => {
  assert.equal(cleanText('On the 21st,  I paid $3.50'), 'on the twenty first, i paid three dollars and fifty cents');
  assert.equal(cleanText('Pi is 3.14.'), 'pi is three point one four.');
  assert.equal(cleanText('1,000,000 people in 1984'), 'one million people in nineteen eighty four');
  assert.equal(cleanText('50% of -5'), 'fifty percent of minus five');
  assert.equal(cleanText('At 9:05, 3:00 or 10:30.'), "at nine oh five, three o'clock or ten thirty.");
  assert.equal(cleanText("the 1990s and 80's, 3.5% of #2"), 'the nineteen nineties and eighties, three point five percent of number two');
});

test('cleanText expands abbreviations and normalises quotes and dashes', () => {
  assert.equal(cleanText('Mr. and Mrs. Smith met Dr. Who'), 'mister and misess smith met doctor who');
  assert.equal(cleanText('St. Paul lives on Main St.'), 'saint paul lives on main street');
  assert.equal(cleanText('No. 5, said no.'), 'number five, said no.');
  assert.equal(cleanText('\u201CIt\u2019s\u201D \u2014 caf\u00E9\u2026'), '"it\'s" - cafe...');
});

test('a CMUdict word becomes its first pronunciation with stress digits', () => {
  const { ids, unknown } = textToIds('speech', noBlank);
  assert.deepEqual(unknown, []);
  assert.deepEqual(idsToSymbols(ids, noBlank), ['S', 'P', 'IY1', 'CH']);
  // "read" has two pronunciations; the first entry wins.
  assert.deepEqual(lookupWord('read'), ['R', 'EH1', 'D']);
  assert.deepEqual(idsToSymbols(textToIds('Hello, world!', noBlank).ids, noBlank), [
    'HH',
    'AH0',
    'L',
    'OW1',
    ',',
    ' ',
    'W',
    'ER1',
    'L',
    'D',
    '!',
  ]);
});

test('out-of-dictionary words are spelled with letters', () => {
  const { ids, unknown } = textToIds('the zqxv', noBlank);
  assert.deepEqual(unknown, []);
  assert.deepEqual(idsToSymbols(ids, noBlank), ['DH', 'AH0', ' ', 'z', 'q', 'x', 'v']);
});

test('blanks are interleaved between tokens and at both ends, with id symbolCount-1', () => {
  const plain = textToIds('a cat').ids;
  assert.equal(plain.length % 2, 1);
  const blank = symbolCount(DEFAULT_TEXT) - 1;
  const inner = textToIds('a cat', noBlank).ids;
  assert.equal(plain.length, 2 * inner.length + 1);
  for (let i = 0; i < plain.length; i++) assert.equal(plain[i], i % 2 === 0 ? blank : inner[(i - 1) / 2]);
  assert.equal(idsToSymbols([blank])[0], '<blank>');
  assert.equal(symbolCount(noBlank), symbolCount(DEFAULT_TEXT) - 1);
});

test('all ids are ≥ 1 and < symbolCount in every mode', () => {
  for (const cfg of [DEFAULT_TEXT, noBlank, chars, { mode: 'characters', addBlank: true } as TextConfig]) {
    const { ids } = textToIds('Mr. O\'Neil, 42 "quotes"; (parens) - dash? yes: no!', cfg);
    assert.ok(ids.length > 0);
    for (const id of ids) assert.ok(id >= 1 && id < symbolCount(cfg), `id ${id} in ${cfg.mode}`);
  }
});

test('characters mode keeps letters, spaces and punctuation', () => {
  assert.equal(idsToSymbols(textToIds('Hi, 2 you.', chars).ids, chars).join(''), 'hi, two you.');
  assert.ok(symbolCount(chars) < symbolCount(noBlank));
});

test('unknown characters are reported once each and skipped', () => {
  const r = textToIds('a # b # c €', chars);
  assert.deepEqual(r.unknown, ['#', '€']);
  assert.equal(idsToSymbols(r.ids, chars).join(''), 'a b c');
});

test('text of only unknown symbols gives empty ids and the unknown list', () => {
  for (const cfg of [DEFAULT_TEXT, chars]) {
    const r = textToIds('#€ ©', cfg);
    assert.equal(r.ids.length, 0);
    assert.deepEqual(r.unknown, ['#', '€', '©']);
  }
  assert.equal(textToIds('', DEFAULT_TEXT).ids.length, 0);
});

test('idsToSymbols rejects ids outside the vocabulary', () => {
  assert.throws(() => idsToSymbols([symbolCount(chars)], chars), RangeError);
});

test('cleanText reads dates and a.m./p.m. times as such, not as numbers and slashes', () => {
  assert.equal(cleanText('12/05/2024 at 3pm'), 'december fifth, twenty twenty four at three p m');
  assert.equal(cleanText('Due 25/12/24.'), 'due december twenty fifth, twenty twenty four.', 'a first number > 12 is the day');
  assert.equal(cleanText('On 2024-01-09 at 9:05 p.m. Bring tea.'), 'on january ninth, twenty twenty four at nine oh five p m. bring tea.');
  assert.equal(cleanText('Meet at 10:30am, not 3 p.m. today'), 'meet at ten thirty a m, not three p m today');
  assert.equal(cleanText('13/13/2024'), 'thirteen / thirteen / twenty twenty four', 'no month 13: left to the number rules');
  assert.equal(cleanText('3/4 of them'), 'three / four of them', 'no year: not a date');
});
