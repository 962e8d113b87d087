import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { MCD_DB, mcd } from './mcd.js';
import type { MelCepstra } from './mcep.js';

/** Random distinct frames of order 24 (so the diagonal is the only cheap alignment). */
function randomCepstra(frames: number, seed: number): MelCepstra {
  const rng = new Rng(seed);
  return { data: Float64Array.from({ length: frames * 25 }, () => rng.normal()), frames, order: 24 };
}

function map(c: MelCepstra, f: (t: number, k: number, v: number) => number, frames = c.frames, src = (t: number) => t): MelCepstra {
  const data = new Float64Array(frames * 25);
  for (let t = 0; t < frames; t++) for (let k = 0; k < 25; k++) data[t * 25 + k] = f(t, k, c.data[src(t) * 25 + k]!);
  return { data, frames, order: c.order };
}

test('MCD of cepstra with themselves is 0 on the diagonal path', () => {
  const c = randomCepstra(60, 1);
  const { mcd: d, alignment } = mcd(c, c);
  assert.equal(d, 0);
  assert.equal(alignment.path.length, 60);
  alignment.path.forEach(([i, j]) => assert.equal(i, j));
});

test('MCD of a time-stretched copy (frames repeated) is 0 and the path follows the stretch', () => {
  const c = randomCepstra(40, 2);
  const stretched = map(
    c,
    (_t, _k, v) => v,
    80,
    (t) => t >> 1,
  );
  const { mcd: d, alignment } = mcd(stretched, c);
  assert.equal(d, 0);
  assert.equal(alignment.path.length, 80);
  alignment.path.forEach(([i, j]) => assert.equal(j, i >> 1));
});

test('MCD ignores c0 (loudness) and equals (10/ln 10)·√(2·Σ Δc²) for a constant shift', () => {
  const c = randomCepstra(50, 3);
  assert.equal(
    mcd(
      map(c, (_t, k, v) => (k === 0 ? v + 5 : v)),
      c,
    ).mcd,
    0,
  );
  // Δc1 = 0.3, Δc7 = −0.4 in every frame → √(Σ Δc²) = 0.5
  const shifted = map(c, (_t, k, v) => v + (k === 1 ? 0.3 : k === 7 ? -0.4 : 0));
  const { mcd: d, alignment } = mcd(shifted, c);
  assert.equal(alignment.path.length, 50);
  assert.ok(Math.abs(d - MCD_DB * 0.5) < 1e-12, `${d} vs ${MCD_DB * 0.5}`);
  assert.ok(Math.abs(MCD_DB - 6.1418) < 1e-4); // the textbook 10√2/ln 10
});

test('MCD rejects cepstra of different orders', () => {
  assert.throws(() => mcd(randomCepstra(5, 4), { data: new Float64Array(5 * 13), frames: 5, order: 12 }), /orders differ/);
});
