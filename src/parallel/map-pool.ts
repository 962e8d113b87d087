/**
 * Independent jobs (sentences to synthesize, utterances to evaluate) spread over workers (child
 * processes by default, peer.ts):
 * each worker imports `spec.module` and calls its `setup(spec.args)` once (e.g. loading a model
 * from a checkpoint), then runs the handler it returns on one item at a time. Items go to
 * whichever worker is free; results come back in item order. A failing item fails the whole map
 * (a user mistake such as an unspeakable line with its own one-line message).
 */
import * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../backend/index.js';
import { Peer } from './peer.js';

export interface JobSpec {
  /** File URL of a module exporting `setup(args): Promise<(item) => Promise<result> | result>`. */
  module: string;
  /** Structured-cloneable arguments of setup. */
  args: unknown;
}

/** What a module named by a JobSpec exports. */
export interface JobModule {
  setup(args: unknown): Promise<(item: unknown) => unknown>;
}

/** The backend the workers start: the one this thread runs. */
export function workerBackend(): string {
  return currentBackend()?.name ?? tf.getBackend();
}

/** Runs the job on every item with `n` workers (n ≥ 2); `onDone(count)` after each result. */
export async function mapInWorkers<I, O>(spec: JobSpec, items: I[], n: number, what: string, onDone?: (done: number) => void): Promise<O[]> {
  const entry = new URL('./map-worker.js', import.meta.url);
  const count = Math.max(1, Math.min(n, items.length));
  const peers = Array.from({ length: count }, (_, j) => new Peer(`${what} worker ${j + 1} of ${count}`, entry, { spec, backend: workerBackend() }));
  const out = new Array<O>(items.length);
  let next = 0;
  let done = 0;
  try {
    await Promise.all(
      peers.map(async (p) => {
        await p.ready;
        while (next < items.length) {
          const k = next++;
          out[k] = ((await p.request({ item: items[k] })) as { result: O }).result;
          onDone?.(++done);
        }
      }),
    );
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
  return out;
}
