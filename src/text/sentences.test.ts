import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitPieces, splitSentences } from './sentences.js';
import { Rng } from '../util/rng.js';

test('splitSentences: sentence ends, not abbreviations, initials or decimals; paragraphs; whitespace collapsed', () => {
  assert.deepEqual(splitSentences('Hello there.  How are you?\nFine!', 100), ['Hello there.', 'How are you?', 'Fine!']);
  assert.deepEqual(splitSentences('Dr. Smith paid $3.50 to J. R. Jones. "Really?" she asked.', 100), [
    'Dr. Smith paid $3.50 to J. R. Jones.',
    '"Really?"',
    'she asked.',
  ]);
  assert.deepEqual(splitSentences('first paragraph without a stop\n\nsecond one', 100), ['first paragraph without a stop', 'second one']);
  assert.deepEqual(splitSentences('Wait... what?! Yes.', 100), ['Wait...', 'what?!', 'Yes.']);
  assert.deepEqual(splitSentences(' \n\t ', 10), []);
});

test('splitSentences: an over-long sentence is cut at clauses, then words, then inside a word', () => {
  const s = 'one two three, four five six; seven eight nine';
  assert.deepEqual(splitSentences(s, 20), ['one two three,', 'four five six;', 'seven eight nine']);
  assert.deepEqual(splitSentences('aaaa bbbb cccc dddd', 9), ['aaaa bbbb', 'cccc dddd']);
  assert.deepEqual(splitSentences('abcdefghij', 4), ['abcd', 'efgh', 'ij']);
  assert.deepEqual(
    splitPieces('aa bb cc. dd', 5).map((p) => p.sentenceEnd),
    [false, true, true],
    'only the last piece of a sentence ends it',
  );
});

test('splitSentences: on random text every piece is within the bound, none is empty, nothing is lost', () => {
  const rng = new Rng(7);
  const alphabet = ['a', 'b', 'c', ' ', ' ', '. ', ', ', '; ', '! ', '\n', '\n\n', 'Mr. ', '3.5', '😀', '\u0000', ' - '];
  for (let trial = 0; trial < 200; trial++) {
    const n = rng.int(400);
    const text = Array.from({ length: n }, () => alphabet[rng.int(alphabet.length)]).join('');
    const max = 1 + rng.int(60);
    const pieces = splitSentences(text, max);
    for (const p of pieces) {
      assert.ok(p.length >= 1 && p.length <= max, `piece ${JSON.stringify(p)} of ${p.length} > ${max}`);
      assert.equal(p, p.trim());
    }
    // words are kept in order: removing all whitespace gives the same characters
    assert.equal(pieces.join('').replace(/\s+/g, ''), text.replace(/\s+/g, ''));
  }
});
