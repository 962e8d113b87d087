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

/** Helper workers started ahead of their items (startHelpers), so their start-up overlaps this process's own. */
export interface Helpers {
  peers: Peer[];
  /** Ends them (when the job stops before mapInWorkers takes them over). */
  close(): Promise<void>;
}

/**
 * Starts `helpers` workers of a job now, named "… worker k of `total`" (k from total − helpers + 1);
 * each loads what `spec` sets up while the caller prepares its items (mapInWorkers' `started`).
 */
export function startHelpers(spec: JobSpec, helpers: number, what: string, total = helpers + 1): Helpers {
  const entry = new URL('./map-worker.js', import.meta.url);
  const first = total - helpers + 1;
  const peers = Array.from(
    { length: Math.max(0, helpers) },
    (_, j) => new Peer(`${what} worker ${first + j} of ${total}`, entry, { spec, backend: workerBackend() }),
  );
  for (const p of peers) p.ready.catch(() => {}); // a start-up failure is reported by the request that meets it
  return { peers, close: async () => void (await Promise.all(peers.map((p) => p.close()))) };
}

/**
 * Runs the job on every item with `n` workers (n ≥ 2); `onDone(count, index, result)` after each result. With
 * `local` (the job's handler in this process, its model already loaded) this process is worker 1
 * and n − 1 helpers start: no helper's start-up and model load to wait for on its share. Each
 * helper holds two items, so it never idles while this process computes (which blocks the event
 * loop that would hand it its next item). Items are taken in array order (callers put the longest
 * first, so the last ones, which may leave a worker idle at the end, are short).
 *
 * A helper's first two items are sent as it is started, not when it reports ready: it starts on
 * them the moment its set-up ends, whereas its readiness reply would wait for this process's
 * event loop, i.e. the end of the item this process is computing (~1 s of a sentence: measured
 * idle in docs/PERFORMANCE.md, issue #24).
 */
export async function mapInWorkers<I, O>(
  spec: JobSpec,
  items: I[],
  n: number,
  what: string,
  onDone?: (done: number, index: number, result: O) => void,
  local?: (item: I) => Promise<O>,
  started?: Helpers,
): Promise<O[]> {
  const count = Math.max(1, Math.min(n, items.length));
  const here = local ? 1 : 0; // this process is worker 1
  let peers: Peer[];
  if (started) {
    // helpers started early for this job (startHelpers): the ones beyond `count` are not needed
    peers = started.peers.slice(0, count - here);
    await Promise.all(started.peers.slice(count - here).map((p) => p.close()));
  } else peers = startHelpers(spec, count - here, what, count).peers;
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
  const lanes: Promise<unknown>[] = [];
  // this process's lane first: it takes the first (longest) item, as it starts at once, but
  // computes only after the helpers' requests are posted (its first await returns here)
  if (local) {
    lanes.push(
      lane(async (item) => {
        await undefined;
        const r = await local(item);
        await new Promise((resolve) => setImmediate(resolve)); // let the helpers' replies and requests through
        return r;
      }),
    );
  }
  // requests queue behind the readiness reply (answered in order): a start-up failure fails them
  for (const p of peers) lanes.push(Promise.all([p.ready, lane(ask(p)), lane(ask(p))]));
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
