import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { lossAt, parseLossConfig } from '../loss/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { ItemDraws, Rng } from '../util/rng.js';
import { GradTTS } from './gradtts.js';
import { eulerFlow, flowPath, flowScheduleTime, flowTarget, SIGMA_MIN } from './flow.js';
import { TEST_CFG } from '../testing/model-config.js';

before(async () => {
  await initBackend('wasm');
});

const B = 2;
const F = 3;
const W = 4;
const MASK = [[[1, 1, 1, 1]], [[1, 1, 0, 0]]];
const rng = new Rng(4);
const X0 = rng.normals(B * F * W);
const X1 = Float32Array.from(rng.normals(B * F * W), (v) => 3 * v - 2);
const valid = (i: number) => MASK[Math.floor(i / (F * W))]![0]![i % W] === 1;

function close(a: ArrayLike<number>, b: (i: number) => number, tol: number, what: string): void {
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b(i)) <= tol * Math.max(1, Math.abs(b(i))), `${what}[${i}]: ${a[i]} vs ${b(i)}`);
}

test('flow path and target equal their closed forms; the target is the path’s time derivative', async () => {
  await assertNoLeak(() => {
    const t = [0.3, 0.85];
    const [xt, u, xa, xb] = tf.tidy(() => {
      const x0 = tf.tensor3d(X0, [B, F, W]);
      const x1 = tf.tensor3d(X1, [B, F, W]);
      const m = tf.tensor3d(MASK);
      const h = 1e-2;
      return [
        flowPath(x0, x1, m, t),
        flowTarget(x0, x1, m),
        flowPath(x0, x1, m, [t[0]! - h, t[1]! - h]),
        flowPath(x0, x1, m, [t[0]! + h, t[1]! + h]),
      ].map((x) => x.dataSync());
    });
    const ti = (i: number) => t[Math.floor(i / (F * W))]!;
    close(xt!, (i) => (valid(i) ? (1 - (1 - SIGMA_MIN) * ti(i)) * X0[i]! + ti(i) * X1[i]! : 0), 1e-6, 'x_t');
    close(u!, (i) => (valid(i) ? X1[i]! - (1 - SIGMA_MIN) * X0[i]! : 0), 1e-6, 'u');
    close(
      Float32Array.from(xa!, (v, i) => (xb![i]! - v) / 2e-2),
      (i) => u![i]!,
      2e-3,
      'central difference of x_t',
    );
    // the ends: noise at t = 0, data (+ σ_min of noise) at t = 1
    const ends = tf.tidy(() => flowPath(tf.tensor3d(X0, [B, F, W]), tf.tensor3d(X1, [B, F, W]), tf.ones([B, 1, W]), [0, 1]).dataSync());
    close(ends.subarray(0, F * W), (i) => X0[i]!, 1e-7, 'x_0');
    close(ends.subarray(F * W), (i) => X1[F * W + i]! + SIGMA_MIN * X0[F * W + i]!, 1e-6, 'x_1');
  }, 'path');
  assert.equal(flowScheduleTime(1), 0, 'data end of the flow = data end of the δ schedules');
});

test('Euler sampling with the exact velocity field of a point target recovers x1 + σ_min·x0 for any step count', async () => {
  // for data at x1 alone, the OT field is v(x, t) = x1 − (1 − σ)(x − t·x1)/(1 − (1 − σ)t): constant along
  // each straight path, so Euler is exact: x(1) = x0 + (x1 − (1 − σ)x0) = x1 + σ·x0
  await assertNoLeak(() => {
    for (const steps of [1, 3, 10]) {
      const got = tf.tidy(() => {
        const x1 = tf.tensor3d(X1, [B, F, W]);
        const m = tf.tensor3d(MASK);
        const x0 = tf.mul(tf.tensor3d(X0, [B, F, W]), m) as tf.Tensor3D;
        const v = (x: tf.Tensor3D, t: number) =>
          tf.sub(x1, tf.mul(tf.sub(x, tf.mul(x1, t)), (1 - SIGMA_MIN) / (1 - (1 - SIGMA_MIN) * t))) as tf.Tensor3D;
        return eulerFlow(x0, m, steps, v).dataSync();
      });
      close(got, (i) => (valid(i) ? X1[i]! + SIGMA_MIN * X0[i]! : 0), 2e-5, `${steps} steps`);
      // from a later time (shallow flow): started on the path at t = 0.6, the same end
      const late = tf.tidy(() => {
        const x1 = tf.tensor3d(X1, [B, F, W]);
        const m = tf.tensor3d(MASK);
        const x06 = flowPath(tf.tensor3d(X0, [B, F, W]), x1, m, [0.6, 0.6]);
        const v = (x: tf.Tensor3D, t: number) =>
          tf.sub(x1, tf.mul(tf.sub(x, tf.mul(x1, t)), (1 - SIGMA_MIN) / (1 - (1 - SIGMA_MIN) * t))) as tf.Tensor3D;
        return eulerFlow(x06, m, steps, v, 0.6).dataSync();
      });
      close(late, (i) => (valid(i) ? X1[i]! + SIGMA_MIN * X0[i]! : 0), 2e-5, `${steps} steps from t 0.6`);
    }
  }, 'euler');
});

