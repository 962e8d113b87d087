import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { Rng } from '../util/rng.js';
import {
  assignWeights,
  checkpointName,
  latestLoadable,
  listCheckpoints,
  readCheckpoint,
  rotateCheckpoints,
  saveCheckpoint,
  type CheckpointMeta,
} from './checkpoint.js';
import { Trainer, freshLoopState } from './loop.js';
import { appendMetrics, readMetrics, truncateMetrics } from './metrics.js';
import { DataOrder } from '../trainable/trainable.js';
import { TOY_CONFIG, ToyModel, toyBatch, toyData, type ToyBatch } from './toy.js';

function meta(step: number, order: DataOrder, rng: Rng): CheckpointMeta {
  return {
    step,
    data: order.state(),
    modelRng: rng.state(),
    loop: freshLoopState(),
    model: { kind: 'toy', config: TOY_CONFIG },
    nSymbols: null,
    textConfig: null,
    melConfig: null,
    recipe: {},
  };
}

async function trained(steps: number) {
  const model = ToyModel.create(TOY_CONFIG, 3);
  const trainer = new Trainer<ToyBatch>(model, { lr: 0.05, gradClip: 1, maxBadSteps: 3 });
  const data = toyData(TOY_CONFIG, 3);
  const order = DataOrder.create(TOY_CONFIG.items, 8, 3);
  const rng = new Rng(4);
  for (let i = 0; i < steps; i++) await trainer.step(toyBatch(data, order.next()), rng);
  return { model, trainer, data, order, rng };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'difftts-ckpt-'));
const userError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message) && !err.message.includes('\n');

test('checkpoint: save → load restores identical variables, outputs and Adam state; continuing matches bitwise', async () => {
  const dir = join(tmp(), 'checkpoints', checkpointName(5));
  const a = await trained(5);
  await saveCheckpoint(dir, a.model.variables, a.trainer.optimizer, meta(5, a.order, a.rng));
  const ck = readCheckpoint(dir);
  assert.equal(ck.meta.step, 5);

  const b = { model: ToyModel.create(TOY_CONFIG, 99) };
  const trainerB = new Trainer<ToyBatch>(b.model, { lr: 0.05, gradClip: 1, maxBadSteps: 3 });
  await tf.ready();
  const before = tf.memory().numTensors;
  assignWeights(b.model.variables, ck);
  await trainerB.optimizer.restore(ck.optimizer!);
  // Adam's m and v are created by restoring (2 per variable) plus nothing else.
  assert.equal(tf.memory().numTensors - before, 2 * b.model.variables.size);
  for (const [name, v] of a.model.variables) assert.deepEqual(b.model.variables.get(name)!.dataSync(), v.dataSync());
  const x = toyData(TOY_CONFIG, 8).x;
  assert.deepEqual(b.model.predict(x), a.model.predict(x));

  const orderB = DataOrder.fromState(TOY_CONFIG.items, 8, ck.meta.data);
  const rngB = Rng.fromState(ck.meta.modelRng);
  for (let i = 0; i < 10; i++) {
    const ra = await a.trainer.step(toyBatch(a.data, a.order.next()), a.rng);
    const rb = await trainerB.step(toyBatch(a.data, orderB.next()), rngB);
    assert.deepEqual(rb.terms, ra.terms);
  }
  for (const [name, v] of a.model.variables) assert.deepEqual(b.model.variables.get(name)!.dataSync(), v.dataSync(), name);
  a.trainer.dispose();
  a.model.dispose();
  trainerB.dispose();
  b.model.dispose();
});

