/** Entry of a map-pool worker thread (see map-pool.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend/index.js';
import { UserError } from '../errors.js';
import type { JobModule, JobSpec } from './map-pool.js';
import { firstLine } from './peer.js';

const port = parentPort!;
const data = workerData as { spec: JobSpec; backend: string };
const report = (err: unknown, prefix = '') => port.postMessage({ type: 'error', message: prefix + firstLine(err), user: err instanceof UserError });

try {
  await initBackend(data.backend);
  const run = await ((await import(data.spec.module)) as JobModule).setup(data.spec.args);
  port.on('message', async (m: { item: unknown }) => {
    try {
      port.postMessage({ type: 'result', result: await run(m.item) });
    } catch (err) {
      report(err);
    }
  });
  port.postMessage({ type: 'ready' });
} catch (err) {
  report(err, 'could not start: ');
}
