import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../backend/index.js';
import { repoRoot } from '../testing/paths.js';
import { assertNoLeak } from '../testing/tensors.js';
import { LOSS_TYPES, elementwiseLoss, lossAt, type LossType } from './elementwise.js';

const BACKENDS = ['wasm', 'cpu'] as const;
before(async () => {
  await initBackend('wasm');
});

function values(type: LossType, r: number[], delta: number | tf.Tensor): number[] {
  return tf.tidy(() => Array.from(elementwiseLoss(type, tf.tensor1d(r), delta).dataSync()));
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

// Hand-computed points: [type, r, δ, expected]
const POINTS: [LossType, number, number, number][] = [
  ['l2', 3, 1, 9],
  ['l2', -0.5, 7, 0.25],
  ['l1', -3, 1, 3],
  ['huber', 0.5, 1, 0.125], // ½·0.25
  ['huber', 3, 1, 2.5], // 1·(3 − ½)
  ['huber', -2, 0.5, 0.875], // 0.5·(2 − 0.25)
  ['huber', 1, 1, 0.5], // boundary: both branches agree
  ['pseudo-huber', Math.sqrt(3), 1, 2], // 2·1·(√4 − 1)
  ['pseudo-huber', 1.2, 0.5, 0.8], // 2·0.5·(√1.69 − 0.5)
  ['pseudo-huber', 0, 2, 0],
  ['pseudo-huber-lcm', 1.2, 0.5, 0.8], // √1.69 − 0.5
  ['pseudo-huber-lcm', 4, 3, 2], // 5 − 3
  ['smooth-l1', 4, 3, 4], // 2·(5 − 3)
  ['smooth-l1', -4, 3, 4],
];

for (const backend of BACKENDS) {
  test(`[${backend}] element-wise losses equal hand-computed values`, async () => {
    await tf.setBackend(backend);
    for (const [type, r, d, want] of POINTS) {
      close(values(type, [r], d)[0]!, want, 1e-5 * Math.max(1, want), `${type}(r=${r}, δ=${d})`);
      close(lossAt(type, r, d), want, 1e-12 * Math.max(1, want), `lossAt ${type}(r=${r}, δ=${d})`);
    }
  });

  test(`[${backend}] pseudo-Huber → r² as δ → ∞ (float32, no cancellation)`, async () => {
    await tf.setBackend(backend);
    const r = [0.01, 0.1, -1, 10];
    for (const d of [1e3, 1e4, 1e6]) {
      const got = values('pseudo-huber', r, d);
      // exact ratio to r² is 2δ/(√(r²+δ²)+δ) ≥ 1 − r²/(4δ²) ≥ 1 − 2.5e-5 here
      r.forEach((ri, i) => close(got[i]!, ri * ri, 3e-5 * ri * ri, `pseudo-huber(r=${ri}, δ=${d})`));
    }
    // the naive 2δ(√(r²+δ²) − δ) in float32 would give 0 here
    close(values('pseudo-huber', [0.1], 1e4)[0]!, 0.01, 1e-7, 'pseudo-huber(0.1, 1e4)');
  });

  test(`[${backend}] pseudo-Huber → 2δ|r| for |r| ≫ δ`, async () => {
    await tf.setBackend(backend);
    const d = 1e-3;
    const r = [0.5, -1, 3, 100];
    const got = values('pseudo-huber', r, d);
    // 2δ(√(r²+δ²) − δ) = 2δ|r| − 2δ² + O(δ³/|r|)
    r.forEach((ri, i) => close(got[i]!, 2 * d * Math.abs(ri), 2 * d * d * 1.01 + 1e-6 * Math.abs(ri) * d, `pseudo-huber(r=${ri}, δ=${d})`));
  });

  test(`[${backend}] gradients equal the analytic derivatives and finite differences`, async () => {
    await tf.setBackend(backend);
    const r = [-50, -3, -1.2, -0.4, -0.01, 0.01, 0.3, 0.9, 2.5, 40];
    const d = 0.7;
    const analytic: Partial<Record<LossType, (x: number) => number>> = {
      l2: (x) => 2 * x,
      huber: (x) => Math.max(-d, Math.min(d, x)),
      'pseudo-huber': (x) => (2 * d * x) / Math.hypot(x, d),
      'pseudo-huber-lcm': (x) => x / Math.hypot(x, d),
      'smooth-l1': (x) => (2 * x) / Math.hypot(x, d),
      l1: (x) => Math.sign(x),
    };
    await assertNoLeak(() => {
      for (const type of LOSS_TYPES) {
        const g = tf.tidy(() =>
          Array.from(
            tf
              .grad((x: tf.Tensor) => tf.sum(elementwiseLoss(type, x, d)))(tf.tensor1d(r))
              .dataSync(),
          ),
        );
        r.forEach((x, i) => {
          close(g[i]!, analytic[type]!(x), 2e-5, `∂${type}/∂r at r=${x}`);
          const h = 1e-6;
          const fd = (lossAt(type, x + h, d) - lossAt(type, x - h, d)) / (2 * h);
          close(g[i]!, fd, 1e-4, `finite difference of ${type} at r=${x}`);
        });
      }
    }, 'gradients');
  });

  test(`[${backend}] pseudo-Huber gradient is bounded by 2δ`, async () => {
    await tf.setBackend(backend);
    const r = Array.from({ length: 401 }, (_, i) => -1000 + 5 * i);
    for (const d of [0.01, 0.5, 3]) {
      const g = tf.tidy(() =>
        Array.from(
          tf
            .grad((x: tf.Tensor) => tf.sum(elementwiseLoss('pseudo-huber', x, d)))(tf.tensor1d(r))
            .dataSync(),
        ),
      );
      for (const gi of g) assert.ok(Math.abs(gi) <= 2 * d * (1 + 1e-6), `|grad| ${gi} > 2δ = ${2 * d}`);
      assert.ok(Math.abs(g[g.length - 1]!) > 2 * d * 0.999, 'far from 0 the gradient approaches 2δ');
    }
  });

  test(`[${backend}] δ tensor broadcasts per sample ([B,1,1] against [B,F,T]) without leaks`, async () => {
    await tf.setBackend(backend);
    await assertNoLeak(() => {
      const got = tf.tidy(() => {
        const r = tf.fill([2, 3, 4], 1.2);
        const d = tf.tensor3d([0.5, 2], [2, 1, 1]);
        return elementwiseLoss('pseudo-huber', r, d).arraySync() as number[][][];
      });
      for (const row of got[0]!) for (const v of row) close(v, lossAt('pseudo-huber', 1.2, 0.5), 1e-5, 'sample 0');
      for (const row of got[1]!) for (const v of row) close(v, lossAt('pseudo-huber', 1.2, 2), 1e-5, 'sample 1');
    }, 'broadcast');
  });
}

/** PyTorch 1.13 values and autograd gradients (src/loss/torch-reference.py writes the file). */
const TORCH = JSON.parse(readFileSync(join(repoRoot, 'src', 'loss', 'torch-reference.json'), 'utf8')) as {
  r: number[];
  delta: number[];
  loss: Record<LossType, number[][]>;
  grad: Record<LossType, number[][]>;
};

for (const backend of BACKENDS) {
  test(`[${backend}] values and gradients agree with PyTorch (huber_loss and the diffusers formulas)`, async () => {
    await tf.setBackend(backend);
    await assertNoLeak(() => {
      for (const type of LOSS_TYPES) {
        TORCH.delta.forEach((d, k) => {
          const [v, g] = tf.tidy(() => {
            const f = (x: tf.Tensor) => tf.sum(elementwiseLoss(type, x, d));
            const r = tf.tensor1d(TORCH.r);
            return [Array.from(elementwiseLoss(type, r, d).dataSync()), Array.from(tf.grad(f)(r).dataSync())];
          });
          TORCH.r.forEach((r, i) => {
            const want = TORCH.loss[type][k]![i]!;
            close(v[i]!, want, 2e-6 * Math.max(1, Math.abs(want)), `${type}(r=${r}, δ=${d}) vs torch`);
            close(g[i]!, TORCH.grad[type][k]![i]!, 2e-6 * Math.max(1, Math.abs(r)), `∂${type}(r=${r}, δ=${d}) vs torch`);
            close(lossAt(type, r, d), want, 1e-12 * Math.max(1, Math.abs(want)), `lossAt ${type}(r=${r}, δ=${d}) vs torch`);
          });
        });
      }
    }, 'torch comparison');
  });
}
