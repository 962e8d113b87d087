import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusWer } from './intelligibility.js';
import { wordErrorRate } from './wer.js';

test('corpusWer: total errors over total reference words, not the mean of sentence rates', () => {
  const rows = [
    wordErrorRate('press one', 'press two'),
    wordErrorRate('your call cannot be completed as dialed today', 'your call cannot be completed as dialed today'),
  ];
  assert.equal(rows[0]!.wer, 0.5);
  assert.equal(rows[1]!.wer, 0);
  assert.equal(corpusWer(rows), 1 / 10); // the mean of rates would be 0.25
  assert.equal(corpusWer([]), null);
  assert.equal(corpusWer([wordErrorRate('', '')]), null);
});
