import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { exportWeights, listCheckpoints, readCheckpoint } from './checkpoint.js';
import { readMetrics } from './metrics.js';
import { runTraining, type TrainRunOptions } from './run.js';
import { WorkerFailed } from '../parallel/peer.js';
import type { Override } from './overrides.js';

process.env.DIFFTTS_DEBUG_TOY = '1';

const dir = mkdtempSync(join(tmpdir(), 'difftts-run-'));
const recipePath = join(dir, 'toy.json');
writeFileSync(
  recipePath,
  JSON.stringify({
    model: 'toy',
    loss: { type: 'l2' },
    train: { steps: 40, batchSize: 8, lr: 0.05, checkpointEvery: 10, keepCheckpoints: 2, logEvery: 3, pngEvery: 0, seed: 5, workers: 1 },
  }),
);
const quiet: Partial<TrainRunOptions> = { progress: false, log: () => {} };

/** Metrics lines without the wall-clock field, which is the only thing allowed to differ. */
function metricsOf(runDir: string): string[] {
  return readMetrics(join(runDir, 'metrics.jsonl')).map(({ sPerStep: _t, ...m }) => JSON.stringify(m));
}

test('run: resume after N steps equals an uninterrupted run bitwise (weights and metrics lines)', async () => {
  const full = join(dir, 'full');
  const r1 = await runTraining({ ...quiet, recipePath, outDir: full });
  assert.equal(r1.step, 40);
  const part = join(dir, 'part');
  await runTraining({ ...quiet, recipePath, outDir: part, steps: 20 });
  // a later, longer invocation resumes from step 20 (train.steps may grow)
  const r2 = await runTraining({ ...quiet, recipePath, outDir: part, resume: true, steps: 40 });
  assert.equal(r2.step, 40);
  const a = readCheckpoint(r1.checkpoint);
  const b = readCheckpoint(r2.checkpoint);
  assert.deepEqual(b.weights, a.weights);
  assert.deepEqual(b.optimizer, a.optimizer);
  assert.deepEqual(b.meta.data, a.meta.data);
  assert.deepEqual(metricsOf(part), metricsOf(full));
  assert.deepEqual(
    metricsOf(full).map((l) => JSON.parse(l).step),
    [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39],
  );
  assert.deepEqual(
    listCheckpoints(full).map((c) => c.step),
    [30, 40],
  );
  const stored = JSON.parse(readFileSync(join(full, 'recipe.json'), 'utf8'));
  assert.equal(stored.loss.schedule, 'constant', 'the stored recipe has the loss defaults filled in');
  const info = JSON.parse(readFileSync(join(part, 'run.json'), 'utf8'));
  assert.equal(info.resumedFromStep, 20);
  assert.equal(typeof info.versions.tfjs, 'string');
});

test('run: refuses a different recipe or existing checkpoints without --resume; --force starts over', async () => {
  const out = join(dir, 'guard');
  await runTraining({ ...quiet, recipePath, outDir: out, steps: 10 });
  await assert.rejects(
    runTraining({ ...quiet, recipePath, outDir: out, steps: 10 }),
    (e: unknown) => e instanceof UserError && /already has checkpoints \(pass --resume/.test(e.message),
  );
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ ...JSON.parse(readFileSync(recipePath, 'utf8')), loss: { type: 'l1' } }));
  await assert.rejects(
    runTraining({ ...quiet, recipePath: other, outDir: out, resume: true }),
    (e: unknown) => e instanceof UserError && /recipe\.json: this run directory was started with a different recipe/.test(e.message),
  );
  const r = await runTraining({ ...quiet, recipePath: other, outDir: out, steps: 5, force: true });
  assert.equal(r.step, 5);
  assert.deepEqual(
    listCheckpoints(out).map((c) => c.step),
    [5],
  );
  assert.deepEqual(
    readMetrics(join(out, 'metrics.jsonl')).map((m) => m.step),
    [3],
  );
});

