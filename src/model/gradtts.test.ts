import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { UserError } from '../errors.js';
import { lossAt, parseLossConfig } from '../loss/index.js';
import { assertGradsClose, assertNoLeak } from '../testing/tensors.js';
import { ItemDraws, Rng } from '../util/rng.js';
import type { Mel } from '../audio/mel.js';
import { GradTTS, type Batch, type LossTerms } from './gradtts.js';
import { fixLen, MODEL_CONFIGS } from './configs.js';
import { betaAt, lambdaAt } from './diffusion.js';
import { TEST_CFG } from '../testing/model-config.js';
import { usesReplacementGrads } from './ops.js';
import { registerFastWasmKernels, unregisterFastWasmKernels } from '../kernels/register.js';

const N_SYMBOLS = 12;
const L2 = parseLossConfig({ type: 'l2' }, 'test');

before(async () => {
  await initBackend('wasm');
});

/** Utterances whose mel frames are a per-token pattern (+ noise), each token held 2–5 frames. */
function makeBatch(seed: number, n = 3): Batch {
  const rng = new Rng(seed);
  const f = TEST_CFG.nFeats;
  const pattern = Array.from({ length: N_SYMBOLS }, () => rng.normals(f));
  const batch: Batch = { ids: [], mels: [] };
  for (let s = 0; s < n; s++) {
    const ids = Int32Array.from({ length: 4 + s }, () => 1 + rng.int(N_SYMBOLS - 1));
    const cols: Float32Array[] = [];
    for (const id of ids) for (let k = 0, d = 2 + rng.int(4); k < d; k++) cols.push(pattern[id]!);
    const frames = cols.length;
    const data = new Float32Array(f * frames);
    for (let r = 0; r < f; r++) for (let j = 0; j < frames; j++) data[r * frames + j] = cols[j]![r]! - 4 + 0.1 * rng.normal();
    batch.ids.push(ids);
    batch.mels.push({ data, nMels: f, frames } satisfies Mel);
  }
  return batch;
}

function numbers(t: LossTerms): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(t)) out[k] = (v as tf.Scalar).dataSync()[0]!;
  return out;
}

test('create: deterministic from the seed, stable names, paramCount = Σ sizes', async () => {
  const a = GradTTS.create(TEST_CFG, N_SYMBOLS, 5);
  const b = GradTTS.create(TEST_CFG, N_SYMBOLS, 5);
  const c = GradTTS.create(TEST_CFG, N_SYMBOLS, 6);
  assert.deepEqual([...a.variables.keys()], [...b.variables.keys()]);
  for (const name of [
    'encoder.emb',
    'encoder.prenet.conv0.w',
    'encoder.layer0.attn.q.w',
    'encoder.proj_mu.w',
    'dp.proj.w',
    'decoder.down0.res1.block1.conv.w',
    'decoder.mid.attn.qkv.w',
    'decoder.up0.upsample.w',
    'decoder.final.conv.w',
  ]) {
    assert.ok(a.variables.has(name), `missing ${name}`);
  }
  const w = (m: GradTTS, n: string) => Array.from(m.variables.get(n)!.dataSync());
  assert.deepEqual(w(a, 'decoder.mid.attn.qkv.w'), w(b, 'decoder.mid.attn.qkv.w'));
  assert.notDeepEqual(w(a, 'decoder.mid.attn.qkv.w'), w(c, 'decoder.mid.attn.qkv.w'));
  let n = 0;
  for (const v of a.variables.values()) n += v.size;
  assert.equal(a.paramCount(), n);
  [a, b, c].forEach((m) => m.dispose());
});

test('the full config has Grad-TTS’s size (14.8 M weights, the paper reports 14.84 M)', async () => {
  const m = GradTTS.create(MODEL_CONFIGS.full, 148, 1);
  const n = m.paramCount();
  m.dispose();
  assert.ok(n > 14.6e6 && n < 15.0e6, `${n}`);
});

