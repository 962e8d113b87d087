/** Entry of a map-pool worker: a worker thread, or a child process with DIFFTTS_WORKERS_AS=process (see map-pool.ts, peer.ts). */
import { initBackend } from '../backend/index.js';
import { UserError } from '../errors.js';
import type { JobModule, JobSpec } from './map-pool.js';
import { parentChannel } from './channel.js';
import { firstLine } from './peer.js';

const port = parentChannel();
const report = (err: unknown, prefix = '') =>
  port.post({ type: 'error', message: prefix + firstLine(err), user: err instanceof UserError });

try {
  const data = (await port.data) as { spec: JobSpec; backend: string };
  await initBackend(data.backend);
  const run = await ((await import(data.spec.module)) as JobModule).setup(data.spec.args);
  port.onMessage(async (m: { item: unknown }) => {
    try {
      port.post({ type: 'result', result: await run(m.item) });
    } catch (err) {
      report(err);
    }
  });
  port.post({ type: 'ready' });
} catch (err) {
  report(err, 'could not start: ');
}
