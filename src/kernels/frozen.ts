/**
 * Weights that stay fixed for a while (a synthesis: the same decoder weights at every diffusion
 * step), so kernels may keep what they derive from them — the Winograd kernels' transformed,
 * packed filters (winograd.ts) — instead of recomputing it per call (~0.5 s of a 10-sentence file's
 * 15 s, issue #24). Kernels key such caches by a weight's dataId: tfjs gives every new tensor data
 * a new dataId object, and Variable.assign moves a variable to new data, so a cached entry can only
 * be stale if a weight's data were overwritten in place inside the scope, which the caller rules out.
 * Everything kept is freed when the outermost scope ends.
 */
import type * as tf from '@tensorflow/tfjs';

let frozen: Set<object> | null = null;
let depth = 0;
const onEnd: (() => void)[] = [];

/**
 * Runs `fn` with `weights` declared unchanging until it settles (scopes nest; the caches are freed
 * when the outermost one ends). The caller must not change these tensors' data meanwhile.
 */
export async function withFrozenWeights<T>(weights: Iterable<tf.Tensor>, fn: () => Promise<T>): Promise<T> {
  if (depth++ === 0) frozen = new Set();
  for (const w of weights) frozen!.add(w.dataId);
  try {
    return await fn();
  } finally {
    if (--depth === 0) {
      frozen = null;
      for (const free of onEnd.splice(0)) free();
    }
  }
}

/** Whether tensor data `dataId` is a weight of an open scope (so derived data may be kept until it ends). */
export function isFrozen(dataId: object): boolean {
  return frozen?.has(dataId) === true;
}

/** Registers what frees data kept for a frozen weight; runs when the outermost scope ends. */
export function freeAtScopeEnd(free: () => void): void {
  if (depth === 0) throw new Error('freeAtScopeEnd outside withFrozenWeights');
  onEnd.push(free);
}
