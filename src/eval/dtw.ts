/**
 * Dynamic time warping between two sequences of lengths n and m.
 *
 * Steps (i−1, j), (i, j−1), (i−1, j−1), each adding the local cost of the cell it enters (weight 1),
 * from (0, 0) to (n−1, m−1). The accumulated cost of the best path is returned with the path itself,
 * so callers can average any per-pair quantity over the aligned pairs.
 */

export interface DtwResult {
  /** Aligned index pairs [i, j], from [0, 0] to [n−1, m−1], monotone in both. */
  path: [number, number][];
  /** Sum of the local costs along the path. */
  cost: number;
  /** cost / path length: the mean local cost per aligned pair. */
  meanCost: number;
}

/**
 * DTW over a local cost given as a function (computed once per cell, O(n·m) time and memory).
 * @param cost local cost of aligning element i of the first sequence with element j of the second (≥ 0)
 * @throws Error for an empty sequence
 */
export function dtw(n: number, m: number, cost: (i: number, j: number) => number): DtwResult {
  if (n <= 0 || m <= 0) throw new Error(`dtw: sequences must be non-empty (got lengths ${n} and ${m})`);
  const C = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) C[i * m + j] = cost(i, j);
  return dtwMatrix(C, n, m);
}

/** DTW over a row-major local cost matrix C [n, m]. */
export function dtwMatrix(C: ArrayLike<number>, n: number, m: number): DtwResult {
  if (n <= 0 || m <= 0) throw new Error(`dtw: sequences must be non-empty (got lengths ${n} and ${m})`);
  if (C.length !== n * m) throw new Error(`dtw: cost matrix has ${C.length} values, expected ${n}×${m}`);
  const D = new Float64Array(n * m);
  // back-pointers: 0 diagonal, 1 from above (i−1), 2 from the left (j−1)
  const from = new Uint8Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const c = C[i * m + j]!;
      if (i === 0 && j === 0) {
        D[0] = c;
        continue;
      }
      const diag = i > 0 && j > 0 ? D[(i - 1) * m + j - 1]! : Infinity;
      const up = i > 0 ? D[(i - 1) * m + j]! : Infinity;
      const left = j > 0 ? D[i * m + j - 1]! : Infinity;
      // prefer the diagonal on ties so equal sequences align one-to-one
      let best = diag;
      let k = 0;
      if (up < best) {
        best = up;
        k = 1;
      }
      if (left < best) {
        best = left;
        k = 2;
      }
      D[i * m + j] = best + c;
      from[i * m + j] = k;
    }
  }
  const path: [number, number][] = [];
  let i = n - 1;
  let j = m - 1;
  for (;;) {
    path.push([i, j]);
    if (i === 0 && j === 0) break;
    if (i === 0) j--;
    else if (j === 0) i--;
    else {
      const k = from[i * m + j];
      if (k === 0) {
        i--;
        j--;
      } else if (k === 1) i--;
      else j--;
    }
  }
  path.reverse();
  const cost = D[n * m - 1]!;
  return { path, cost, meanCost: cost / path.length };
}