const FLOW_CFG = { ...TEST_CFG, decoder: { ...TEST_CFG.decoder, objective: 'flow' as const } };
const N_SYMBOLS = 12;

/** A flow model whose velocity is 0 (zero final conv), on a diagonal alignment (T_text = T_mel). */
function zeroVelocity(): GradTTS {
  const model = GradTTS.create(FLOW_CFG, N_SYMBOLS, 9);
  for (const n of ['decoder.final.conv.w', 'decoder.final.conv.b']) model.variables.get(n)!.assign(tf.zerosLike(model.variables.get(n)!));
  model.variables.get('dp.proj.w')!.assign(tf.zerosLike(model.variables.get('dp.proj.w')!));
  model.variables.get('dp.proj.b')!.assign(tf.tensor1d([Math.log(0.5)]));
  return model;
}

const IDS = Int32Array.from([1, 2, 3, 4, 5, 6, 7]);

/**
 * With v ≡ 0 the flow term is ρ(−u) = ρ(−(y − (1 − σ)z)) at δ = c^(1 − t), t = low + ε + (tMax − 2ε)·u₀
 * from item 0's stream (no dropout, no segment draw: t, then z = x0 row by row), low = 1 − tMax:
 * checks the loss and δ against that closed form; returns t.
 */
function checkZeroVelocityLoss(model: GradTTS, tMax: number): number {
  const f = FLOW_CFG.nFeats;
  const n = IDS.length;
  const y = Float32Array.from(new Rng(1).normals(f * n), (v) => v - 3);
  const c = 0.1;
  const loss = parseLossConfig({ type: 'pseudo-huber', schedule: 'exponential', c, tMax }, 'test');
  const terms = model.losses({ ids: [IDS], mels: [{ data: y, nMels: f, frames: n }] }, loss, new Rng(5), false);
  const [diffusion, deltaMean] = [terms.diffusion.dataSync()[0]!, terms.deltaMean.dataSync()[0]!];
  tf.dispose(Object.values(terms));
  const item = new ItemDraws(new Rng(5).nextU32()).rng(0);
  const t = 1 - tMax + 1e-5 + (tMax - 2e-5) * item.uniform();
  const delta = c ** (1 - t);
  assert.ok(Math.abs(deltaMean - delta) < 1e-5 * delta, `δ ${deltaMean} vs c^(1 − t) = ${delta}`);
  let want = 0;
  for (let r = 0; r < f; r++)
    item.normals(n).forEach((z, j) => (want += lossAt('pseudo-huber', -(y[r * n + j]! - (1 - SIGMA_MIN) * z), delta)));
  want /= f * n;
  assert.ok(Math.abs(diffusion - want) < 1e-4 * want, `flow loss ${diffusion} vs ${want}`);
  return t;
}

