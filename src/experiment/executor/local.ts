/** The local executor: cells run in this process (each cell drives its own child processes), `jobs` at a time. */
import type { Cell, Executor, Progress } from './index.js';

/**
 * `start(cell)` does the cell's work. After the first failure no new cell starts; the ones in
 * flight finish, then that failure is rethrown.
 */
export function localExecutor(jobs: number, start: (cell: Cell) => Promise<void>): Executor {
  return {
    async run(cells: Cell[], onProgress?: (p: Progress) => void): Promise<boolean> {
      const finished = new Set(cells.filter((c) => c.done()).map((c) => c.id));
      const waiting = cells.filter((c) => !finished.has(c.id));
      const running = new Map<string, Promise<void>>();
      let failure: unknown = null;
      const report = (note: string) => onProgress?.({ done: finished.size, total: cells.length, note });
      report('resuming');
      while (failure === null && (waiting.length > 0 || running.size > 0)) {
        while (failure === null && running.size < Math.max(1, jobs)) {
          const i = waiting.findIndex((c) => c.deps.every((d) => finished.has(d)));
          if (i < 0) break;
          const cell = waiting.splice(i, 1)[0]!;
          const p = start(cell).then(
            () => {
              finished.add(cell.id);
              report(`finished ${cell.id}`);
            },
            (err: unknown) => {
              failure ??= err;
            },
          );
          running.set(
            cell.id,
            p.finally(() => running.delete(cell.id)),
          );
        }
        if (running.size === 0) break; // nothing runnable: a dep is missing from `cells`
        await Promise.race(running.values());
      }
      await Promise.all(running.values());
      if (failure !== null) throw failure;
      if (waiting.length > 0)
        throw new Error(`cells ${waiting.map((c) => c.id).join(', ')} depend on cells that are not in the experiment`);
      return true;
    },
  };
}
