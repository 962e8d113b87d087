/**
 * mapInWorkers with this process as worker 1: results in item order whichever worker ran them,
 * the helper really gets items, and a failing item stops the map with its one-line error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threadId } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { handle, type MapJobArgs, type MapJobResult } from '../testing/map-job.js';
import { mapInWorkers } from './map-pool.js';
import { workerTransport } from './peer.js';

const module = new URL('../testing/map-job.js', import.meta.url).href;
const items = Array.from({ length: 16 }, (_, k) => k);

test('map pool: this process and a helper share the items; results in item order', async () => {
  const args: MapJobArgs = { ms: 100, fail: -1 };
  const done: number[] = [];
  // this process's first item waits for the helper's first result, however slowly it starts
  let helperDone: () => void = () => {};
  const helperFirst = new Promise<void>((r) => (helperDone = r));
  const local = async (k: number) => {
    if (k === 0) await helperFirst;
    return handle(args, k);
  };
  const out = await mapInWorkers<number, MapJobResult>(
    { module, args },
    items,
    2,
    'test',
    (d) => {
      done.push(d);
      helperDone();
    },
    local,
  );
  assert.deepEqual(
    out.map((r) => r.k),
    items,
  );
  assert.deepEqual(
    out.map((r) => r.twice),
    items.map((k) => 2 * k),
  );
  const here = `${process.pid}:${threadId}`;
  const workers = new Set(out.map((r) => r.worker));
  assert.ok(workers.has(here), 'this process computed none');
  assert.equal(workers.size, 2, `workers that computed items: ${[...workers]}`);
  assert.deepEqual(
    done,
    items.map((k) => k + 1),
  );
});

test('map pool: an item that fails, here or in a helper, stops the map with its one-line error', async () => {
  const here: MapJobArgs = { ms: 50, fail: 0 }; // item 0 is this process's first
  await assert.rejects(
    mapInWorkers<number, MapJobResult>({ module, args: here }, items, 2, 'test', undefined, async (k) => handle(here, k)),
    (e: unknown) => e instanceof UserError && e.message === 'item 0: cannot be done (test hook)',
  );
  // without a local handler every item goes to the helpers, as before
  const ok = await mapInWorkers<number, MapJobResult>({ module, args: { ms: 0, fail: -1 } }, items.slice(0, 4), 2, 'test');
  assert.ok(ok.every((r) => r.worker !== `${process.pid}:${threadId}`));
  await assert.rejects(
    mapInWorkers<number, MapJobResult>({ module, args: { ms: 0, fail: 2 } }, items.slice(0, 4), 2, 'test'),
    (e: unknown) => e instanceof UserError && e.message === 'item 2: cannot be done (test hook)',
  );
});

test('map pool: a helper starts on its items while this process computes without yielding (sent before it is ready)', {
  // the helper signals through shared memory, which only a worker thread shares
  skip: workerTransport() === 'process' ? 'a SharedArrayBuffer cannot reach a child process (DIFFTTS_WORKERS_AS=process)' : false,
}, async () => {
  const started = new SharedArrayBuffer(4);
  const flag = new Int32Array(started);
  const args: MapJobArgs = { ms: 10, fail: -1, started };
  let sawHelper = false;
  // this process's first item blocks its event loop until a helper item has begun (or 60 s): a
  // helper that waited for its readiness reply to be read, or for its items, would never begin
  const local = async (k: number) => {
    if (k === 0) {
      const end = Date.now() + 60_000;
      while (Atomics.load(flag, 0) === 0 && Date.now() < end);
      sawHelper = Atomics.load(flag, 0) === 1;
    }
    return handle({ ms: 10, fail: -1 }, k);
  };
  const out = await mapInWorkers<number, MapJobResult>({ module, args }, items.slice(0, 6), 2, 'test', undefined, local);
  assert.ok(sawHelper, 'no helper item began while this process was busy');
  assert.equal(out[0]!.worker, `${process.pid}:${threadId}`, 'this process takes the first item');
  assert.deepEqual(
    out.map((r) => r.k),
    items.slice(0, 6),
  );
});
