import { test } from 'node:test';
import assert from 'node:assert/strict';
import { speechFixtures } from '../testing/paths.js';
import { findOnPath, normalizeWords, recognize, wordErrorRate } from './wer.js';

test('words are normalised: case, punctuation, apostrophes kept', () => {
  assert.deepEqual(normalizeWords("Mister John's  house, then -- LEISURE!"), ['mister', "john's", 'house', 'then', 'leisure']);
});

test('WER counts substitutions, deletions and insertions', () => {
  assert.deepEqual(wordErrorRate('the cat sat on the mat', 'the cat sat on the mat'), {
    wer: 0,
    substitutions: 0,
    deletions: 0,
    insertions: 0,
    refWords: 6,
    hypWords: 6,
  });
  const del = wordErrorRate('the cat sat on the mat', 'the cat sat on mat');
  assert.deepEqual([del.deletions, del.substitutions, del.insertions], [1, 0, 0]);
  assert.equal(del.wer, 1 / 6);
  const sub = wordErrorRate('The cat sat.', 'the dog sat');
  assert.deepEqual([sub.substitutions, sub.wer], [1, 1 / 3]);
  const ins = wordErrorRate('a b', 'a x b y');
  assert.deepEqual([ins.insertions, ins.wer], [2, 1]);
  const mixed = wordErrorRate('he might even have been made amiable himself', 'he might even have been made a real boy');
  // amiable→a, himself→real, +boy: 3 edits over 8 words
  assert.equal(mixed.wer, 3 / 8);
  assert.equal(wordErrorRate('', '').wer, 0);
  assert.equal(wordErrorRate('', 'x').wer, Infinity);
  assert.equal(wordErrorRate('a b c', '').wer, 1);
});

test('recognize returns null when the recogniser is not installed', async () => {
  assert.equal(await recognize(speechFixtures()[1]!.wav, { binary: 'no-such-recogniser-xyz', quiet: true }), null);
});

test('recognize transcribes a fixture when pocketsphinx is installed', {
  skip: findOnPath('pocketsphinx_continuous') ? false : 'pocketsphinx_continuous not installed',
}, async () => {
  const hyp = await recognize(speechFixtures()[1]!.wav);
  assert.ok(hyp !== null);
  const w = wordErrorRate('unless to be rather cold hearted and rather selfish is to be ill disposed', hyp);
  assert.ok(w.wer < 0.7, `WER ${w.wer} for '${hyp}'`);
  assert.match(hyp, /selfish/);
});
