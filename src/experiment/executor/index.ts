/**
 * How the cells of an experiment are started — not what they do. A cell is one resumable unit of
 * work (a corpus: corrupt → prepare; a run: train → evaluate → sample) whose outputs say whether it
 * is done; the runner defines the cells and their work, an executor starts the unfinished ones in
 * dependency order: `local` as in-process calls `jobs` at a time, `slurm` as one batch job each.
 */
export { localExecutor } from './local.js';
export { slurmExecutor, commandLineClient, SlurmOptionsSchema, type SlurmOptions, type SlurmClient } from './slurm.js';

export interface Cell {
  /** File-name-safe identity, e.g. "corpus-clean" or "run-l2-f0-s0". */
  id: string;
  /** Cells that must be done before this one starts. */
  deps: string[];
  /** True when every output of the cell exists (checked from the files, so any process can tell). */
  done: () => boolean;
}

export interface Progress {
  done: number;
  total: number;
  /** What just happened, e.g. "finished run-l2-f0-s0" or "2 running, 3 queued". */
  note: string;
}

export interface Executor {
  /**
   * Brings every cell to done, starting each one only after its deps; resolves true when all are
   * done, false when the cells were handed off and are still under way (slurm --no-wait). A cell
   * that fails for good rejects with a UserError naming it and its log.
   */
  run(cells: Cell[], onProgress?: (p: Progress) => void): Promise<boolean>;
}
