import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apportion, computeSplit, DEFAULT_MIN_PER_SPEAKER } from './split.js';

const ids20 = Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(2, '0')}`);

test('single-speaker splits are exactly the pre-speaker ones (pinned from the earlier implementation)', () => {
  const before = {
    test: ['u01', 'u03', 'u05', 'u06', 'u10'],
    valid: ['u04', 'u07', 'u14', 'u17'],
    train: ['u00', 'u02', 'u08', 'u09', 'u11', 'u12', 'u13', 'u15', 'u16', 'u18', 'u19'],
  };
  const seeded = {
    test: ['u00', 'u06', 'u07', 'u09', 'u19'],
    valid: ['u02', 'u03', 'u04'],
    train: ['u01', 'u05', 'u08', 'u10', 'u11', 'u12', 'u13', 'u14', 'u15', 'u16', 'u17', 'u18'],
  };
  for (const speakers of [
    undefined,
    new Map<string, string | null>(),
    new Map(ids20.map((id) => [id, 'allison'])),
    new Map(ids20.map((id) => [id, null])),
  ]) {
    assert.deepEqual(computeSplit(ids20, { speakers }), before);
    assert.deepEqual(computeSplit(ids20, { seed: 99, valid: 3, test: 5, speakers }), seeded);
  }
});

test('apportion: largest remainders, ties to the earlier index, sums to the total', () => {
  assert.deepEqual(apportion(10, [50, 30, 20]), [5, 3, 2]);
  assert.deepEqual(apportion(4, [1, 1, 1]), [2, 1, 1]);
  assert.deepEqual(apportion(7, [100, 10, 1]), [6, 1, 0]); // 6.306, 0.631, 0.063
  assert.deepEqual(apportion(3, [0, 0]), [0, 0]);
});

test('multi-speaker splits: every speaker with enough rows in every split, proportional, deterministic per seed', () => {
  // 3 speakers: 120, 40 and 12 rows, plus one with 5 (below the minimum) — 177 rows.
  const sizes: [string, number][] = [
    ['anna', 120],
    ['ben', 40],
    ['cy', 12],
    ['dot', 5],
  ];
  const speakers = new Map<string, string | null>();
  for (const [s, n] of sizes) for (let i = 0; i < n; i++) speakers.set(`${s}-${String(i).padStart(3, '0')}`, s);
  const ids = [...speakers.keys()];
  const split = computeSplit(ids, { speakers });
  const count = (list: string[], s: string) => list.filter((id) => speakers.get(id) === s).length;
  // Defaults on 177 rows: test max(8, 7) = 8, valid max(4, 4) = 4; shares 120:40:12:5.
  assert.deepEqual(
    sizes.map(([s]) => count(split.test, s)),
    [5, 2, 1, 0],
  ); // apportion(8) = 5.42, 1.81, 0.54, 0.23 → 5, 2, 1, 0
  assert.deepEqual(
    sizes.map(([s]) => count(split.valid, s)),
    [3, 1, 1, 0],
  ); // apportion(4) = 2.71, 0.90, 0.27, 0.11 → 3, 1, 0, 0, then cy (12 ≥ 10) gets 1
  assert.deepEqual(
    sizes.map(([s]) => count(split.train, s)),
    [112, 37, 10, 5],
  );
  assert.equal(DEFAULT_MIN_PER_SPEAKER, 10);
  // A partition of the ids, sorted, deterministic, and changed by the seed.
  assert.deepEqual([...split.train, ...split.valid, ...split.test].sort(), [...ids].sort());
  for (const l of Object.values(split)) assert.deepEqual(l, [...l].sort());
  assert.deepEqual(computeSplit([...ids].reverse(), { speakers }), split, 'independent of row order');
  assert.notDeepEqual(computeSplit(ids, { speakers, seed: 5 }).test, split.test);
  // Each speaker's share is the head of its own sha256 order: the same as splitting that speaker alone.
  const anna = ids.filter((id) => speakers.get(id) === 'anna');
  assert.deepEqual(
    computeSplit(anna, { valid: 3, test: 5 }).test,
    split.test.filter((id) => speakers.get(id) === 'anna'),
  );
  // A lower minimum brings the 5-row speaker into valid and test too.
  const low = computeSplit(ids, { speakers, minPerSpeaker: 3 });
  assert.deepEqual([count(low.test, 'dot'), count(low.valid, 'dot'), count(low.train, 'dot')], [1, 1, 3]);
});
