/**
 * TrainPool against the in-process gradient of the whole batch (Trainer.stepMicro's function),
 * for the toy model and a small GradTTS with dropout on; failing and dying workers.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { parseLossConfig } from '../loss/index.js';
import { parseRecipe } from '../train/recipe.js';
import { GradTTS, type Batch } from '../model/index.js';
import { TEST_CFG } from '../testing/model-config.js';
import { gradientsOf } from '../trainable/gradients.js';
import type { Task } from '../train/task.js';
import { splitBatch, type Trainable } from '../trainable/trainable.js';
import { TOY_CONFIG, ToyModel, toyBatch, toyData, type ToyBatch } from '../train/toy.js';
import { ItemDraws, Rng } from '../util/rng.js';
import { WorkerFailed } from './peer.js';
import { TrainPool } from './train-pool.js';

before(async () => {
  await initBackend('wasm');
});

/** The in-process reference: what Trainer.stepMicro differentiates for this step. */
async function reference<B>(
  task: Task<B>,
  idx: number[],
  accumulate: number,
  rng: Rng,
): Promise<{ grads: Float32Array[]; terms: Record<string, number> }> {
  const seed = rng.nextU32();
  let first = 0;
  const parts = splitBatch(idx, accumulate).map((i) => {
    const p = { batch: task.batch(i), draws: new ItemDraws(seed, first) };
    first += i.length;
    return p;
  });
  const r = await gradientsOf(task.trainable, [...task.trainable.variables.values()], parts, parts.length, 0);
  const grads = r.grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose(r.grads);
  return { grads, terms: r.terms };
}

/** max |a − b| / max |b| over all gradients (a: the pool's flat buffer; b: per variable). */
function relDiff(a: Float32Array, b: Float32Array[]): number {
  let d = 0;
  let m = 0;
  let off = 0;
  for (const g of b) {
    for (let k = 0; k < g.length; k++) {
      d = Math.max(d, Math.abs(a[off + k]! - g[k]!));
      m = Math.max(m, Math.abs(g[k]!));
    }
    off += g.length;
  }
  assert.equal(off, a.length);
  return d / m;
}

function toyTask(failItem = -1): Task<ToyBatch> {
  const cfg = { ...TOY_CONFIG, dim: 16, items: 32, failItem };
  const model = ToyModel.create(cfg, 5);
  const data = toyData(cfg, 5);
  return {
    trainable: model,
    nItems: cfg.items,
    batch: (idx) => (idx.includes(failItem) ? { ...toyBatch(data, idx), fail: true } : toyBatch(data, idx)),
    meta: { model: { kind: 'toy', config: cfg }, nSymbols: null, textConfig: null, melConfig: null },
    replica: { module: new URL('../train/task.js', import.meta.url).href, args: { cfg, seed: 5 } },
    dispose: () => model.dispose(),
  };
}

test('toy: 2 workers, and 3 with 2 micro-batches, give the whole batch’s gradient and terms (rel. 1e-6), with and without accumulation', async () => {
  const task = toyTask();
  for (const [n, accumulate] of [
    [2, 1],
    [3, 2],
  ] as const) {
    const pool = await TrainPool.start(task, task.replica, n, 'wasm');
    try {
      const idx = [3, 9, 1, 30, 12, 7, 21, 0];
      const ref = await reference(task, idx, accumulate, new Rng(8));
      const got = await pool.gradients(idx, accumulate, new Rng(8), 0);
      const d = relDiff(got.grads, ref.grads);
      assert.ok(d < 1e-6, `${n} workers, accumulate ${accumulate}: relative gradient difference ${d}`);
      for (const k of Object.keys(ref.terms))
        assert.ok(Math.abs(got.terms[k]! - ref.terms[k]!) <= 1e-6 * Math.abs(ref.terms[k]!), `${k}: ${got.terms[k]} vs ${ref.terms[k]}`);
      // same inputs again: bitwise the same (fixed reduction order)
      const again = await pool.gradients(idx, accumulate, new Rng(8), 0);
      assert.deepEqual(again.grads, got.grads);
    } finally {
      await pool.close();
    }
  }
  task.dispose();
});

test('toy with a frozen weight: the pool returns the trained weights’ gradient only, equal to the whole batch’s', async () => {
  const task = { ...toyTask(), frozen: ['linear/w'] };
  const pool = await TrainPool.start(task, task.replica, 2, 'wasm');
  try {
    const idx = [3, 9, 1, 30, 12, 7];
    const ref = await reference(task, idx, 1, new Rng(8));
    const got = await pool.gradients(idx, 1, new Rng(8), 0);
    assert.equal(got.grads.length, 1); // linear/b
    assert.ok(relDiff(got.grads, [ref.grads[1]!]) < 1e-6);
  } finally {
    await pool.close();
    task.dispose();
  }
});

test('worker threads (the default) and worker processes give the same bits', async () => {
  const task = toyTask();
  const idx = [3, 9, 1, 30, 12, 7];
  const bits: Float32Array[] = [];
  const saved = process.env.DIFFTTS_WORKERS_AS;
  try {
    for (const as of ['process', 'thread']) {
      process.env.DIFFTTS_WORKERS_AS = as;
      const pool = await TrainPool.start(task, task.replica, 2, 'wasm');
      try {
        const pids = pool.pids;
        if (as === 'process') assert.ok(pids.length === 1 && pids[0] !== process.pid, `helper pids ${pids}`);
        else assert.deepEqual(pids, [process.pid]);
        bits.push((await pool.gradients(idx, 1, new Rng(8), 0)).grads);
      } finally {
        await pool.close();
      }
    }
  } finally {
    if (saved === undefined) delete process.env.DIFFTTS_WORKERS_AS;
    else process.env.DIFFTTS_WORKERS_AS = saved;
  }
  assert.deepEqual(bits[0], bits[1]);
  task.dispose();
});