test('run: resuming with a checkpoint from another model config is a UserError naming state.json', async () => {
  const out = join(dir, 'cfg');
  await runTraining({ ...quiet, recipePath, outDir: out, steps: 10 });
  const bigger = join(dir, 'bigger.json');
  writeFileSync(bigger, JSON.stringify({ ...JSON.parse(readFileSync(recipePath, 'utf8')), model: { base: 'toy', dim: 6 } }));
  await assert.rejects(
    runTraining({ ...quiet, recipePath: bigger, outDir: out, resume: true, force: true }),
    (e: unknown) => e instanceof UserError && /step-000010\/state\.json: the checkpoint is from another model config/.test(e.message),
  );
  assert.ok(existsSync(join(out, 'checkpoints', 'step-000010', 'weights.bin')), 'the old checkpoint is kept');
});

test('run: splitBatch makes nearly equal, non-empty micro-batches in order', async () => {
  const { splitBatch } = await import('./run.js');
  assert.deepEqual(splitBatch([1, 2, 3, 4, 5], 2), [
    [1, 2],
    [3, 4, 5],
  ]);
  assert.deepEqual(splitBatch([1, 2], 4), [[1], [2]]);
  assert.deepEqual(splitBatch([7, 8, 9], 1), [[7, 8, 9]]);
});

test('run: a whole run (train, checkpoint, resume) leaves no tensors behind', async () => {
  const { assertNoLeak } = await import('../testing/tensors.js');
  const out = join(dir, 'leak');
  await assertNoLeak(() => runTraining({ ...quiet, recipePath, outDir: out, steps: 12 }), 'runTraining');
  await assertNoLeak(() => runTraining({ ...quiet, recipePath, outDir: out, steps: 24, resume: true }), 'runTraining --resume');
});

test('run: a stored recipe from before a new defaulted field, or in another key order, still resumes', async () => {
  const out = join(dir, 'evolve');
  await runTraining({ ...quiet, recipePath, outDir: out, steps: 10 });
  const file = join(out, 'recipe.json');
  const stored = JSON.parse(readFileSync(file, 'utf8'));
  delete stored.train.accumulate; // as written by an older difftts
  const reordered = Object.fromEntries(Object.entries(stored).reverse());
  writeFileSync(file, JSON.stringify(reordered));
  const r = await runTraining({ ...quiet, recipePath, outDir: out, steps: 12, resume: true });
  assert.equal(r.step, 12);
});

test('run: with an lr warmup + cosine schedule and a weight EMA, stop-and-resume equals an uninterrupted run (weights, EMA, metrics)', async () => {
  const rp = join(dir, 'ema.json');
  const base = JSON.parse(readFileSync(recipePath, 'utf8'));
  writeFileSync(
    rp,
    JSON.stringify({ ...base, train: { ...base.train, steps: 30, warmupSteps: 6, lrDecay: 'cosine', minLrFactor: 0.2, ema: 0.9 } }),
  );
  const full = await runTraining({ ...quiet, recipePath: rp, outDir: join(dir, 'ema-full') });
  const part = join(dir, 'ema-part');
  let r = await runTraining({ ...quiet, recipePath: rp, outDir: part, maxSeconds: 1e-6 });
  for (let i = 0; r.step < 30 && i < 40; i++)
    r = await runTraining({ ...quiet, recipePath: rp, outDir: part, resume: true, maxSeconds: 1e-6 });
  assert.equal(r.step, 30);
  const a = readCheckpoint(full.checkpoint);
  const b = readCheckpoint(r.checkpoint);
  assert.ok(a.ema, 'the checkpoint keeps the moving average');
  assert.deepEqual(b.weights, a.weights);
  assert.deepEqual(b.ema, a.ema);
  assert.deepEqual(b.meta.loop, a.meta.loop);
  assert.equal(a.meta.loop.emaUpdates, 30);
  assert.notDeepEqual(a.ema, a.weights);
  assert.deepEqual(metricsOf(part), metricsOf(full.runDir));
  const lr = new Map(readMetrics(join(full.runDir, 'metrics.jsonl')).map((m) => [m.step, m.lr as number]));
  const close = (step: number, want: number) =>
    assert.ok(Math.abs(lr.get(step)! - want) < 1e-12, `lr at step ${step}: ${lr.get(step)} vs ${want}`);
  close(3, 0.05 * 0.5); // half way through the warmup
  close(18, 0.01 + 0.5 * 0.04); // half way down the cosine (p = 12/24)
  close(30, 0.01); // its floor, minLrFactor · lr
});

