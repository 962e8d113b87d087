/**
 * A map-pool job for tests (src/parallel/map-pool.test.ts): item k → { k, twice: 2k, pid } after
 * `ms` milliseconds of busy work, so several workers get items; item `fail` throws a UserError.
 */
import { UserError } from '../errors.js';

export interface MapJobArgs {
  ms: number;
  fail: number;
}

export interface MapJobResult {
  k: number;
  twice: number;
  pid: number;
}

/** The handler, wherever it runs (this process as worker 1, or a helper). */
export function handle(a: MapJobArgs, k: number): MapJobResult {
  if (k === a.fail) throw new UserError(`item ${k}: cannot be done (test hook)`);
  const end = Date.now() + a.ms;
  while (Date.now() < end); // busy, as a synthesis blocks its event loop
  return { k, twice: 2 * k, pid: process.pid };
}

export async function setup(args: unknown): Promise<(k: unknown) => MapJobResult> {
  const a = args as MapJobArgs;
  return (k) => handle(a, k as number);
}