test('flow decoder: with v ≡ 0 the loss is ρ(−u) with δ at 1 − t (closed form), and synthesis returns x0 = n/τ', async () => {
  const model = zeroVelocity();
  const f = FLOW_CFG.nFeats;
  const n = 7;
  const ids = IDS;
  checkZeroVelocityLoss(model, 1);
  // sampling: x stays at x0 = n/τ (the first f·W normals of the rng, W = frames padded to 4)
  const tau = 2;
  const mel = await model.synthesize(ids, { steps: 4, temperature: tau, lengthScale: 1, stochastic: false, rng: new Rng(3) });
  const w = Math.ceil(n / 4) * 4;
  const noise = new Rng(3).normals(f * w);
  assert.equal(mel.frames, n);
  close(mel.data, (i) => noise[Math.floor(i / n) * w + (i % n)]! / tau, 1e-6, 'x0 / τ');
  model.dispose();
});

test('flow matching training lowers its loss on a fixed batch (tiny overfit)', async (t) => {
  const model = GradTTS.create(FLOW_CFG, N_SYMBOLS, 2);
  const loss = parseLossConfig({ type: 'l2' }, 'test');
  const r = new Rng(8);
  const batch = { ids: [] as Int32Array[], mels: [] as { data: Float32Array; nMels: number; frames: number }[] };
  const pattern = Array.from({ length: N_SYMBOLS }, () => r.normals(FLOW_CFG.nFeats));
  for (const len of [5, 6, 7]) {
    const ids = Int32Array.from({ length: len }, () => 1 + r.int(N_SYMBOLS - 1));
    const cols = [...ids].flatMap((id) => [pattern[id]!, pattern[id]!]);
    const data = new Float32Array(FLOW_CFG.nFeats * cols.length);
    for (let q = 0; q < FLOW_CFG.nFeats; q++) cols.forEach((col, j) => (data[q * cols.length + j] = 2 * col[q]! - 3));
    batch.ids.push(ids);
    batch.mels.push({ data, nMels: FLOW_CFG.nFeats, frames: cols.length });
  }
  // the flow term averaged over fixed draws (no dropout), before and after training
  const evalLoss = () => {
    let s = 0;
    for (let k = 0; k < 6; k++) {
      const terms = model.losses(batch, loss, new Rng(100 + k), false);
      s += terms.diffusion.dataSync()[0]! / 6;
      tf.dispose(Object.values(terms));
    }
    return s;
  };
  const before = evalLoss();
  const opt = tf.train.adam(5e-3);
  const train = new Rng(1);
  for (let i = 0; i < 20; i++) {
    const draws = new ItemDraws(train.nextU32());
    const cost = opt.minimize(() => model.losses(batch, loss, draws).total, true);
    cost?.dispose();
  }
  opt.dispose();
  const after = evalLoss();
  t.diagnostic(`flow loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
  assert.ok(after < 0.7 * before, `flow loss ${before} → ${after}`);
  model.dispose();
});

test('shallow flow: loss.tMax 0.3 trains t ∈ (0.7, 1) (δ at 1 − t, closed form); startTime s₀ starts at (1 − (1 − σ)(1 − s₀))·n/τ + (1 − s₀)·μ', async () => {
  const model = zeroVelocity();
  const f = FLOW_CFG.nFeats;
  const n = IDS.length;
  const ids = IDS;
  const t = checkZeroVelocityLoss(model, 0.3);
  assert.ok(t > 0.7 && t < 1, `t ${t}`);
  // sampling with v ≡ 0 stays at the start point; s₀ = 1 is the full flow bit for bit
  const opts = { steps: 4, temperature: 2, lengthScale: 1, stochastic: false };
  assert.deepEqual(
    (await model.synthesize(ids, { ...opts, startTime: 1, rng: new Rng(3) })).data,
    (await model.synthesize(ids, { ...opts, rng: new Rng(3) })).data,
  );
  const s0 = 0.4;
  const mel = await assertNoLeak(() => model.synthesize(ids, { ...opts, startTime: s0, rng: new Rng(3) }), 'shallow flow');
  const mu = await model.prior(ids);
  const w = Math.ceil(n / 4) * 4;
  const noise = new Rng(3).normals(f * w);
  const a = (1 - (1 - SIGMA_MIN) * (1 - s0)) / opts.temperature;
  close(mel.data, (i) => a * noise[Math.floor(i / n) * w + (i % n)]! + (1 - s0) * mu.data[i]!, 1e-5, 'flow start');
  await assert.rejects(() => model.synthesize(ids, { ...opts, startTime: 0, rng: new Rng(3) }), /start time 0/);
  model.dispose();
});
