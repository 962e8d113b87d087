/**
 * Monotonic alignment search (Glow-TTS, Kim et al. 2020, Alg. 1; Grad-TTS's `maximum_path`):
 * the monotonic, surjective assignment of mel frames to text tokens that maximises the summed
 * log-likelihood. Plain TypeScript over typed arrays, O(T_text · T_mel) time.
 */

/**
 * logp: row-major [tText, tMel] log-likelihood of frame j under token i.
 * Returns the token index of every frame (Int32Array [tMel]): non-decreasing, starting at 0 and
 * ending at tText − 1, each step +0 or +1, so every token gets ≥ 1 frame (needs tMel ≥ tText).
 * Ties prefer staying on the current token (as Grad-TTS's backtrack).
 * When tMel < tText no such path exists; frames are then spread evenly over the tokens
 * (frame j → token ⌊j·tText/tMel⌋) and some tokens get no frame.
 */
export function maximumPath(logp: Float32Array, tText: number, tMel: number): Int32Array {
  const path = new Int32Array(tMel);
  if (tText <= 0 || tMel <= 0) return path;
  if (tMel < tText) {
    for (let j = 0; j < tMel; j++) path[j] = Math.floor((j * tText) / tMel);
    return path;
  }
  // v[i, j]: best score of frames 0..j with frame j on token i. Only i ∈ [max(0, tText−tMel+j), min(tText−1, j)] are reachable.
  const v = new Float64Array(tText * tMel).fill(-Infinity);
  v[0] = logp[0]!;
  for (let j = 1; j < tMel; j++) {
    const lo = Math.max(0, tText - tMel + j);
    const hi = Math.min(tText - 1, j);
    for (let i = lo; i <= hi; i++) {
      const stay = v[i * tMel + j - 1]!;
      const move = i > 0 ? v[(i - 1) * tMel + j - 1]! : -Infinity;
      v[i * tMel + j] = Math.max(stay, move) + logp[i * tMel + j]!;
    }
  }
  let i = tText - 1;
  for (let j = tMel - 1; j >= 0; j--) {
    path[j] = i;
    if (j === 0) break;
    // move back a token when forced (i === j) or when coming from token i−1 scores strictly better
    if (i > 0 && (i === j || v[(i - 1) * tMel + j - 1]! > v[i * tMel + j - 1]!)) i--;
  }
  return path;
}

/** Frames per token (Int32Array [tText]) from a frame → token path. */
export function durationsFromPath(path: Int32Array, tText: number): Int32Array {
  const d = new Int32Array(tText);
  for (let j = 0; j < path.length; j++) d[path[j]!]!++;
  return d;
}

/** Frame → token path from integer durations (Σ durations frames). */
export function pathFromDurations(durations: ArrayLike<number>): Int32Array {
  let total = 0;
  for (let i = 0; i < durations.length; i++) total += durations[i]!;
  const path = new Int32Array(total);
  let j = 0;
  for (let i = 0; i < durations.length; i++) for (let k = 0; k < durations[i]!; k++) path[j++] = i;
  return path;
}