test('worker processes do not outlive a parent killed with SIGKILL', async () => {
  // a parent that starts a 2-worker pool, prints the workers' pids, then waits to be killed
  const pool = new URL('./train-pool.js', import.meta.url).href;
  const toy = new URL('../train/toy.js', import.meta.url).href;
  const task = new URL('../train/task.js', import.meta.url).href;
  const backend = new URL('../backend/index.js', import.meta.url).href;
  const src = `
    const { TrainPool } = await import(${JSON.stringify(pool)});
    const { TOY_CONFIG, ToyModel } = await import(${JSON.stringify(toy)});
    await (await import(${JSON.stringify(backend)})).initBackend('wasm');
    const cfg = { ...TOY_CONFIG, dim: 8, items: 8, failItem: -1 };
    const model = ToyModel.create(cfg, 5);
    const t = { trainable: model, nItems: 8, batch: () => null, meta: {}, replica: { module: ${JSON.stringify(task)}, args: { cfg, seed: 5 } }, dispose: () => {} };
    const p = await TrainPool.start(t, t.replica, 3, 'wasm');
    console.log(JSON.stringify(p.pids));
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', src], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DIFFTTS_WORKERS_AS: 'process' },
  });
  const pids = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as number[]);
    });
    parent.on('exit', (code) => reject(new Error(`the parent exited (code ${code}) before printing pids: ${out}`)));
  });
  assert.equal(pids.length, 2);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(pids.every(alive), 'workers run');
  parent.kill('SIGKILL');
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pids.filter(alive), [], 'workers still running 5 s after their parent was killed');
});

test('GradTTS (test config, dropout on): 2 workers give the whole batch’s gradient up to float rounding (rel. 2e-5)', async (t) => {
  const nSymbols = 30;
  const loss = parseLossConfig({ type: 'pseudo-huber', schedule: 'exponential' }, 'test');
  const { gradTTSTrainable } = await import('../train/gradtts-task.js');
  const model = GradTTS.create(TEST_CFG, nSymbols, 4);
  const rng = new Rng(17);
  // lengths on both sides of the 12-frame segment, so shards pad differently from the whole batch
  const items = [
    [5, 9],
    [8, 30],
    [3, 7],
    [11, 40],
    [6, 14],
  ].map(([tx, ty]) => ({
    ids: Int32Array.from({ length: tx! }, () => 1 + rng.int(nSymbols - 1)),
    mel: { data: rng.normals(TEST_CFG.nFeats * ty!), nMels: TEST_CFG.nFeats, frames: ty! },
  }));
  const task: Task<Batch> = {
    trainable: gradTTSTrainable(model, loss, 0) as Trainable<Batch>,
    nItems: items.length,
    batch: (idx) => ({ ids: idx.map((i) => items[i]!.ids), mels: idx.map((i) => items[i]!.mel) }),
    meta: { model: { kind: 'gradtts', config: TEST_CFG }, nSymbols, textConfig: null, melConfig: null },
    replica: {
      module: new URL('../train/gradtts-task.js', import.meta.url).href,
      args: { cfg: TEST_CFG, nSymbols, recipe: parseRecipe({ loss, train: { seed: 99 } }, 'test') },
    },
    dispose: () => model.dispose(),
  };
  const pool = await TrainPool.start(task, task.replica, 2, 'wasm');
  try {
    const idx = [1, 0, 3, 2, 4];
    const ref = await reference(task, idx, 1, new Rng(3));
    const got = await pool.gradients(idx, 1, new Rng(3), 0);
    const d = relDiff(got.grads, ref.grads);
    assert.ok(d < 2e-5, `relative gradient difference ${d}`);
    t.diagnostic(`max |Δgrad| / max |grad| = ${d.toExponential(2)}`);
    for (const k of ['total', 'duration', 'prior', 'diffusion', 'deltaMean']) {
      assert.ok(Math.abs(got.terms[k]! - ref.terms[k]!) <= 1e-5 * Math.abs(ref.terms[k]!), `${k}: ${got.terms[k]} vs ${ref.terms[k]}`);
    }
    // another step seed, other draws: the check above is not comparing constants
    const other = await pool.gradients(idx, 1, new Rng(4), 0);
    assert.ok(relDiff(other.grads, ref.grads) > 1e-3);
  } finally {
    await pool.close();
    task.dispose();
  }
});

test('a worker that throws stops the step with one line naming it and the cause; so does one that dies', async () => {
  const task = toyTask(9);
  const pool = await TrainPool.start(task, task.replica, 2, 'wasm');
  try {
    await assert.rejects(
      pool.gradients([1, 2, 9, 4], 1, new Rng(1), 0),
      (e: unknown) =>
        e instanceof WorkerFailed && e.message === 'training worker 2 of 2 failed: toy model: failItem is in this batch (test hook)',
    );
  } finally {
    await pool.close();
  }
  const pool2 = await TrainPool.start(task, task.replica, 2, 'wasm');
  try {
    await pool2.kill(0);
    await assert.rejects(
      pool2.gradients([1, 2, 3, 4], 1, new Rng(1), 0),
      (e: unknown) =>
        e instanceof WorkerFailed &&
        /^training worker 2 of 2 failed: the worker (thread exited \(code \d+\)|process exited \(signal SIGKILL\))$/.test(e.message),
    );
  } finally {
    await pool2.close();
  }
  task.dispose();
});