test('losses: finite named terms, total = sum, reproducible from the Rng, no leaks', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 1);
  const batch = makeBatch(1);
  const t1 = await assertNoLeak(() => {
    const t = model.losses(batch, L2, new Rng(3));
    const v = numbers(t);
    tf.dispose(Object.values(t));
    return v;
  }, 'losses');
  const t2 = model.losses(batch, L2, new Rng(3));
  const v2 = numbers(t2);
  tf.dispose(Object.values(t2));
  assert.deepEqual(t1, v2);
  for (const v of Object.values(t1)) assert.ok(Number.isFinite(v));
  assert.ok(Math.abs(t1.total! - (t1.duration! + t1.prior! + t1.diffusion!)) < 1e-4);
  assert.ok(t1.prior! > 0.5 * Math.log(2 * Math.PI), 'prior NLL is at least ½ ln 2π');
  assert.ok(t1.duration! > 0 && t1.diffusion! > 0);
  const t3 = model.losses(batch, L2, new Rng(4));
  assert.notEqual(numbers(t3).diffusion, t1.diffusion, 'other noise, other diffusion loss');
  tf.dispose(Object.values(t3));
  model.dispose();
});

test('the duration loss does not reach the encoder (detached input of the duration predictor)', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 2);
  const batch = makeBatch(2);
  const { value, grads } = tf.variableGrads(() => model.losses(batch, L2, new Rng(1), false).duration);
  const norms = new Map<string, number>();
  for (const [name, v] of model.variables) {
    const g = grads[v.name];
    norms.set(name, g ? tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]!) : 0);
  }
  tf.dispose([value, grads]);
  assert.ok(norms.get('dp.proj.w')! > 0 && norms.get('dp.conv0.w')! > 0);
  for (const [name, n] of norms) if (name.startsWith('encoder.') || name.startsWith('decoder.')) assert.equal(n, 0, name);
  model.dispose();
});

test('a few Adam steps on one fixed batch lower the total loss (wasm, no leaks)', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 3);
  const batch = makeBatch(3);
  const opt = tf.train.adam(3e-3);
  const step = (): number => {
    // the same Rng seed every step: the same t, z and segments, so only the weights change
    const { value, grads } = tf.variableGrads(() => model.losses(batch, L2, new Rng(7), false).total);
    opt.applyGradients(grads as Record<string, tf.Variable>);
    const v = value.dataSync()[0]!;
    tf.dispose([value, grads]);
    return v;
  };
  const first = step(); // also creates Adam's moment variables
  let last = first;
  await assertNoLeak(() => {
    for (let i = 0; i < 5; i++) last = step();
  }, 'training steps');
  assert.ok(last < first * 0.9, `total ${first} → ${last}`);
  opt.dispose();
  model.dispose();
});

