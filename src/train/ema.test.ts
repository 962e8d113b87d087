import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { WeightEma } from './ema.js';

test('ema: follows the closed-form recursion with the warm-up decay min(d, (1+n)/(10+n))', () => {
  const w = tf.variable(tf.tensor1d([0, 10]), true, 'ema-test-w');
  const vars = new Map([['w', w]]);
  const ema = new WeightEma(vars, 0.9);
  const before = tf.memory().numTensors;
  let ref = [0, 10];
  for (let n = 0; n < 30; n++) {
    tf.tidy(() => w.assign(tf.tensor1d([n + 1, 10 - n])));
    ema.update(n);
    const d = Math.min(0.9, (1 + n) / (10 + n));
    ref = ref.map((r, i) => d * r + (1 - d) * [n + 1, 10 - n][i]!);
  }
  const got = ema.shadow.get('w')!.dataSync();
  ref.forEach((r, i) => assert.ok(Math.abs(got[i]! - r) < 1e-4, `${got[i]} vs ${r}`));
  assert.equal(tf.memory().numTensors, before, 'no tensor growth over updates');
  assert.equal(WeightEma.decayAt(0.999, 0), 0.1);
  assert.equal(WeightEma.decayAt(0.999, 1e6), 0.999);
  ema.dispose();
  w.dispose();
});

test('ema: withAverage puts the average in the model for the call and the trained weights back after', async () => {
  const w = tf.variable(tf.tensor1d([1, 2]), true, 'ema-test-w2');
  const vars = new Map([['w', w]]);
  const ema = new WeightEma(vars, 0.5);
  ema.assign(new Map([['w', { shape: [2], data: Float32Array.from([7, 8]) }]]));
  const before = tf.memory().numTensors;
  const seen = await ema.withAverage(async () => Array.from(w.dataSync()));
  assert.deepEqual(seen, [7, 8]);
  assert.deepEqual(Array.from(w.dataSync()), [1, 2]);
  assert.deepEqual(Array.from(ema.shadow.get('w')!.dataSync()), [7, 8]);
  await assert.rejects(
    ema.withAverage(async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(Array.from(w.dataSync()), [1, 2], 'restored after a throw too');
  assert.equal(tf.memory().numTensors, before);
  ema.dispose();
  w.dispose();
});
