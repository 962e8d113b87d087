/**
 * Frozen weights (frozen.ts) under the Winograd kernels (winograd.ts): inside a scope a filter's
 * packed transform is made once and reused — forward and input-gradient values stay bit for bit
 * those computed outside any scope — a weight assigned new values inside the scope is transformed
 * afresh (its data is new), and the kept buffers are freed when the outermost scope ends.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '../util/rng.js';
import { registerFastWasmKernels } from './register.js';
import { isFrozen, withFrozenWeights } from './frozen.js';
import { setWinogradMode } from './winograd.js';

before(async () => {
  await tf.setBackend('wasm');
  registerFastWasmKernels();
});

const rng = new Rng(77);
const normals = (n: number) => Float32Array.from(rng.normals(n));
const dataIds = () => tf.engine().backend.numDataIds();

/** y = conv(x, w) and dx of ⟨y, r⟩ (the input gradient runs the flipped filter) as arrays. */
function run(x: tf.Tensor4D, w: tf.Variable<tf.Rank.R4>, r: tf.Tensor4D): Float32Array[] {
  return tf.tidy(() => {
    const y = tf.conv2d(x, w, 1, 'same');
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, w, 1, 'same'), r)))(x);
    return [y.dataSync() as Float32Array, dx.dataSync() as Float32Array];
  });
}

for (const variant of [2, 4] as const) {
  test(`frozen weights: F${variant} filters kept within a scope give the same values and are freed after it`, async () => {
    setWinogradMode(variant);
    try {
      const x = tf.tensor4d(normals(1 * 12 * 20 * 8), [1, 12, 20, 8]);
      const r = tf.tensor4d(normals(1 * 12 * 20 * 16), [1, 12, 20, 16]);
      const w0 = tf.tensor4d(normals(3 * 3 * 8 * 16), [3, 3, 8, 16]);
      const w = tf.variable(w0);
      w0.dispose(); // the variable holds the data alone (an assign then frees it)
      const ref = run(x, w, r);
      const base = dataIds();
      const inside = await withFrozenWeights([w], async () => {
        assert.ok(isFrozen(w.dataId));
        const first = run(x, w, r);
        const kept = dataIds() - base;
        assert.equal(kept, 2, 'one kept packed filter per pass (forward, flipped for dx)');
        const second = run(x, w, r);
        assert.equal(dataIds() - base, kept, 'the second run reuses the kept filters');
        // new values: new data, transformed afresh (a stale cache would give the old values)
        const scaled = (f: number) => {
          const t = tf.mul(w, f) as tf.Tensor4D;
          w.assign(t);
          t.dispose();
        };
        scaled(2);
        const doubled = run(x, w, r);
        scaled(0.5);
        return { first, second, doubled };
      });
      assert.equal(dataIds(), base, 'kept filters freed at the end of the scope');
      assert.equal(isFrozen(w.dataId), false);
      for (const got of [inside.first, inside.second])
        for (let k = 0; k < 2; k++) assert.deepEqual(got[k], ref[k], 'kept filters change no value');
      for (let k = 0; k < 2; k++) {
        const d = inside.doubled[k]!;
        let worst = 0;
        for (let i = 0; i < d.length; i++) worst = Math.max(worst, Math.abs(d[i]! - 2 * ref[k]![i]!));
        assert.ok(worst < 1e-4, `assigned weights used (max |Δ| ${worst})`);
      }
      tf.dispose([x, r, w]);
    } finally {
      setWinogradMode('auto');
    }
  });
}