test('synthesize: [F, Σ⌈durations⌉] mel, ODE reproducible, SDE differs; prior has the same frames; no leaks', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 4);
  // make every predicted duration exp(ln 2.4) = 2.4 → ⌈2.4⌉ = 3 frames per token (×2: ⌈4.8⌉ = 5)
  const proj = model.variables.get('dp.proj.w')!;
  proj.assign(tf.zerosLike(proj));
  model.variables.get('dp.proj.b')!.assign(tf.tensor1d([Math.log(2.4)]));
  const ids = Int32Array.from([3, 1, 4, 1, 5]);
  assert.deepEqual(Array.from(await model.durations(ids)), [3, 3, 3, 3, 3]);
  assert.deepEqual(Array.from(await model.durations(ids, 2)), [5, 5, 5, 5, 5]);
  const opts = { steps: 3, temperature: 1.5, lengthScale: 1, stochastic: false };
  const mel = await assertNoLeak(() => model.synthesize(ids, { ...opts, rng: new Rng(1) }), 'synthesize');
  assert.equal(mel.nMels, TEST_CFG.nFeats);
  assert.equal(mel.frames, 15);
  assert.equal(mel.data.length, TEST_CFG.nFeats * 15);
  assert.ok(mel.data.every(Number.isFinite));
  assert.deepEqual((await model.synthesize(ids, { ...opts, rng: new Rng(1) })).data, mel.data);
  const sde = await model.synthesize(ids, { ...opts, stochastic: true, rng: new Rng(1) });
  assert.notDeepEqual(sde.data, mel.data);
  assert.equal((await model.synthesize(ids, { ...opts, lengthScale: 2, rng: new Rng(1) })).frames, 25);
  // prior: μ repeated over each token's frames
  const p = await assertNoLeak(() => model.prior(ids), 'prior');
  assert.equal(p.frames, 15);
  for (let r = 0; r < p.nMels; r++) {
    assert.equal(p.data[r * 15 + 0], p.data[r * 15 + 2]);
    assert.equal(p.data[r * 15 + 3], p.data[r * 15 + 5]);
  }
  await assert.rejects(() => model.synthesize(new Int32Array(0), { ...opts, rng: new Rng(1) }), UserError);
  await assert.rejects(() => model.prior(Int32Array.from([N_SYMBOLS])), UserError);
  model.dispose();
});

test('synthesize with startTime (shallow diffusion): closed form with a zero score; t₀ = 1 is the default bit for bit', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 4);
  const proj = model.variables.get('dp.proj.w')!;
  proj.assign(tf.zerosLike(proj));
  model.variables.get('dp.proj.b')!.assign(tf.tensor1d([Math.log(2.4)])); // 3 frames per token
  const ids = Int32Array.from([3, 1, 4, 1, 5]);
  const opts = { steps: 3, temperature: 1.5, lengthScale: 1, stochastic: false };
  assert.deepEqual(
    (await model.synthesize(ids, { ...opts, startTime: 1, rng: new Rng(1) })).data,
    (await model.synthesize(ids, { ...opts, rng: new Rng(1) })).data,
  );
  for (const n of ['decoder.final.conv.w', 'decoder.final.conv.b']) model.variables.get(n)!.assign(tf.zerosLike(model.variables.get(n)!));
  // score 0: each ODE step x ← x + ½β(t)h (x − μ), from x = μ + √λ(t₀)·z/τ
  const t0 = 0.4;
  const { beta0, beta1 } = TEST_CFG;
  const mel = await assertNoLeak(() => model.synthesize(ids, { ...opts, startTime: t0, rng: new Rng(1) }), 'synthesize');
  const mu = await model.prior(ids);
  const h = t0 / opts.steps;
  let gain = Math.sqrt(lambdaAt(t0, beta0, beta1)) / opts.temperature;
  for (let i = 0; i < opts.steps; i++) gain *= 1 + 0.5 * betaAt(t0 - (i + 0.5) * h, beta0, beta1) * h;
  const w = fixLen(mel.frames, TEST_CFG);
  const z = new Rng(1).normals(TEST_CFG.nFeats * w);
  for (let r = 0; r < mel.nMels; r++) {
    for (let c = 0; c < mel.frames; c++) {
      const want = mu.data[r * mel.frames + c]! + gain * z[r * w + c]!;
      assert.ok(Math.abs(mel.data[r * mel.frames + c]! - want) < 1e-4 * (1 + Math.abs(want)), `[${r}, ${c}]`);
    }
  }
  await assert.rejects(() => model.synthesize(ids, { ...opts, startTime: 0, rng: new Rng(1) }), UserError);
  await assert.rejects(() => model.synthesize(ids, { ...opts, startTime: 1.5, rng: new Rng(1) }), UserError);
  model.dispose();
});

