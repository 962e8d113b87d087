import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { Rng } from '../util/rng.js';
import { betaAt, betaIntegral, forwardDiffusion, lambdaAt, reverseStep } from './diffusion.js';

const B0 = 0.05;
const B1 = 20;

before(async () => {
  await initBackend('wasm');
});

function meanVar(a: ArrayLike<number>): [number, number] {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const m = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2;
  return [m, v / a.length];
}

test('∫β matches numerical integration of β(t); λ_t rises from 0 towards 1', () => {
  for (const t of [0.1, 0.5, 1]) {
    let s = 0;
    const n = 10000;
    for (let i = 0; i < n; i++) s += betaAt(((i + 0.5) / n) * t, B0, B1) * (t / n);
    assert.ok(Math.abs(s - betaIntegral(t, B0, B1)) < 1e-6);
  }
  assert.equal(lambdaAt(0, B0, B1), 0);
  assert.ok(Math.abs(lambdaAt(1, B0, B1) - (1 - Math.exp(-10.025))) < 1e-12);
});

test('forward diffusion: per-sample mean and variance at t match the closed form', async () => {
  const n = 4000;
  const ts = [0.02, 0.3, 0.9];
  const rng = new Rng(3);
  const out = await assertNoLeak(
    () =>
      tf.tidy(() => {
        const x0 = tf.fill([3, 1, n], 2) as tf.Tensor3D;
        const mu = tf.fill([3, 1, n], -1) as tf.Tensor3D;
        const mask = tf.ones([3, 1, n]) as tf.Tensor3D;
        const z = tf.tensor3d(rng.normals(3 * n), [3, 1, n]);
        const { xt, sqrtLambda } = forwardDiffusion(x0, mu, mask, ts, z, B0, B1);
        return { xt: xt.dataSync(), sl: sqrtLambda.dataSync() };
      }),
    'forwardDiffusion',
  );
  ts.forEach((t, s) => {
    const decay = Math.exp(-0.5 * betaIntegral(t, B0, B1));
    const wantMean = 2 * decay - (1 - decay);
    const wantVar = lambdaAt(t, B0, B1);
    const [m, v] = meanVar(out.xt.subarray(s * n, (s + 1) * n));
    assert.ok(Math.abs(m - wantMean) < 5 * Math.sqrt(wantVar / n) + 1e-6, `t=${t}: mean ${m} vs ${wantMean}`);
    assert.ok(Math.abs(v / wantVar - 1) < 0.1, `t=${t}: variance ${v} vs ${wantVar}`);
    assert.ok(Math.abs(out.sl[s]! - Math.sqrt(wantVar)) < 1e-6);
  });
});

test('forward diffusion keeps masked frames at zero', () => {
  const xt = tf.tidy(() => {
    const mask = tf.tensor3d([1, 1, 0, 0], [1, 1, 4]);
    return forwardDiffusion(tf.ones([1, 2, 4]), tf.ones([1, 2, 4]), mask, [0.5], tf.ones([1, 2, 4]), B0, B1).xt.arraySync();
  });
  assert.deepEqual(
    xt[0]!.map((r) => r.slice(2)),
    [
      [0, 0],
      [0, 0],
    ],
  );
});

/**
 * Data x0 ~ N(0, s²) with μ = 0: the marginal at t is N(0, v_t), v_t = s² e^{−∫β} + λ_t, and the
 * exact score is −x/v_t. Integrating the reverse process with that score from N(0, v_1) must end
 * with variance ≈ s², for the ODE and the SDE — this pins down the signs and the β·h scaling.
 */
for (const stochastic of [false, true]) {
  test(`reverse ${stochastic ? 'SDE' : 'ODE'} with the exact score maps N(0, v₁) back to N(0, s²)`, async () => {
    const s2 = 0.25;
    const n = 3000;
    const steps = 200;
    const rng = new Rng(4);
    const vt = (t: number) => s2 * Math.exp(-betaIntegral(t, B0, B1)) + lambdaAt(t, B0, B1);
    const final = await assertNoLeak(() => {
      const mu = tf.zeros([1, 1, n]) as tf.Tensor3D;
      const mask = tf.ones([1, 1, n]) as tf.Tensor3D;
      let x = tf.tidy(() => tf.mul(tf.tensor3d(rng.normals(n), [1, 1, n]), Math.sqrt(vt(1))) as tf.Tensor3D);
      const h = 1 / steps;
      for (let i = 0; i < steps; i++) {
        const t = 1 - (i + 0.5) * h;
        const next = tf.tidy(() => {
          const score = tf.mul(x, -1 / vt(t)) as tf.Tensor3D;
          const noise = stochastic ? tf.tensor3d(rng.normals(n), [1, 1, n]) : null;
          return reverseStep(x, mu, score, mask, t, h, B0, B1, noise);
        });
        x.dispose();
        x = next;
      }
      const d = x.dataSync();
      tf.dispose([x, mu, mask]);
      return d;
    }, 'reverse diffusion');
    const [m, v] = meanVar(final);
    assert.ok(Math.abs(m) < 0.05, `mean ${m}`);
    assert.ok(Math.abs(v / s2 - 1) < 0.12, `variance ${v}, expected ${s2}`);
  });
}
