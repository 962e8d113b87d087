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