/** Whole-model check: the loss and every weight's gradient on wasm equal cpu's (tfjs's own kernels). */
async function assertWasmMatchesCpu(): Promise<void> {
  const batch = makeBatch(8, 2);
  const run = () => {
    const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 8);
    for (const [name, v] of model.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.5)); // open the ReZero gates
    const { value, grads } = tf.variableGrads(() => model.losses(batch, L2, new Rng(2), true).total);
    const out = { total: value.dataSync()[0]!, grads: new Map<string, Float32Array>() };
    for (const [name, v] of model.variables) {
      const g = grads[v.name];
      if (g) out.grads.set(name, g.dataSync() as Float32Array);
    }
    tf.dispose([value, grads]);
    model.dispose();
    return out;
  };
  const onWasm = run();
  await tf.setBackend('cpu');
  let onCpu: ReturnType<typeof run>;
  try {
    onCpu = run();
  } finally {
    await tf.setBackend('wasm');
  }
  assert.ok(Math.abs(onWasm.total - onCpu.total) < 1e-3 * Math.abs(onCpu.total), `total ${onWasm.total} vs ${onCpu.total}`);
  assert.ok(onCpu.grads.size > 100);
  assertGradsClose(onWasm.grads, onCpu.grads, 2e-3);
}

test('losses and all weight gradients agree between wasm and cpu: with src/kernels registered (as initBackend does)', async () => {
  assert.equal(usesReplacementGrads(), false);
  await assertWasmMatchesCpu();
});

test('… and on bare tfjs-backend-wasm, through src/model/ops.ts gradient replacements', async () => {
  unregisterFastWasmKernels();
  try {
    assert.equal(usesReplacementGrads(), true);
    await assertWasmMatchesCpu();
  } finally {
    registerFastWasmKernels();
  }
});

/**
 * A model whose terms have closed forms: T_text = T_mel forces the diagonal alignment; log ŵ ≡
 * ln 0.5 (so durations() gives 1 frame per token and prior() is μ per token); a zero final conv
 * makes the score 0, so the residual is z.
 */
function pinnedModel(): GradTTS {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 9);
  const zero = (n: string) => model.variables.get(n)!.assign(tf.zerosLike(model.variables.get(n)!));
  zero('dp.proj.w');
  model.variables.get('dp.proj.b')!.assign(tf.tensor1d([Math.log(0.5)]));
  zero('decoder.final.conv.w');
  zero('decoder.final.conv.b');
  return model;
}

test('loss terms equal their closed forms when the alignment and the score are pinned', async () => {
  const model = pinnedModel();
  const f = TEST_CFG.nFeats;
  const n = 7;
  const ids = Int32Array.from([1, 2, 3, 4, 5, 6, 7]);
  const y = Float32Array.from(new Rng(1).normals(f * n), (v) => v - 3);
  const terms = model.losses({ ids: [ids], mels: [{ data: y, nMels: f, frames: n }] }, L2, new Rng(5), false);
  const got = numbers(terms);
  tf.dispose(Object.values(terms));

  assert.ok(Math.abs(got.duration! - Math.log(0.5) ** 2) < 1e-5, `duration ${got.duration}`);
  const mu = (await model.prior(ids)).data; // [F, n]: μ of token j at frame j
  let nll = 0;
  for (let i = 0; i < f * n; i++) nll += 0.5 * ((y[i]! - mu[i]!) ** 2 + Math.log(2 * Math.PI));
  assert.ok(Math.abs(got.prior! - nll / (f * n)) < (1e-4 * nll) / (f * n), `prior ${got.prior} vs ${nll / (f * n)}`);
  // the draws inside losses: one seed from the Rng, then item 0's own stream: (no dropout, no segment
  // draw since n ≤ segment) t, then z over its valid cells, row by row
  const item = new ItemDraws(new Rng(5).nextU32()).rng(0);
  item.uniform();
  let zz = 0;
  for (let r = 0; r < f; r++) for (const v of item.normals(n)) zz += v ** 2;
  assert.ok(Math.abs(got.diffusion! - zz / (f * n)) < 1e-4, `diffusion ${got.diffusion} vs ${zz / (f * n)}`);
  model.dispose();
});