test('checkpoint: a missing, truncated or corrupted file is a one-line UserError naming it', async () => {
  const root = tmp();
  const a = await trained(2);
  const make = async (name: string) => {
    const d = join(root, name);
    await saveCheckpoint(d, a.model.variables, a.trainer.optimizer, meta(2, a.order, a.rng));
    return d;
  };
  const d1 = await make('trunc');
  truncateSync(join(d1, 'weights.bin'), 8);
  assert.throws(() => readCheckpoint(d1), userError(/trunc\/weights\.bin: 8 bytes, expected 20 \(truncated\)/));
  const d2 = await make('missing');
  rmSync(join(d2, 'optimizer.bin'));
  assert.throws(() => readCheckpoint(d2), userError(/missing\/optimizer\.bin: missing/));
  const d3 = await make('corrupt');
  const buf = readFileSync(join(d3, 'weights.bin'));
  buf[3] = buf[3]! ^ 0xff;
  writeFileSync(join(d3, 'weights.bin'), buf);
  assert.throws(() => readCheckpoint(d3), userError(/corrupt\/weights\.bin: checksum mismatch/));
  const d4 = await make('state');
  writeFileSync(join(d4, 'state.json'), '{"format": "difftts-check');
  assert.throws(() => readCheckpoint(d4), userError(/state\/state\.json: truncated or not JSON/));
  assert.throws(() => readCheckpoint(join(root, 'nope')), userError(/nope: not a checkpoint directory/));
  // too long is not "truncated"
  const d5 = await make('long');
  appendFileSync(join(d5, 'weights.bin'), Buffer.alloc(4));
  assert.throws(
    () => readCheckpoint(d5),
    userError(/long\/weights\.bin: 24 bytes, expected 20 \(longer than its index says: the checkpoint is damaged\)$/),
  );
  // a newer format names its version
  const d6 = await make('newer');
  const st = JSON.parse(readFileSync(join(d6, 'state.json'), 'utf8'));
  writeFileSync(join(d6, 'state.json'), JSON.stringify({ ...st, version: 7 }));
  assert.throws(
    () => readCheckpoint(d6),
    userError(/newer\/state\.json: written by a newer difftts \(checkpoint version 7; this difftts reads version 1/),
  );
  // an unreadable file or folder is not "missing" (root reads any folder: then only the file check applies)
  const d8 = await make('dirstate');
  rmSync(join(d8, 'state.json'));
  mkdirSync(join(d8, 'state.json'));
  assert.throws(() => readCheckpoint(d8), userError(/dirstate\/state\.json: cannot read \(EISDIR\)$/));
  const d7 = await make('unreadable');
  chmodSync(d7, 0);
  try {
    if (process.getuid?.() !== 0)
      assert.throws(() => readCheckpoint(d7), userError(/unreadable: cannot read the checkpoint folder \(EACCES\)$/));
  } finally {
    chmodSync(d7, 0o755);
  }
  a.trainer.dispose();
  a.model.dispose();
});

test('checkpoint: weights from another model config are refused, naming weights.json', async () => {
  const root = tmp();
  const a = await trained(1);
  await saveCheckpoint(join(root, 'c'), a.model.variables, a.trainer.optimizer, meta(1, a.order, a.rng));
  const other = ToyModel.create({ ...TOY_CONFIG, dim: 6, items: 8 }, 1);
  assert.throws(
    () => assignWeights(other.variables, readCheckpoint(join(root, 'c'))),
    userError(/c\/weights\.json: 'linear\/w' has shape \[4,1\], the model expects \[6,1\]/),
  );
  other.dispose();
  a.trainer.dispose();
  a.model.dispose();
});

test('checkpoint: rotation keeps the newest K and never deletes when the newest does not load', async () => {
  const run = tmp();
  const a = await trained(1);
  for (const s of [10, 20, 30, 40]) {
    await saveCheckpoint(join(run, 'checkpoints', checkpointName(s)), a.model.variables, a.trainer.optimizer, meta(s, a.order, a.rng));
  }
  rotateCheckpoints(run, 2);
  assert.deepEqual(
    listCheckpoints(run).map((c) => c.step),
    [30, 40],
  );
  await saveCheckpoint(join(run, 'checkpoints', checkpointName(50)), a.model.variables, a.trainer.optimizer, meta(50, a.order, a.rng));
  truncateSync(join(run, 'checkpoints', checkpointName(50), 'weights.bin'), 3);
  rotateCheckpoints(run, 1);
  assert.deepEqual(
    listCheckpoints(run).map((c) => c.step),
    [30, 40, 50],
  );
  const warnings: string[] = [];
  assert.equal(latestLoadable(run, (m) => warnings.push(m))!.meta.step, 40);
  assert.match(warnings[0]!, /step-000050\/weights\.bin/);
  a.trainer.dispose();
  a.model.dispose();
});

test('metrics: resume truncation drops a torn last line and lines after the checkpoint step', async () => {
  const p = join(tmp(), 'metrics.jsonl');
  for (const s of [5, 10, 15, 20]) appendMetrics(p, { step: s, total: s / 10 });
  appendFileSync(p, '{"step": 25, "tot');
  assert.deepEqual(
    readMetrics(p).map((m) => m.step),
    [5, 10, 15, 20],
  );
  truncateMetrics(p, 15);
  assert.equal(readFileSync(p, 'utf8'), '{"step":5,"total":0.5}\n{"step":10,"total":1}\n{"step":15,"total":1.5}\n');
  truncateMetrics(join(tmp(), 'absent.jsonl'), 3);
  assert.equal(existsSync(join(tmp(), 'absent.jsonl')), false);
});
