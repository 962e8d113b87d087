/**
 * The U-Net's inference path (fused GroupNorm/Mish kernel, reassociated linear attention, μ's share
 * of the first convs precomputed once per sentence) against its training path (the ops a gradient
 * tape records), on the test config and on a real `tiny` model.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { setFusedNormMish } from '../kernels/norm-mish.js';
import { DEFAULT_TEXT, symbolCount, textToIds } from '../text/index.js';
import { Rng } from '../util/rng.js';
import { MODEL_CONFIGS, type ModelConfig } from './configs.js';
import { GradTTS } from './gradtts.js';
import type { Ctx } from './layers.js';
import { ParamStore } from './params.js';
import { TEST_CFG } from '../testing/model-config.js';
import { disposeScorePrior, keptScorePrior, scoreFromPrior, scoreUNet } from './unet.js';

before(async () => {
  await initBackend('wasm');
});

/** Largest |a − b| relative to max(1, max |b|). */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0,
    s = 1;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

/** Scores of one batch three ways: with a gradient tape recording, without, and from a kept prior. */
function threeWays(
  cfg: ModelConfig,
  lens: number[],
  w: number,
  seed: number,
): { taped: Float32Array; plain: Float32Array; prior: Float32Array; scale: number } {
  const f = cfg.nFeats;
  const b = lens.length;
  const ctx: Ctx = { ps: new ParamStore(seed), training: false, rng: null };
  const rng = new Rng(seed + 1);
  const xd = rng.normals(b * f * w),
    mud = rng.normals(b * f * w);
  const md = Float32Array.from({ length: b * w }, (_, i) => (i % w < lens[Math.floor(i / w)]! ? 1 : 0));
  const t = tf.tensor1d(lens.map((_, i) => 0.2 + 0.5 * i));
  const [xt, mu, mask] = [tf.tensor3d(xd, [b, f, w]), tf.tensor3d(mud, [b, f, w]), tf.tensor3d(md, [b, 1, w])];
  tf.tidy(() => {
    scoreUNet(ctx, cfg, xt, mu, mask, t);
  }); // creates the weights
  ctx.ps.freeze();
  // open the ReZero gates and move the norms off their identity initialisation, so every term matters
  for (const [name, v] of ctx.ps.variables) {
    if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.6));
    else if (name.includes('norm.')) v.assign(tf.tidy(() => tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 3), 0.2))));
  }
  let taped: Float32Array | null = null;
  tf.tidy(() => {
    tf.grad((x: tf.Tensor) => {
      const s = scoreUNet(ctx, cfg, x as tf.Tensor3D, mu, mask, t);
      taped = s.dataSync() as Float32Array;
      return tf.sum(s);
    })(xt);
  });
  const plain = tf.tidy(() => scoreUNet(ctx, cfg, xt, mu, mask, t).dataSync() as Float32Array);
  const before = tf.memory();
  const p = keptScorePrior(ctx, cfg, mu, mask, true);
  const prior = tf.tidy(() => scoreFromPrior(ctx, cfg, p, xt, t).dataSync() as Float32Array);
  disposeScorePrior(p);
  assert.equal(tf.memory().numTensors, before.numTensors, 'kept prior freed');
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers, 'kept prior freed (buffers)');
  tf.dispose([xt, mu, mask, t]);
  ctx.ps.dispose();
  let scale = 0;
  for (const v of plain) scale = Math.max(scale, Math.abs(v));
  return { taped: taped!, plain, prior, scale };
}

test('U-Net inference path equals the taped training path: test config, batch 2 with padding', async () => {
  const r = threeWays(TEST_CFG, [16, 9], 16, 4);
  assert.ok(r.scale > 1e-2, 'output not trivially small');
  assert.ok(relDiff(r.plain, r.taped) < 1e-5, `plain vs taped ${relDiff(r.plain, r.taped)}`);
  assert.ok(relDiff(r.prior, r.taped) < 1e-5, `kept prior vs taped ${relDiff(r.prior, r.taped)}`);
});

test('U-Net inference path equals the taped training path: real tiny model forward (80 × 64 frames, 5 padded)', async () => {
  const r = threeWays(MODEL_CONFIGS.tiny, [59], 64, 9);
  assert.ok(r.scale > 1e-2, 'output not trivially small');
  assert.ok(relDiff(r.plain, r.taped) < 1e-5, `plain vs taped ${relDiff(r.plain, r.taped)}`);
  assert.ok(relDiff(r.prior, r.taped) < 1e-5, `kept prior vs taped ${relDiff(r.prior, r.taped)}`);
});

test('synthesize (tiny): fused kernel and unfused ops give the same mel; no tensors or wasm buffers left behind', async () => {
  const model = GradTTS.create(MODEL_CONFIGS.tiny, symbolCount(DEFAULT_TEXT), 3);
  for (const [name, v] of model.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.5));
  const ids = textToIds('Thank you.', DEFAULT_TEXT).ids;
  const opts = () => ({ steps: 3, temperature: 1.5, lengthScale: 2, stochastic: false, rng: new Rng(1) });
  await model.synthesize(ids, opts()); // warm-up: first-use allocations
  const before = tf.memory();
  const fused = await model.synthesize(ids, opts());
  assert.equal(tf.memory().numTensors, before.numTensors, 'tensors after a synthesis');
  assert.equal(tf.memory().numDataBuffers, before.numDataBuffers, 'wasm buffers after a synthesis');
  setFusedNormMish(false);
  let unfused: Awaited<ReturnType<typeof model.synthesize>>;
  try {
    unfused = await model.synthesize(ids, opts());
  } finally {
    setFusedNormMish(null);
  }
  assert.equal(fused.frames, unfused.frames);
  assert.ok(fused.data.every(Number.isFinite));
  assert.ok(relDiff(fused.data, unfused.data) < 1e-5, `fused vs unfused mel ${relDiff(fused.data, unfused.data)}`);
  model.dispose();
});
