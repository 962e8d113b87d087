/** How many workers a job gets: the machine's cores, and train.workers resolved against the batch. */
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';

/** Cores this process may use (os.availableParallelism). */
export function cores(): number {
  return availableParallelism();
}

export type WorkersSetting = number | 'auto';

/**
 * train.workers for a run whose micro-batches hold at least `perMicro` items: "auto" = the
 * cores, except on backends that parallelise each op themselves (tfjs-node threads, webgpu's GPU), which get 1; never
 * more workers than items per micro-batch (a shard is at least one utterance). `note` says why.
 */
export function resolveTrainWorkers(setting: WorkersSetting, perMicro: number, nativeBackend: boolean): { n: number; note: string } {
  const c = cores();
  const asked = setting === 'auto' ? (nativeBackend ? 1 : c) : setting;
  const why =
    setting === 'auto'
      ? nativeBackend
        ? 'train.workers "auto" on a backend that parallelises each op itself (tfjs-node, webgpu)'
        : `train.workers "auto" = ${c} cores`
      : `train.workers ${setting}`;
  if (asked <= perMicro) return { n: asked, note: why };
  return {
    n: Math.max(1, perMicro),
    note: `${why}, but a micro-batch holds only ${perMicro} utterance${perMicro === 1 ? '' : 's'}: ${Math.max(1, perMicro)}`,
  };
}

/** Parallel jobs that keep `cores` busy when each job runs `perJob` workers (at least 1). */
export function jobsFor(perJob: number, nCores = cores()): number {
  return Math.max(1, Math.floor(nCores / Math.max(1, perJob)));
}

/** Workers for `items` independent jobs: "auto" = the cores (1 on a native tfjs backend), at most one per item. */
export function resolveJobWorkers(setting: WorkersSetting, items: number, nativeBackend: boolean): number {
  const asked = setting === 'auto' ? (nativeBackend ? 1 : cores()) : setting;
  return Math.max(1, Math.min(asked, items));
}

/** Parses a `--workers` value: a positive integer or "auto"; `flag` names it in the one-line error. */
export function parseWorkers(raw: string, flag: string): WorkersSetting {
  if (raw === 'auto') return 'auto';
  const n = Number(raw);
  if (!(Number.isInteger(n) && n >= 1)) throw new UserError(`${flag}: expected an integer ≥ 1 or "auto", got ${JSON.stringify(raw)}`);
  return n;
}