test("run: --init starts from another run's (EMA) weights with a fresh optimizer; export writes a weights-only voice it can start from", async () => {
  const rp = join(dir, 'init.json');
  const base = JSON.parse(readFileSync(recipePath, 'utf8'));
  writeFileSync(rp, JSON.stringify({ ...base, train: { ...base.train, steps: 20, ema: 0.8 } }));
  const src = await runTraining({ ...quiet, recipePath: rp, outDir: join(dir, 'init-src') });
  const srcCk = readCheckpoint(src.checkpoint);
  const voice = join(dir, 'voice');
  const ex = exportWeights(src.runDir, voice);
  assert.equal(ex.ema, true);
  // a voice's synthesis defaults can be set as it is exported; the rest of its recipe stays
  const tuned = join(dir, 'voice-tuned');
  exportWeights(
    src.runDir,
    tuned,
    () => {},
    (r) => ({ ...(r.synth as object), startTime: 0.3 }),
  );
  const stored = JSON.parse(readFileSync(join(tuned, 'state.json'), 'utf8')).recipe;
  assert.equal(stored.synth.startTime, 0.3);
  assert.deepEqual({ ...stored, synth: null }, { ...JSON.parse(readFileSync(join(voice, 'state.json'), 'utf8')).recipe, synth: null });
  const v = readCheckpoint(voice);
  assert.equal(v.optimizer, null, 'no optimizer state in an exported voice');
  assert.deepEqual(v.weights, srcCk.ema);
  // lr ≈ 0: one step leaves the weights where --init put them.
  const tiny = join(dir, 'init-tiny.json');
  writeFileSync(tiny, JSON.stringify({ ...base, train: { ...base.train, steps: 1, lr: 1e-12, checkpointEvery: 1 } }));
  for (const from of [src.runDir, voice]) {
    const out = join(dir, `init-dst-${from === voice ? 'voice' : 'run'}`);
    const r = await runTraining({ ...quiet, recipePath: tiny, outDir: out, init: from });
    const ck = readCheckpoint(r.checkpoint);
    for (const [name, w] of ck.weights) {
      const want = srcCk.ema!.get(name)!.data;
      w.data.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) < 1e-9, `${name}[${i}]`));
    }
    assert.equal(ck.optimizer!.iterations, 1, 'a fresh optimizer');
    assert.match(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).initFrom, /step-000020|voice/);
  }
  // another model config: one line naming the tensor
  const other = join(dir, 'init-other.json');
  writeFileSync(other, JSON.stringify({ ...base, model: { base: 'toy', dim: 5 } }));
  await assert.rejects(
    runTraining({ ...quiet, recipePath: other, outDir: join(dir, 'init-bad'), init: voice }),
    (e: unknown) =>
      e instanceof UserError &&
      /weights\.json: 'linear\/w' has shape \[4,1\], the model expects \[5,1\]/.test(e.message) &&
      !e.message.includes('\n'),
  );
  await assert.rejects(
    runTraining({ ...quiet, recipePath: tiny, outDir: join(dir, 'init-missing'), init: join(dir, 'nope') }),
    (e: unknown) => e instanceof UserError && /nope: no such run or checkpoint directory/.test(e.message),
  );
  // train.initPartial: the tensors that match load, the others stay as initialised, one line says which
  const partial = join(dir, 'init-partial.json');
  writeFileSync(
    partial,
    JSON.stringify({
      ...base,
      model: { base: 'toy', dim: 5 },
      train: { ...base.train, steps: 1, lr: 1e-12, checkpointEvery: 1, ema: 0.5, initPartial: true },
    }),
  );
  const lines: string[] = [];
  const fresh = await runTraining({ ...quiet, recipePath: partial, outDir: join(dir, 'init-partial-fresh') });
  const r = await runTraining({ ...quiet, log: (m) => lines.push(m), recipePath: partial, outDir: join(dir, 'init-partial'), init: voice });
  const said = lines.filter((l) => l.startsWith('partial --init'));
  assert.equal(said.length, 1, lines.join('\n'));
  assert.match(
    said[0]!,
    /^partial --init from .*voice: 1 of 2 tensors loaded; 1 freshly initialised: linear\/w \(\[4,1\] in the checkpoint, \[5,1\] here\)$/,
  );
  const ck = readCheckpoint(r.checkpoint);
  const near = (a: Float32Array, b: Float32Array, what: string) =>
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-9, `${what}[${i}]: ${x} vs ${b[i]}`));
  near(ck.weights.get('linear/b')!.data, srcCk.ema!.get('linear/b')!.data, 'loaded bias');
  near(ck.ema!.get('linear/b')!.data, srcCk.ema!.get('linear/b')!.data, 'its moving average');
  near(ck.weights.get('linear/w')!.data, readCheckpoint(fresh.checkpoint).weights.get('linear/w')!.data, 'freshly initialised weight');
});