test('loss.scope "all" and loss.tPer "batch" against the pinned closed forms; the defaults leave the terms as they were', async () => {
  const model = pinnedModel();
  const f = TEST_CFG.nFeats;
  const n = 7;
  const batch = {
    ids: [Int32Array.from([1, 2, 3, 4, 5, 6, 7])],
    mels: [{ data: Float32Array.from(new Rng(1).normals(f * n), (v) => v - 3), nMels: f, frames: n }],
  };
  const mu = (await model.prior(batch.ids[0]!)).data;
  const y = batch.mels[0]!.data;
  const c = 0.01;
  const run = (cfg: object) => {
    const t = model.losses(batch, parseLossConfig(cfg, 'test'), new Rng(5), false);
    const v = numbers(t);
    tf.dispose(Object.values(t));
    return v;
  };
  const base = run({ type: 'pseudo-huber', schedule: 'exponential', c });
  assert.deepEqual(run({ type: 'pseudo-huber', schedule: 'exponential', c, scope: 'diffusion', tPer: 'item' }), base);
  // scope all: the prior's square becomes pseudo-Huber at δ(0) = c⁰ = 1; the other terms stay
  const all = run({ type: 'pseudo-huber', schedule: 'exponential', c, scope: 'all' });
  let rho = 0;
  for (let i = 0; i < f * n; i++) rho += 0.5 * (lossAt('pseudo-huber', y[i]! - mu[i]!, 1) + Math.log(2 * Math.PI));
  assert.ok(Math.abs(all.prior! - rho / (f * n)) < 1e-4 * (rho / (f * n)), `prior ${all.prior} vs ${rho / (f * n)}`);
  assert.equal(all.diffusion, base.diffusion);
  assert.equal(all.duration, base.duration);
  // tPer batch: t is the step's shared draw; the item still draws its own first, so z is unchanged
  const draws = new ItemDraws(new Rng(5).nextU32());
  const t = 1e-5 + (1 - 2e-5) * draws.shared().uniform();
  const item = draws.rng(0);
  const tItem = 1e-5 + (1 - 2e-5) * item.uniform();
  const z: number[] = [];
  for (let r = 0; r < f; r++) z.push(...item.normals(n));
  // tMax: the same draw scaled into (ε, tMax − ε) — δ = c^t reads the t that was trained
  const tShallow = 1e-5 + (0.3 - 2e-5) * new ItemDraws(new Rng(5).nextU32()).rng(0).uniform();
  for (const [cfg, tt] of [
    [{ tPer: 'batch' }, t],
    [{}, tItem],
    [{ tMax: 0.3 }, tShallow],
  ] as const) {
    const got = run({ type: 'pseudo-huber', schedule: 'exponential', c, ...cfg });
    const delta = c ** tt;
    assert.ok(Math.abs(got.deltaMean! - delta) < 1e-5 * delta, `δ ${got.deltaMean} vs c^t = ${delta}`);
    const want = z.reduce((s, v) => s + lossAt('pseudo-huber', v, delta), 0) / (f * n);
    assert.ok(Math.abs(got.diffusion! - want) < 1e-4 * want, `diffusion ${got.diffusion} vs ${want}`);
  }
  model.dispose();
});

