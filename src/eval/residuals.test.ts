import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import pngjs from 'pngjs';
import { initBackend } from '../backend/index.js';
import { GradTTS } from '../model/index.js';
import { TEST_CFG } from '../testing/model-config.js';
import { parseLossConfig } from '../loss/index.js';
import { assertNoLeak } from '../testing/tensors.js';
import { Rng } from '../util/rng.js';
import type { Utterance } from '../data/index.js';
import { compareResiduals, groupStats, itemResiduals, reduceResidual, residualNoise, type ItemResiduals } from './residuals.js';
import { writeResidualPng } from './residuals-plot.js';

const ROBUST = parseLossConfig({ type: 'pseudo-huber', schedule: 'exponential', c: 0.1 }, 'test');

before(async () => {
  await initBackend('wasm');
});

test('reduceResidual: rms, and the share of the L2 gradient pseudo-Huber keeps, against closed forms', () => {
  // constant |r| = a: rms a, every cell weighted δ/√(a² + δ²)
  const a = reduceResidual([3, -3, 3, -3], 4);
  assert.equal(a.rms, 3);
  assert.ok(Math.abs(a.kept - 4 / 5) < 1e-12);
  // two cells, r = 1 and 2 at δ = 1: (1·1/√2 + 4·1/√5) / 5
  const b = reduceResidual(Float32Array.from([1, 2]), 1);
  assert.ok(Math.abs(b.rms - Math.sqrt(2.5)) < 1e-12);
  assert.ok(Math.abs(b.kept - (1 / Math.SQRT2 + 4 / Math.sqrt(5)) / 5) < 1e-12);
  // large δ keeps all of L2; a zero residual has nothing to down-weight
  assert.ok(reduceResidual([0.1, -0.2], 1e6).kept > 1 - 1e-9);
  assert.deepEqual(reduceResidual([0, 0], 0.5), { rms: 0, kept: 1, delta: 0.5 });
});

test('groupStats: type-7 quartiles', () => {
  assert.deepEqual(groupStats([5, 1, 4, 2, 3]), { n: 5, q1: 2, median: 3, q3: 4 });
  assert.deepEqual(groupStats([1, 2]), { n: 2, q1: 1.25, median: 1.5, q3: 1.75 });
});

test('residualNoise: fixed per (seed, id), standard normal', () => {
  assert.deepEqual(residualNoise(1, 'a', 8), residualNoise(1, 'a', 8));
  assert.notDeepEqual(residualNoise(1, 'a', 8), residualNoise(1, 'b', 8));
  assert.notDeepEqual(residualNoise(1, 'a', 8), residualNoise(2, 'a', 8));
  const z = residualNoise(3, 'x', 20000);
  const mean = z.reduce((s, v) => s + v, 0) / z.length;
  const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
});

/** Items whose rms values are given: diffusion at one t, the prior the same values halved. */
function fakeItems(target: number[], donor: number[]): ItemResiduals[] {
  const mk = (rms: number, i: number, isDonor: boolean): ItemResiduals => ({
    id: `${isDonor ? 'd' : 't'}${i}`,
    donor: isDonor,
    frames: 10,
    prior: { rms: rms / 2, kept: 1 / rms, delta: 1 },
    diffusion: [{ t: 0.5, rms, kept: 1 / rms, delta: 0.3 }],
  });
  return [...target.map((r, i) => mk(r, i, false)), ...donor.map((r, i) => mk(r, i, true))];
}

test('compareResiduals: AUC, median ratio and the share beyond the target fence', () => {
  // targets 1..5: Q1 2, Q3 4, fence 7; donors 6, 8, 10: two of three beyond it, every donor above every target
  const [prior, diff] = compareResiduals(fakeItems([1, 2, 3, 4, 5], [6, 8, 10]));
  assert.equal(diff!.term, 'diffusion t=0.5');
  assert.equal(diff!.delta, 0.3);
  assert.equal(diff!.rms.auc, 1);
  assert.equal(diff!.rms.ratio, 8 / 3);
  assert.ok(Math.abs(diff!.rms.beyondFence - 2 / 3) < 1e-12);
  assert.equal(diff!.kept.ratio, 1 / 8 / (1 / 3));
  assert.equal(prior!.term, 'prior');
  assert.equal(prior!.rms.auc, 1);
  // the same values in both groups: AUC ½ (ties count half), ratio 1, nobody beyond the fence
  const [, same] = compareResiduals(fakeItems([1, 2, 3], [1, 2, 3]));
  assert.equal(same!.rms.auc, 0.5);
  assert.equal(same!.rms.ratio, 1);
  assert.equal(same!.rms.beyondFence, 0);
});

test('itemResiduals with the score pinned to 0: the diffusion rms is the rms of the utterance’s fixed z at every t', async () => {
  const model = GradTTS.create(TEST_CFG, 12, 9);
  for (const n of ['decoder.final.conv.w', 'decoder.final.conv.b']) model.variables.get(n)!.assign(tf.zerosLike(model.variables.get(n)!));
  const f = TEST_CFG.nFeats;
  const rng = new Rng(1);
  const items: Utterance[] = [5, 9].map((frames, k) => ({
    id: `u${k}`,
    text: 'x',
    speaker: null,
    ids: Int32Array.from([1, 2, 3]),
    mel: { data: Float32Array.from(rng.normals(f * frames), (v) => v - 3), nMels: f, frames },
  }));
  const ts = [0.2, 0.8];
  const sde = { beta0: TEST_CFG.beta0, beta1: TEST_CFG.beta1 };
  const got = await assertNoLeak(() => itemResiduals(model, items, new Set(['u1']), { ts, seed: 7, robust: ROBUST, sde }), 'itemResiduals');
  assert.deepEqual(
    got.map((x) => [x.id, x.donor, x.frames]),
    [
      ['u0', false, 5],
      ['u1', true, 9],
    ],
  );
  for (const [k, it] of got.entries()) {
    const z = reduceResidual(residualNoise(7, items[k]!.id, f * items[k]!.mel.frames), 1);
    assert.deepEqual(
      it.diffusion.map((d) => d.t),
      ts,
    );
    for (const d of it.diffusion) {
      assert.ok(Math.abs(d.rms - z.rms) < 1e-6, `${it.id} t=${d.t}: rms ${d.rms} vs z's ${z.rms}`);
      assert.ok(Math.abs(d.delta - 0.1 ** d.t) < 1e-12, 'δ(t) = c^t');
    }
    assert.equal(it.prior.delta, 1, 'the prior term reads the schedule at t = 0');
    assert.ok(it.prior.rms > 1, 'y − μ of mels around −3 against an untrained μ');
  }
  model.dispose();
});

test('writeResidualPng: one diffusion panel per checkpoint and the prior panel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'residuals-'));
  try {
    const items = fakeItems([1, 2, 3, 4, 5], [6, 8, 10]);
    const path = join(dir, 'r.png');
    writeResidualPng(
      path,
      [
        { name: 'clean-trained', items },
        { name: 'corrupted', items },
      ],
      'residuals',
    );
    const png = pngjs.PNG.sync.read(readFileSync(path));
    assert.equal(png.width, 1000);
    assert.equal(png.height, 3 * 440);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
