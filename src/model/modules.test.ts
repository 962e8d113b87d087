/** Shapes and masking of the encoder and the U-Net: padded positions never change valid outputs. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { Rng } from '../util/rng.js';
import { fixLen } from './configs.js';
import { TEST_CFG } from '../testing/model-config.js';
import { textEncoder } from './encoder.js';
import type { Ctx } from './layers.js';
import { ParamStore } from './params.js';
import { scoreUNet, timeEmbedding } from './unet.js';

before(async () => {
  await initBackend('wasm');
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('text encoder: shapes, zero on padding, and a padded batch equals each utterance alone', async () => {
  const cfg = TEST_CFG;
  const ctx: Ctx = { ps: new ParamStore(1), training: false, rng: null };
  const run = (ids: number[][], lens: number[]) =>
    tf.tidy(() => {
      const t = ids[0]!.length;
      const mask = tf.tensor3d(
        lens.flatMap((l) => Array.from({ length: t }, (_, i) => (i < l ? 1 : 0))),
        [ids.length, t, 1],
      );
      const out = textEncoder(ctx, cfg, 10, tf.tensor2d(ids, [ids.length, t], 'int32'), mask);
      return { mu: out.mu.arraySync(), logw: out.logw.arraySync() };
    });
  run([[1]], [1]); // creates the weights
  ctx.ps.freeze();
  // the padded positions of utterance 1 hold junk ids: they must not matter
  const batch = await assertNoLeak(
    () =>
      run(
        [
          [1, 2, 3, 4, 5, 6],
          [7, 8, 9, 5, 5, 5],
        ],
        [6, 3],
      ),
    'encoder',
  );
  const alone = run([[7, 8, 9]], [3]);
  assert.equal(batch.mu.length, 2);
  assert.equal(batch.mu[0]!.length, 6);
  assert.equal(batch.mu[0]![0]!.length, cfg.nFeats);
  assert.equal(batch.logw[0]![0]!.length, 1);
  for (let i = 3; i < 6; i++) {
    assert.ok(batch.mu[1]![i]!.every((v) => v === 0));
    assert.ok(batch.logw[1]![i]![0] === 0);
  }
  assert.ok(maxDiff(batch.mu[1]!.slice(0, 3).flat(), alone.mu[0]!.flat()) < 1e-4);
  assert.ok(maxDiff(batch.logw[1]!.slice(0, 3).flat(), alone.logw[0]!.flat()) < 1e-4);
  // and position matters (rotary attention): permuting the tokens does not just permute μ
  const perm = run([[9, 8, 7]], [3]);
  assert.ok(maxDiff(perm.mu[0]![0]!, alone.mu[0]![2]!) > 1e-3);
  ctx.ps.dispose();
});

test('time embedding: sin/cos halves of t·scale at geometric frequencies', () => {
  const e = tf.tidy(() => timeEmbedding(tf.tensor1d([0.5]), 8, 1000).dataSync());
  for (let i = 0; i < 4; i++) {
    const a = 500 * Math.exp((-i * Math.log(10000)) / 3);
    assert.ok(Math.abs(e[i]! - Math.sin(a)) < 1e-3 && Math.abs(e[4 + i]! - Math.cos(a)) < 1e-3, `component ${i}`);
  }
});

test('U-Net: output [B, F, W] masked, and a padded batch equals each utterance alone', async () => {
  const cfg = TEST_CFG;
  const f = cfg.nFeats;
  const ctx: Ctx = { ps: new ParamStore(2), training: false, rng: null };
  const rng = new Rng(3);
  const run = (x: Float32Array, mu: Float32Array, lens: number[], w: number, t: number[]) =>
    tf.tidy(() => {
      const b = lens.length;
      const mask = tf.tensor3d(
        lens.flatMap((l) => Array.from({ length: w }, (_, i) => (i < l ? 1 : 0))),
        [b, 1, w],
      );
      return scoreUNet(ctx, cfg, tf.tensor3d(x, [b, f, w]), tf.tensor3d(mu, [b, f, w]), mask, tf.tensor1d(t)).arraySync();
    });
  const w = 12;
  const x = rng.normals(2 * f * w);
  const mu = rng.normals(2 * f * w);
  run(x, mu, [12, 5], w, [0.3, 0.7]); // creates the weights
  ctx.ps.freeze();
  // the weights of ReZero gates start at 0; give them a value so attention is exercised
  for (const [name, v] of ctx.ps.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.scalar(0.7).reshape([1]));
  const batch = await assertNoLeak(() => run(x, mu, [12, 5], w, [0.3, 0.7]), 'U-Net');
  assert.equal(batch.length, 2);
  assert.equal(batch[0]!.length, f);
  assert.equal(batch[0]![0]!.length, w);
  for (let r = 0; r < f; r++) for (let j = 5; j < w; j++) assert.ok(batch[1]![r]![j] === 0);
  // utterance 1 alone, padded only to fixLen(5) = 8 frames with zeros
  const wa = fixLen(5, cfg);
  assert.equal(wa, 8);
  const xa = new Float32Array(f * wa);
  const ma = new Float32Array(f * wa);
  for (let r = 0; r < f; r++) {
    xa.set(x.subarray((f + r) * w, (f + r) * w + 5), r * wa);
    ma.set(mu.subarray((f + r) * w, (f + r) * w + 5), r * wa);
  }
  const alone = run(xa, ma, [5], wa, [0.7]);
  let d = 0;
  for (let r = 0; r < f; r++) d = Math.max(d, maxDiff(batch[1]![r]!.slice(0, 5), alone[0]![r]!.slice(0, 5)));
  assert.ok(d < 1e-4, `valid outputs differ by ${d}`);
  const scale = Math.max(...alone[0]!.flat().map(Math.abs));
  assert.ok(scale > 1e-3, 'U-Net output is not trivially zero');
  ctx.ps.dispose();
});