const workers = (n: number): Override[] => [{ flag: `--train.workers ${n}`, path: ['train', 'workers'], raw: String(n) }];

test('run with 2 workers: bitwise reproducible, resume equals an uninterrupted run, and it matches 1 worker up to rounding', async () => {
  const a = join(dir, 'w2a');
  const b = join(dir, 'w2b');
  const logs: string[] = [];
  const ra = await runTraining({ ...quiet, log: (m) => logs.push(m), recipePath, overrides: workers(2), outDir: a, steps: 30 });
  assert.ok(logs.includes('training with 2 workers: this process and 1 worker thread (train.workers 2)'), logs.join('\n'));
  assert.equal(JSON.parse(readFileSync(join(a, 'run.json'), 'utf8')).workers, 2);
  // interrupted at 10, resumed to 30
  await runTraining({ ...quiet, recipePath, overrides: workers(2), outDir: b, steps: 10 });
  const rb = await runTraining({ ...quiet, recipePath, overrides: workers(2), outDir: b, steps: 30, resume: true });
  assert.deepEqual(readCheckpoint(rb.checkpoint).weights, readCheckpoint(ra.checkpoint).weights);
  assert.deepEqual(readCheckpoint(rb.checkpoint).optimizer, readCheckpoint(ra.checkpoint).optimizer);
  assert.deepEqual(metricsOf(b), metricsOf(a));
  // the same steps in the main thread: the same draws, so the same numbers up to float rounding
  const one = join(dir, 'w1');
  const r1 = await runTraining({ ...quiet, recipePath, outDir: one, steps: 30 });
  const w2 = readCheckpoint(ra.checkpoint).weights;
  for (const [k, t] of readCheckpoint(r1.checkpoint).weights) {
    const x = t.data;
    const y = w2.get(k)!.data;
    x.forEach((v, i) => assert.ok(Math.abs(v - y[i]!) <= 1e-4 * (1 + Math.abs(v)), `${k}[${i}]: ${v} vs ${y[i]}`));
  }
  readMetrics(join(one, 'metrics.jsonl')).forEach((m, i) => {
    const m2 = readMetrics(join(a, 'metrics.jsonl'))[i]!;
    assert.ok(Math.abs(Number(m.total) - Number(m2.total)) <= 1e-4 * Number(m.total), `step ${m.step}: ${m.total} vs ${m2.total}`);
  });
});

test('run with 2 workers: a worker that throws stops training with one line naming it; the last checkpoint loads', async () => {
  const out = join(dir, 'wfail');
  const failing = join(dir, 'failing.json');
  // with 128 items and seed 5, item 99 first appears in step 13's batch, after the step-10 checkpoint
  writeFileSync(
    failing,
    JSON.stringify({ ...JSON.parse(readFileSync(recipePath, 'utf8')), model: { base: 'toy', items: 128, failItem: 99 } }),
  );
  const logs: string[] = [];
  await assert.rejects(
    runTraining({ ...quiet, log: (m) => logs.push(m), recipePath: failing, overrides: workers(2), outDir: out }),
    (e: unknown) =>
      e instanceof WorkerFailed &&
      /^training stopped at step 13: training worker (1 of 2 \(this process\)|2 of 2) failed: toy model: failItem is in this batch \(test hook\)$/.test(
        e.message,
      ),
  );
  const ckpts = listCheckpoints(out);
  assert.deepEqual(
    ckpts.map((c) => c.step),
    [10],
  );
  assert.equal(readCheckpoint(ckpts[ckpts.length - 1]!.dir).meta.step, ckpts[ckpts.length - 1]!.step);
  assert.ok(
    logs.some((l) => l.startsWith('the last checkpoint is ')),
    logs.join('\n'),
  );
});
