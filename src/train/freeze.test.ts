/**
 * train.freeze: frozen variables stay bit for bit (weights, moving average, Adam state) while the
 * others train — with tfjs Adam and the host-buffer update the worker pool uses — and the
 * optimizer's checkpoint layout keeps a slot pair for every variable.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { parseLossConfig } from '../loss/index.js';
import { GradTTS, type Batch } from '../model/index.js';
import { TEST_CFG } from '../testing/model-config.js';
import { assertNoLeak } from '../testing/tensors.js';
import { Rng } from '../util/rng.js';
import { gradTTSTrainable } from './gradtts-task.js';
import { Trainer } from './loop.js';
import { DataOrder } from '../trainable/trainable.js';
import { TOY_CONFIG, ToyModel, toyBatch, toyData, type ToyBatch } from './toy.js';

before(async () => {
  await initBackend('wasm');
});

function snapshot(vars: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...vars].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

const N_SYMBOLS = 20;

function batchOf(seed: number): Batch {
  const rng = new Rng(seed);
  const lens = [
    [5, 9],
    [7, 20],
    [4, 15],
  ];
  return {
    ids: lens.map(([tx]) => Int32Array.from({ length: tx! }, () => 1 + rng.int(N_SYMBOLS - 1))),
    mels: lens.map(([, ty]) => ({
      data: Float32Array.from(rng.normals(TEST_CFG.nFeats * ty!), (x) => x - 3),
      nMels: TEST_CFG.nFeats,
      frames: ty!,
    })),
  };
}

for (const host of [false, true]) {
  test(`GradTTS, encoder and duration predictor frozen${host ? ' (host update, as with workers)' : ''}: their weights and moving average stay bit for bit, the decoder's change`, async () => {
    const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 3);
    const loss = parseLossConfig({ type: 'l2' }, 'test');
    const frozen = model.variablesOf(['encoder', 'durationPredictor']);
    assert.ok(frozen.length > 10 && frozen.every((n) => n.startsWith('encoder.') || n.startsWith('dp.')));
    assert.ok(model.variablesOf(['decoder']).every((n) => n.startsWith('decoder.')));
    assert.equal(model.variablesOf(['encoder', 'durationPredictor', 'decoder']).length, model.variables.size);
    const trainer = new Trainer(gradTTSTrainable(model, loss, 0), { lr: 1e-2, gradClip: 1, maxBadSteps: 3, ema: 0.9, host, frozen });
    const before = snapshot(model.variables);
    const rng = new Rng(5);
    assert.ok((await trainer.step(batchOf(9), rng, 0)).ok); // creates Adam's slots
    await assertNoLeak(async () => {
      for (let i = 1; i < 3; i++) {
        const r = await trainer.step(batchOf(i), rng, i);
        assert.ok(r.ok && Number.isFinite(r.terms.total!));
      }
    }, 'frozen steps');
    const after = snapshot(model.variables);
    const avg = snapshot(trainer.ema!.shadow);
    for (const name of frozen) {
      assert.deepEqual(after.get(name), before.get(name), `${name} moved`);
      assert.deepEqual(avg.get(name), before.get(name), `the moving average of ${name} moved`);
    }
    const moved = model.variablesOf(['decoder']).filter((n) => after.get(n)!.some((x, k) => x !== before.get(n)![k]));
    assert.ok(moved.length > model.variablesOf(['decoder']).length / 2, `only ${moved.length} decoder weights changed`);
    // the checkpoint layout: m and v for every variable, zeros for the frozen ones
    const st = await trainer.optimizer.snapshot();
    assert.equal(st.tensors.length, 2 * model.variables.size);
    const names = [...model.variables.keys()];
    st.tensors.forEach((t, i) => assert.equal(t.name, `${names[i % names.length]}/${i < names.length ? 'm' : 'v'}`));
    for (const t of st.tensors)
      if (frozen.includes(t.name.split('/')[0]!))
        assert.ok(
          t.data.every((x) => x === 0),
          `${t.name} not zero`,
        );
    trainer.dispose();
    model.dispose();
  });
}

test('differentiating the decoder alone gives the full step’s decoder gradient and terms, bit for bit', async () => {
  const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 3);
  const loss = parseLossConfig({ type: 'l2' }, 'test');
  const { gradientsOf } = await import('../trainable/gradients.js');
  const { ItemDraws } = await import('../util/rng.js');
  const tr = gradTTSTrainable(model, loss, 0);
  const dec = model.variablesOf(['decoder']);
  const parts = [{ batch: batchOf(1), draws: new ItemDraws(77) }];
  const all = await gradientsOf(tr, [...model.variables.values()], parts, 1, 0);
  const some = await gradientsOf(
    tr,
    dec.map((n) => model.variables.get(n)!),
    parts,
    1,
    0,
  );
  const names = [...model.variables.keys()];
  assert.equal(some.grads.length, dec.length);
  some.grads.forEach((g, i) => {
    const ref = all.grads[names.indexOf(dec[i]!)]!;
    assert.deepEqual(g.dataSync(), ref.dataSync(), dec[i]);
  });
  assert.deepEqual(some.terms, all.terms);
  tf.dispose([...all.grads, ...some.grads]);
  model.dispose();
});

test('toy: resuming a frozen run from its optimizer state (frozen slots kept as restored) equals the uninterrupted run', async () => {
  const data = toyData(TOY_CONFIG, 7);
  const run = async (split: boolean) => {
    const model = ToyModel.create(TOY_CONFIG, 7);
    const order = DataOrder.create(TOY_CONFIG.items, 8, 7);
    const rng = new Rng(11);
    const opts = { lr: 0.05, gradClip: 0, maxBadSteps: 3, ema: 0.5, frozen: ['linear/b'] };
    let trainer = new Trainer<ToyBatch>(model, opts);
    const b0 = model.variables.get('linear/b')!.dataSync()[0];
    for (let i = 0; i < 10; i++) {
      if (split && i === 5) {
        const st = await trainer.optimizer.snapshot();
        // a restored checkpoint's slots of the frozen weight come back unchanged
        st.tensors[1]!.data.fill(0.25);
        const avg = snapshot(trainer.ema!.shadow);
        const loop = trainer.loop;
        trainer.dispose();
        trainer = new Trainer<ToyBatch>(model, opts);
        await trainer.optimizer.restore(st);
        trainer.ema!.assign(new Map([...avg].map(([k, d]) => [k, { shape: model.variables.get(k)!.shape, data: d }])));
        trainer.loop = loop;
        const again = await trainer.optimizer.snapshot();
        assert.deepEqual(again.tensors[1]!.data, st.tensors[1]!.data);
      }
      await trainer.step(toyBatch(data, order.next()), rng, i);
    }
    assert.equal(model.variables.get('linear/b')!.dataSync()[0], b0);
    const w = snapshot(model.variables);
    trainer.dispose();
    model.dispose();
    return w;
  };
  assert.deepEqual(await run(true), await run(false));
});

test('freezing every variable is one line', () => {
  const model = ToyModel.create(TOY_CONFIG, 7);
  assert.throws(
    () => new Trainer<ToyBatch>(model, { lr: 0.1, gradClip: 0, maxBadSteps: 3, frozen: ['linear/w', 'linear/b'] }),
    /train\.freeze: every variable of the model is frozen/,
  );
  model.dispose();
});
