/** Test helper: asserts that a tfjs computation leaves no tensors behind. */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';

export async function assertNoLeak<T>(fn: () => T | Promise<T>, what = 'computation'): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  assert.equal(after, before, `${what} leaked ${after - before} tensors`);
  return out;
}

/**
 * Asserts that every named gradient in `got` equals `ref`'s within max |Δ| ≤ rtol · max |g_ref| + 1e-6
 * (per weight). Returns the weight whose relative difference is largest.
 */
export function assertGradsClose(
  got: Map<string, Float32Array>,
  ref: Map<string, Float32Array>,
  rtol: number,
): { name: string; rel: number } {
  assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort());
  let worst = { name: '', rel: 0 };
  for (const [name, gr] of ref) {
    const g = got.get(name)!;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < gr.length; i++) {
      scale = Math.max(scale, Math.abs(gr[i]!));
      diff = Math.max(diff, Math.abs(gr[i]! - g[i]!));
    }
    assert.ok(diff <= rtol * scale + 1e-6, `${name}: gradients differ by ${diff} (scale ${scale})`);
    if (scale > 0 && diff / scale > worst.rel) worst = { name, rel: diff / scale };
  }
  return worst;
}