test('loss.tPer "batch": shards of a batch draw the same t (terms sum to the whole batch’s)', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 1);
  const batch = makeBatch(2, 3);
  const loss = parseLossConfig({ type: 'pseudo-huber', schedule: 'exponential', c: 0.1, tPer: 'batch' }, 'test');
  const draws = new ItemDraws(1234);
  const norm = model.lossNorm(batch);
  const whole = model.losses(batch, loss, draws, false);
  const a = model.losses({ ids: batch.ids.slice(0, 2), mels: batch.mels.slice(0, 2) }, loss, draws.from(0), false, { norm });
  const b = model.losses({ ids: batch.ids.slice(2), mels: batch.mels.slice(2) }, loss, draws.from(2), false, { norm });
  const [w, x, y] = [numbers(whole), numbers(a), numbers(b)];
  tf.dispose([...Object.values(whole), ...Object.values(a), ...Object.values(b)]);
  for (const k of ['prior', 'diffusion', 'deltaMean'])
    assert.ok(Math.abs(x[k]! + y[k]! - w[k]!) < 1e-5 * Math.abs(w[k]!), `${k}: ${x[k]} + ${y[k]} vs ${w[k]}`);
  // one δ for all: deltaMean of the whole is c^t, each shard's share is its item count / 3 of it
  assert.ok(Math.abs(x.deltaMean! / y.deltaMean! - 2) < 1e-5);
  model.dispose();
});

test('residuals: with the score pinned to 0 the diffusion residual is z at every t, the prior residual y − μ; no leaks', async () => {
  const model = pinnedModel();
  const f = TEST_CFG.nFeats;
  const n = 7;
  const ids = Int32Array.from([1, 2, 3, 4, 5, 6, 7]);
  const y = Float32Array.from(new Rng(1).normals(f * n), (v) => v - 3);
  const z = Float32Array.from(new Rng(2).normals(f * n));
  const ts = [0.1, 0.5, 0.9];
  const r = await assertNoLeak(() => model.residuals(ids, { data: y, nMels: f, frames: n }, ts, z), 'residuals');
  assert.deepEqual([...r.path], [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(r.diffusion.length, ts.length);
  for (const d of r.diffusion) assert.deepEqual(d, z);
  const mu = (await model.prior(ids)).data; // the diagonal alignment: μ of token j at frame j
  for (let i = 0; i < f * n; i++) assert.ok(Math.abs(r.prior[i]! - (y[i]! - mu[i]!)) < 1e-5, `prior [${i}]`);
  await assert.rejects(() => model.residuals(ids, { data: y, nMels: f, frames: n }, [1], z), UserError);
  model.dispose();
});

test('residuals reproduce the training terms (L2, no dropout, whole utterance) of a model with a nonzero score', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 3);
  for (const [name, v] of model.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.5)); // open the ReZero gates
  const f = TEST_CFG.nFeats;
  const n = 11; // ≤ segmentFrames: losses draws no segment offset
  const ids = Int32Array.from([2, 5, 1, 7]);
  const mel: Mel = { data: Float32Array.from(new Rng(4).normals(f * n), (v) => 0.5 * v - 2), nMels: f, frames: n };
  const terms = model.losses({ ids: [ids], mels: [mel] }, L2, new Rng(6), false);
  const got = numbers(terms);
  tf.dispose(Object.values(terms));
  // losses' draws: item 0's stream gives t, then z row by row (see the pinned closed-form test)
  const item = new ItemDraws(new Rng(6).nextU32()).rng(0);
  const t = 1e-5 + (1 - 2e-5) * item.uniform();
  const z = new Float32Array(f * n);
  for (let r = 0; r < f; r++) z.set(item.normals(n), r * n);
  const r = await model.residuals(ids, mel, [t], z);
  const meanSq = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0) / x.length;
  const d = meanSq(r.diffusion[0]!);
  assert.ok(Math.abs(d - 1) > 0.01, `the score is not trivially 0 (mean square ${d})`);
  assert.ok(Math.abs(got.diffusion! - d) < 1e-4 * d, `diffusion ${got.diffusion} vs ${d}`);
  const prior = 0.5 * (meanSq(r.prior) + Math.log(2 * Math.PI));
  assert.ok(Math.abs(got.prior! - prior) < 1e-4 * prior, `prior ${got.prior} vs ${prior}`);
  model.dispose();
});
