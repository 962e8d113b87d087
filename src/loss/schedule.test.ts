import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { parseLossConfig, type LossConfig } from './config.js';
import { deltaAt, deltaTensor, integralBeta, vpSigma, type VpSde } from './schedule.js';

/** Grad-TTS's SDE (the model configs' beta0, beta1). */
const SDE: VpSde = { beta0: 0.05, beta1: 20 };

before(async () => {
  await initBackend('wasm');
});

const cfg = (o: object): LossConfig => parseLossConfig({ type: 'pseudo-huber', ...o }, 'test');
const grid = Array.from({ length: 21 }, (_, i) => i / 20);

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

test('VP-SDE integral and σ(t) match closed forms', () => {
  close(integralBeta(1, 0.05, 20), 0.05 + 0.5 * 19.95, 1e-12, '∫β(1)');
  close(integralBeta(0.5, 0.05, 20), 0.025 + 0.5 * 19.95 * 0.25, 1e-12, '∫β(0.5)');
  assert.equal(vpSigma(0, 0.05, 20), 0);
  close(vpSigma(1, 0.05, 20), Math.sqrt(Math.exp(10.025) - 1), 1e-9, 'σ(1)');
});

test('constant schedule is c everywhere, times scale', () => {
  for (const t of grid) {
    assert.equal(deltaAt(cfg({ c: 0.3 }), t, SDE), 0.3);
    close(deltaAt(cfg({ c: 0.3, scale: 2 }), t, SDE), 0.6, 1e-15, 'scaled');
  }
});

test('exponential schedule: δ(0) = 1, δ(1) = c, δ(½) = √c, monotone', () => {
  for (const c of [0.01, 0.1, 5]) {
    const k = cfg({ schedule: 'exponential', c });
    close(deltaAt(k, 0, SDE), 1, 1e-15, 'δ(0)');
    close(deltaAt(k, 1, SDE), c, 1e-15, 'δ(1)');
    close(deltaAt(k, 0.5, SDE), Math.sqrt(c), 1e-12, 'δ(½)');
    for (let i = 1; i < grid.length; i++) {
      const [a, b] = [deltaAt(k, grid[i - 1]!, SDE), deltaAt(k, grid[i]!, SDE)];
      assert.ok(c < 1 ? b < a : b > a, `monotone for c=${c} at t=${grid[i]}`);
    }
  }
});

test('snr schedule: δ(0) = 1 since σ(0) = 0, δ(1) ≈ c, monotone', () => {
  for (const c of [0.001, 0.1, 0.5]) {
    const k = cfg({ schedule: 'snr', c });
    assert.equal(deltaAt(k, 0, SDE), 1);
    const s1 = Math.sqrt(Math.exp(10.025) - 1);
    close(deltaAt(k, 1, SDE), (1 - c) / (1 + s1) ** 2 + c, 1e-12, 'δ(1) closed form');
    close(deltaAt(k, 1, SDE), c, 1e-4, 'δ(1) ≈ c');
    for (let i = 1; i < grid.length; i++)
      assert.ok(deltaAt(k, grid[i]!, SDE) < deltaAt(k, grid[i - 1]!, SDE), `decreasing at t=${grid[i]}`);
  }
  // β₀, β₁ are honoured
  const k = cfg({ schedule: 'snr', c: 0.1 });
  close(
    deltaAt(k, 0.3, { beta0: 0.1, beta1: 40 }),
    0.9 / (1 + Math.sqrt(Math.expm1(0.03 + 0.5 * 39.9 * 0.09))) ** 2 + 0.1,
    1e-12,
    'custom β',
  );
});

test('reversed reads the schedule at 1 − t', () => {
  for (const schedule of ['exponential', 'snr'] as const) {
    const fwd = cfg({ schedule, c: 0.1 });
    const rev = cfg({ schedule, c: 0.1, reversed: true });
    for (const t of grid) close(deltaAt(rev, t, SDE), deltaAt(fwd, 1 - t, SDE), 1e-15, `${schedule} reversed at ${t}`);
  }
});

for (const backend of ['wasm', 'cpu'] as const) {
  test(`[${backend}] deltaTensor equals deltaAt per sample (float32) without leaks`, async () => {
    await tf.setBackend(backend);
    for (const o of [
      { c: 0.2 },
      { schedule: 'exponential', c: 0.1, scale: 3 },
      { schedule: 'snr', c: 0.05 },
      { schedule: 'snr', c: 0.05, reversed: true },
    ]) {
      const k = cfg(o);
      const got = await assertNoLeak(() => tf.tidy(() => Array.from(deltaTensor(k, tf.tensor1d(grid), SDE).dataSync())), 'deltaTensor');
      grid.forEach((t, i) => close(got[i]!, deltaAt(k, t, SDE), 2e-6 * Math.max(1, deltaAt(k, t, SDE)), `${JSON.stringify(o)} at t=${t}`));
    }
  });

  test(`[${backend}] deltaPer 'batch' uses the first sample's t for every sample`, async () => {
    await tf.setBackend(backend);
    const k = cfg({ schedule: 'exponential', c: 0.1, deltaPer: 'batch' });
    const got = tf.tidy(() => Array.from(deltaTensor(k, tf.tensor1d([0.3, 0.9, 0.1]), SDE).dataSync()));
    for (const g of got) close(g, 0.1 ** 0.3, 1e-6, 'per-batch δ');
  });
}
