import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { assertNoLeak } from '../testing/tensors.js';
import { depthToSpaceCrop } from './depth_to_space.js';

before(async () => {
  await tf.setBackend('wasm');
});

test('depthToSpaceCrop equals tf.depthToSpace + slice on cpu (exact), with and without a crop', async () => {
  const shape: [number, number, number, number] = [2, 3, 4, 12];
  const data = Float32Array.from({ length: 2 * 3 * 4 * 12 }, (_, i) => i);
  for (const [h, w] of [[6, 8], [5, 7], [6, 7]] as const) {
    await tf.setBackend('cpu');
    const want = tf.tidy(() => tf.slice(tf.depthToSpace(tf.tensor4d(data, shape), 2, 'NHWC'), [0, 0, 0, 0], [2, h, w, 3]).dataSync());
    await tf.setBackend('wasm');
    const got = await assertNoLeak(() => tf.tidy(() => depthToSpaceCrop(tf.tensor4d(data, shape), 2, h, w).dataSync()));
    assert.deepEqual(Array.from(got), Array.from(want), `${h}×${w}`);
  }
  assert.throws(() => tf.tidy(() => depthToSpaceCrop(tf.zeros([1, 2, 2, 4]), 2, 5, 4)), /cannot give/);
});
