import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { parseLossConfig } from './config.js';
import { maskedMean, perSampleMaskedMean } from './reduce.js';
import { diffusionLoss } from './diffusion.js';
import { lossAt } from './elementwise.js';
import { deltaAt, type VpSde } from './schedule.js';

const SDE: VpSde = { beta0: 0.05, beta1: 20 };

before(async () => {
  await initBackend('wasm');
});

// B = 2, F = 2, T = 3; sample 0 has 3 valid frames, sample 1 has 1.
const L = [
  [
    [1, 2, 3],
    [4, 5, 6],
  ],
  [
    [10, 99, 99],
    [20, 99, 99],
  ],
];
const M = [[[1, 1, 1]], [[1, 0, 0]]];

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`[${backend}] masked means equal Σ(loss·mask)/(Σmask·F), per batch and per sample`, async () => {
    await tf.setBackend(backend);
    await assertNoLeak(() => {
      const [m, ps] = tf.tidy(() => {
        const l = tf.tensor3d(L);
        const k = tf.tensor3d(M);
        return [maskedMean(l, k).dataSync()[0]!, Array.from(perSampleMaskedMean(l, k).dataSync())];
      });
      close(m, (21 + 30) / (4 * 2), 1e-5, 'maskedMean');
      close(ps[0]!, 21 / 6, 1e-5, 'sample 0');
      close(ps[1]!, 30 / 2, 1e-5, 'sample 1');
    }, 'masked means');
  });

  test(`[${backend}] padding does not matter and an empty mask gives 0`, async () => {
    await tf.setBackend(backend);
    const other = structuredClone(L);
    other[1]![0]![2] = -1e6;
    other[1]![1]![1] = 12345;
    const a = tf.tidy(() => maskedMean(tf.tensor3d(L), tf.tensor3d(M)).dataSync()[0]!);
    const b = tf.tidy(() => maskedMean(tf.tensor3d(other), tf.tensor3d(M)).dataSync()[0]!);
    assert.equal(a, b);
    const z = tf.tidy(() => maskedMean(tf.tensor3d(L), tf.zeros([2, 1, 3])).dataSync()[0]!);
    assert.equal(z, 0);
  });

  test(`[${backend}] maskedMean with the whole batch's denominator: the items' results sum to the batch mean`, async () => {
    await tf.setBackend(backend);
    const whole = tf.tidy(() => maskedMean(tf.tensor3d(L), tf.tensor3d(M)).dataSync()[0]!);
    const den = tf.tidy(() => tf.sum(tf.tensor3d(M)).dataSync()[0]! * L[0]!.length);
    const parts = [0, 1].map((b) => tf.tidy(() => maskedMean(tf.tensor3d([L[b]!]), tf.tensor3d([M[b]!]), den).dataSync()[0]!));
    assert.ok(Math.abs(parts[0]! + parts[1]! - whole) < 1e-6 * Math.abs(whole), `${parts} vs ${whole}`);
    assert.ok(
      parts.every((p) => p !== whole),
      'each part is a share, not a mean of its own',
    );
  });

  test(`[${backend}] diffusionLoss: l2 equals Grad-TTS's formula; pseudo-Huber uses δ(t) per sample; gradient flows`, async () => {
    await tf.setBackend(backend);
    const r = [
      [
        [0.5, -1, 2],
        [0.1, 3, -0.2],
      ],
      [
        [-2, 7, 7],
        [1, 7, 7],
      ],
    ];
    const t = [0.2, 0.8];
    await assertNoLeak(() => {
      const l2 = parseLossConfig({ type: 'l2' }, 'test');
      const out = tf.tidy(() => {
        const { loss, delta } = diffusionLoss(l2, SDE, tf.tensor3d(r), tf.tensor3d(M), tf.tensor1d(t));
        return [loss.dataSync()[0]!, delta.shape[0]] as const;
      });
      const want = (0.25 + 1 + 4 + 0.01 + 9 + 0.04 + 4 + 1) / (4 * 2);
      close(out[0], want, 1e-5, 'l2 diffusion loss');
      assert.equal(out[1], 2);

      const ph = parseLossConfig({ type: 'pseudo-huber', schedule: 'exponential', c: 0.1 }, 'test');
      const [lv, dv] = tf.tidy(() => {
        const { loss, delta } = diffusionLoss(ph, SDE, tf.tensor3d(r), tf.tensor3d(M), tf.tensor1d(t));
        return [loss.dataSync()[0]!, Array.from(delta.dataSync())];
      });
      const d0 = deltaAt(ph, 0.2, SDE);
      const d1 = deltaAt(ph, 0.8, SDE);
      close(dv[0]!, d0, 1e-6, 'δ sample 0');
      close(dv[1]!, d1, 1e-6, 'δ sample 1');
      const s0 = [0.5, -1, 2, 0.1, 3, -0.2].reduce((a, x) => a + lossAt('pseudo-huber', x, d0), 0);
      const s1 = [-2, 1].reduce((a, x) => a + lossAt('pseudo-huber', x, d1), 0);
      close(lv, (s0 + s1) / 8, 1e-5, 'pseudo-Huber diffusion loss');

      // the gradient w.r.t. padded cells is exactly 0
      const g = tf.tidy(() => {
        const f = (x: tf.Tensor) => {
          const { loss, delta } = diffusionLoss(ph, SDE, x as tf.Tensor3D, tf.tensor3d(M), tf.tensor1d(t));
          delta.dispose();
          return loss;
        };
        return tf.grad(f)(tf.tensor3d(r)).arraySync() as number[][][];
      });
      assert.equal(g[1]![0]![1], 0);
      assert.equal(g[1]![1]![2], 0);
      close(g[0]![0]![0]!, (2 * d0 * 0.5) / Math.hypot(0.5, d0) / 8, 1e-6, 'gradient at a valid cell');
    }, 'diffusionLoss');
  });
}
