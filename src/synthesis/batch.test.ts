/** longestFirst (batch.ts): a batch's sentences dealt to workers by decreasing symbol count, ties in text order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TEXT, textToIds } from '../text/index.js';
import { longestFirst } from './batch.js';

test('longestFirst: indices by decreasing symbol count, equal counts in text order, only the given indices', () => {
  const texts = ['Yes.', 'The quick brown fox jumps over the lazy dog.', 'No.', 'Thank you for calling, goodbye.', 'Ten.'];
  const lm = { textConfig: DEFAULT_TEXT };
  const n = texts.map((t) => textToIds(t, DEFAULT_TEXT).ids.length);
  assert.ok(n[1]! > n[3]! && n[3]! > n[0]!, `symbol counts ${n}`);
  const order = longestFirst(lm, texts, [0, 1, 2, 3, 4]);
  assert.deepEqual(order.slice(0, 2), [1, 3]);
  for (let i = 1; i < order.length; i++) {
    const [a, b] = [order[i - 1]!, order[i]!];
    assert.ok(n[a]! > n[b]! || (n[a] === n[b] && a < b), `order ${order} (counts ${n})`);
  }
  const some = longestFirst(lm, texts, [4, 0, 3]);
  assert.equal(some[0], 3);
  assert.deepEqual([...some].sort(), [0, 3, 4]);
});
