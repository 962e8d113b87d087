/**
 * A map-pool job for tests (src/parallel/map-pool.test.ts): item k → { k, twice: 2k, worker } after
 * `ms` milliseconds of busy work, so several workers get items; item `fail` throws a UserError.
 */
import { threadId } from 'node:worker_threads';
import { UserError } from '../errors.js';

export interface MapJobArgs {
  ms: number;
  fail: number;
  /** Set to 1 (Atomics) when a helper starts an item: a test's blocked thread can see it without its event loop. */
  started?: SharedArrayBuffer;
}

export interface MapJobResult {
  k: number;
  twice: number;
  /** Which worker ran it: process id and thread id. */
  worker: string;
}

/** The handler, wherever it runs (this process as worker 1, or a helper). */
export function handle(a: MapJobArgs, k: number): MapJobResult {
  if (k === a.fail) throw new UserError(`item ${k}: cannot be done (test hook)`);
  if (a.started) Atomics.store(new Int32Array(a.started), 0, 1);
  const end = Date.now() + a.ms;
  while (Date.now() < end); // busy, as a synthesis blocks its event loop
  return { k, twice: 2 * k, worker: `${process.pid}:${threadId}` };
}

export async function setup(args: unknown): Promise<(k: unknown) => MapJobResult> {
  const a = args as MapJobArgs;
  return (k) => handle(a, k as number);
}
