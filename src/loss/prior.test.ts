import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { parseLossConfig } from './config.js';
import { lossAt } from './elementwise.js';
import { priorDelta, priorLoss } from './prior.js';

before(async () => {
  await initBackend('wasm');
});

// B = 2, F = 2, T = 3; item 1 has 2 valid frames. Residuals y − μ include outliers (±6).
const Y = [
  [
    [0.5, -1, 6],
    [2, 0, -0.25],
  ],
  [
    [1, -6, 9],
    [0.1, 3, 9],
  ],
];
const MU = [
  [
    [0, 0, 0],
    [1, 0.5, 0],
  ],
  [
    [0, 0, 0],
    [0, 0, 0],
  ],
];
const MASK = [[[1, 1, 1]], [[1, 1, 0]]];
const LN_2PI = Math.log(2 * Math.PI);
/** The model config's VP-SDE (Grad-TTS's β₀, β₁). */
const SDE = { beta0: 0.05, beta1: 20 };

/** Σ ½(ρ(r) + ln 2π) over valid cells / den, in float64. */
function expected(rho: (r: number) => number, den: number): number {
  let s = 0;
  for (let b = 0; b < 2; b++)
    for (let f = 0; f < 2; f++) for (let t = 0; t < 3; t++) if (MASK[b]![0]![t]) s += 0.5 * (rho(Y[b]![f]![t]! - MU[b]![f]![t]!) + LN_2PI);
  return s / den;
}

function prior(cfg: object, den = 10): number {
  const loss = parseLossConfig(cfg, 'test');
  return tf.tidy(() => priorLoss(loss, SDE, tf.tensor3d(Y), tf.tensor3d(MU), tf.tensor3d(MASK), den).dataSync()[0]!);
}

function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
}

test('prior term: scope "diffusion" is the Gaussian NLL whatever the loss type; "all" with l2 is the same', async () => {
  await assertNoLeak(() => {
    const nll = expected((r) => r * r, 10);
    close(prior({ type: 'l2' }), nll, 'l2');
    close(prior({ type: 'pseudo-huber', c: 0.1 }), nll, 'pseudo-huber, scope diffusion');
    close(prior({ type: 'l2', scope: 'all' }), nll, 'l2, scope all');
  }, 'prior');
});

test('prior term, scope "all": ρ(y − μ; δ(0)) for every type and schedule, against closed forms', () => {
  const cases: [object, number][] = [
    [{ type: 'pseudo-huber', c: 0.5 }, 0.5], // constant: δ = c
    [{ type: 'pseudo-huber', schedule: 'exponential', c: 0.01 }, 1], // c^0
    [{ type: 'pseudo-huber', schedule: 'exponential', c: 0.01, reversed: true }, 0.01], // read at 1 − 0
    [{ type: 'pseudo-huber', schedule: 'snr', c: 0.1, scale: 2 }, 2], // σ(0) = 0 → 1, × scale
    [{ type: 'huber', c: 1.5 }, 1.5],
    [{ type: 'l1' }, 1],
    [{ type: 'smooth-l1', c: 0.3 }, 0.3],
  ];
  for (const [cfg, delta] of cases) {
    const loss = parseLossConfig({ ...cfg, scope: 'all' }, 'test');
    assert.equal(priorDelta(loss, SDE), delta, JSON.stringify(cfg));
    close(
      prior({ ...cfg, scope: 'all' }, 7),
      expected((r) => lossAt(loss.type, r, delta), 7),
      JSON.stringify(cfg),
    );
  }
  // a reversed snr schedule reads the model's SDE at t = 1: δ = (1 − c)/(1 + σ(1))² + c, σ(1) = √(e^{β₀ + ½(β₁ − β₀)} − 1)
  const snrRev = parseLossConfig({ type: 'pseudo-huber', schedule: 'snr', c: 0.1, reversed: true, scope: 'all' }, 'test');
  for (const sde of [SDE, { beta0: 0.1, beta1: 2 }]) {
    const sigma = Math.sqrt(Math.expm1(sde.beta0 + 0.5 * (sde.beta1 - sde.beta0)));
    close(priorDelta(snrRev, sde), 0.9 / (1 + sigma) ** 2 + 0.1, `snr reversed under β ${sde.beta0}, ${sde.beta1}`);
  }
  // pseudo-Huber ≤ r²: the outliers (|r| = 6, 9) weigh less than under the NLL
  assert.ok(prior({ type: 'pseudo-huber', c: 0.1, scope: 'all' }) < prior({ type: 'l2' }) / 3);
});
