import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { dtw, dtwMatrix } from './dtw.js';

/** Minimal path cost by exhaustive recursion over all monotone paths (small n, m only). */
function bruteForce(C: number[][], i: number, j: number): number {
  if (i === 0 && j === 0) return C[0]![0]!;
  const opts: number[] = [];
  if (i > 0 && j > 0) opts.push(bruteForce(C, i - 1, j - 1));
  if (i > 0) opts.push(bruteForce(C, i - 1, j));
  if (j > 0) opts.push(bruteForce(C, i, j - 1));
  return C[i]![j]! + Math.min(...opts);
}

test('identical sequences align on the diagonal at zero cost', () => {
  const a = [1, 5, 2, 8, 3];
  const r = dtw(a.length, a.length, (i, j) => Math.abs(a[i]! - a[j]!));
  assert.equal(r.cost, 0);
  assert.deepEqual(
    r.path,
    a.map((_, i) => [i, i]),
  );
});

test('a time-stretched copy (each element repeated twice) is found at zero cost', () => {
  const a = [1, 5, 2, 8, 3, 9];
  const b = a.flatMap((v) => [v, v]);
  const r = dtw(b.length, a.length, (i, j) => Math.abs(b[i]! - a[j]!));
  assert.equal(r.cost, 0);
  assert.equal(r.path.length, b.length);
  r.path.forEach(([i, j]) => assert.equal(j, Math.floor(i / 2), `pair ${i},${j}`));
});

test('the path cost is the minimum over all monotone paths (random matrices vs brute force)', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 2 + rng.int(5);
    const m = 2 + rng.int(5);
    const C = Array.from({ length: n }, () => Array.from({ length: m }, () => rng.uniform()));
    const r = dtwMatrix(C.flat(), n, m);
    assert.ok(Math.abs(r.cost - bruteForce(C, n - 1, m - 1)) < 1e-12, `trial ${trial}`);
    // the path is valid and its cells add up to the reported cost
    assert.deepEqual(r.path[0], [0, 0]);
    assert.deepEqual(r.path[r.path.length - 1], [n - 1, m - 1]);
    let s = 0;
    r.path.forEach(([i, j], k) => {
      s += C[i]![j]!;
      if (k > 0) {
        const [pi, pj] = r.path[k - 1]!;
        assert.ok(i - pi <= 1 && j - pj <= 1 && i + j > pi + pj, 'steps of (1,0), (0,1) or (1,1)');
      }
    });
    assert.ok(Math.abs(s - r.cost) < 1e-12);
    assert.ok(Math.abs(r.meanCost - r.cost / r.path.length) < 1e-15);
  }
});

test('empty sequences and wrong matrix sizes are refused', () => {
  assert.throws(() => dtw(0, 3, () => 0), /non-empty/);
  assert.throws(() => dtwMatrix([1, 2, 3], 2, 2), /2×2/);
});
