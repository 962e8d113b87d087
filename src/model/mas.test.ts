import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { durationsFromPath, maximumPath, pathFromDurations } from './mas.js';

/** logp [tText, tMel] that is 0 on the given frame → token path and −10 elsewhere. */
function staircase(path: number[], tText: number): Float32Array {
  const tMel = path.length;
  const lp = new Float32Array(tText * tMel).fill(-10);
  path.forEach((i, j) => (lp[i * tMel + j] = 0));
  return lp;
}

function score(lp: Float32Array, path: ArrayLike<number>, tMel: number): number {
  let s = 0;
  for (let j = 0; j < tMel; j++) s += lp[path[j]! * tMel + j]!;
  return s;
}

/** Every monotonic surjective path (each step +0/+1, from 0 to tText−1), by enumeration. */
function allPaths(tText: number, tMel: number): number[][] {
  const out: number[][] = [];
  const rec = (p: number[]) => {
    if (p.length === tMel) {
      if (p[tMel - 1] === tText - 1) out.push([...p]);
      return;
    }
    const last = p[p.length - 1]!;
    for (const n of [last, last + 1]) if (n < tText) rec([...p, n]);
  };
  rec([0]);
  return out;
}

test('MAS recovers an obvious staircase', () => {
  const want = [0, 0, 0, 1, 2, 2, 3, 3, 3, 3];
  const got = maximumPath(staircase(want, 4), 4, 10);
  assert.deepEqual(Array.from(got), want);
  assert.deepEqual(Array.from(durationsFromPath(got, 4)), [3, 1, 2, 4]);
});

test('MAS with T_text = T_mel is the diagonal, whatever the scores', () => {
  const rng = new Rng(1);
  const lp = Float32Array.from(rng.normals(36), (v) => v * 5);
  assert.deepEqual(Array.from(maximumPath(lp, 6, 6)), [0, 1, 2, 3, 4, 5]);
});

test('MAS gives every token ≥ 1 frame even when one token explains all frames best', () => {
  // token 1 is the best match for every frame; tokens 0 and 2 must still get a frame each
  const tText = 3;
  const tMel = 7;
  const lp = new Float32Array(tText * tMel).fill(-5);
  for (let j = 0; j < tMel; j++) lp[1 * tMel + j] = 0;
  const got = Array.from(maximumPath(lp, tText, tMel));
  assert.deepEqual(got, [0, 1, 1, 1, 1, 1, 2]);
});

test('MAS ties: an all-equal matrix keeps frames on the current token (backtrack stays unless forced)', () => {
  // Backtracking from the last frame, a tie keeps the later token, so the first tokens get one frame each.
  const got = Array.from(maximumPath(new Float32Array(3 * 6), 3, 6));
  assert.deepEqual(got, [0, 1, 2, 2, 2, 2]);
});

test('MAS finds the best path (matches exhaustive search on random matrices)', () => {
  const rng = new Rng(2);
  for (const [tText, tMel] of [
    [3, 8],
    [4, 9],
    [5, 11],
    [1, 5],
    [2, 2],
  ] as const) {
    const lp = rng.normals(tText * tMel);
    const got = maximumPath(lp, tText, tMel);
    const best = Math.max(...allPaths(tText, tMel).map((p) => score(lp, p, tMel)));
    assert.ok(Math.abs(score(lp, got, tMel) - best) < 1e-9, `${tText}×${tMel}: ${score(lp, got, tMel)} vs best ${best}`);
    // structure: starts at 0, ends at tText−1, steps of 0 or 1
    assert.equal(got[0], 0);
    assert.equal(got[tMel - 1], tText - 1);
    for (let j = 1; j < tMel; j++) assert.ok(got[j]! - got[j - 1]! === 0 || got[j]! - got[j - 1]! === 1);
  }
});

test('MAS with fewer frames than tokens spreads frames evenly (no surjective path exists)', () => {
  const got = Array.from(maximumPath(new Float32Array(5 * 2), 5, 2));
  assert.deepEqual(got, [0, 2]);
});

test('pathFromDurations inverts durationsFromPath', () => {
  const d = [2, 1, 4, 1];
  const p = pathFromDurations(d);
  assert.deepEqual(Array.from(p), [0, 0, 1, 2, 2, 2, 2, 3]);
  assert.deepEqual(Array.from(durationsFromPath(p, 4)), d);
});
