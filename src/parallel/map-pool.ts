/**
 * Independent jobs (sentences to synthesize, utterances to evaluate) spread over workers (worker
 * threads by default, child processes with DIFFTTS_WORKERS_AS=process; peer.ts):
 * each worker imports `spec.module` and calls its `setup(spec.args)` once (e.g. loading a model
 * from a checkpoint), then runs the handler it returns on one item at a time. Items go to
 * whichever worker is free; results come back in item order. A failing item fails the whole map
 * (a user mistake such as an unspeakable line with its own one-line message).
 */
import { capabilities } from '../backend/index.js';
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
  return capabilities().name;
}

/**
 * Runs the job on every item with `n` workers (n ≥ 2); `onDone(count, index, result)` after each result. With
 * `local` (the job's handler in this process, its model already loaded) this process is worker 1
 * and n − 1 helpers start: no helper's start-up and model load to wait for on its share. Each
 * helper holds two items, so it never idles while this process computes (which blocks the event
 * loop that would hand it its next item).
 */
export async function mapInWorkers<I, O>(
  spec: JobSpec,
  items: I[],
  n: number,
  what: string,
  onDone?: (done: number, index: number, result: O) => void,
  local?: (item: I) => Promise<O>,
): Promise<O[]> {
  const entry = new URL('./map-worker.js', import.meta.url);
  const count = Math.max(1, Math.min(n, items.length));
  const here = local ? 1 : 0; // this process is worker 1
  const peers = Array.from(
    { length: count - here },
    (_, j) => new Peer(`${what} worker ${j + 1 + here} of ${count}`, entry, { spec, backend: workerBackend() }),
  );
  const out = new Array<O>(items.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const take = () => (failed || next >= items.length ? -1 : next++);
  // one lane = one item at a time through `run`; a helper gets two lanes, this process one
  const lane = async (run: (item: I) => Promise<O>) => {
    for (let k = take(); k >= 0; k = take()) {
      out[k] = await run(items[k]!);
      onDone?.(++done, k, out[k]!);
    }
  };
  const ask = (p: Peer) => async (item: I) => ((await p.request({ item })) as { result: O }).result;
  const lanes = peers.map(async (p) => {
    await p.ready;
    await Promise.all([lane(ask(p)), lane(ask(p))]);
  });
  if (local) {
    lanes.push(
      lane(async (item) => {
        const r = await local(item);
        await new Promise((resolve) => setImmediate(resolve)); // let the helpers' replies and requests through
        return r;
      }),
    );
  }
  try {
    await Promise.all(
      lanes.map((l) =>
        l.catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
  } finally {
    failed = true; // no lane takes another item
    await Promise.all(peers.map((p) => p.close()));
    await Promise.allSettled(lanes); // this process's current item, if one fails first
  }
  return out;
}
