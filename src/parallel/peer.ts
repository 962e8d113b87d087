/**
 * One worker thread spoken to by request and reply, the transport under src/parallel's pools.
 * Every message from a worker is `{ type: 'error', message, user? }` or a reply; the first one is its
 * readiness reply. A worker that reports an error, throws outside a handler, or exits fails the
 * pending request and every later one with a WorkerFailed naming the worker and the cause.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { UserError } from '../errors.js';

/** A worker thread failed (its error, or how it died): one line, exit code 3. */
export class WorkerFailed extends UserError {
  constructor(message: string) {
    super(message, 3);
    this.name = 'WorkerFailed';
  }
}

export function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n')[0] ?? '').slice(0, 300);
}

type Waiter = { resolve: (m: any) => void; reject: (e: Error) => void };

export class Peer {
  private readonly worker: Worker;
  private waiter: Waiter | null = null;
  /** Why the worker is unusable (set once). */
  private failure: string | null = null;
  private closing = false;
  /** Resolves with the worker's readiness reply. */
  readonly ready: Promise<any>;

  constructor(
    /** How messages name the worker, e.g. "training worker 2 of 4". */
    readonly label: string,
    entry: URL,
    workerData: unknown,
  ) {
    this.worker = new Worker(entry, { workerData, stdout: false, stderr: false });
    this.ready = new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
    this.worker.on('message', (m: { type?: string; message?: string; user?: boolean }) => {
      if (m?.type === 'error') this.fail(String(m.message), m.user === true);
      else {
        const w = this.waiter;
        this.waiter = null;
        w?.resolve(m);
      }
    });
    this.worker.on('error', (err) => this.fail(firstLine(err)));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(`the worker thread exited (code ${code})`);
    });
  }

  /** `user`: the worker hit a UserError (bad input): its message goes to the user unchanged. */
  private fail(why: string, user = false): void {
    if (this.failure === null) this.failure = why;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(user ? new UserError(why) : new WorkerFailed(`${this.label} failed: ${this.failure}`));
  }

  /** Sends `msg` and waits for the reply (one request at a time). */
  request(msg: unknown, transfer: TransferListItem[] = []): Promise<any> {
    if (this.failure !== null) return Promise.reject(new WorkerFailed(`${this.label} failed: ${this.failure}`));
    if (this.waiter) throw new Error(`${this.label}: a request is already pending`);
    const p = new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
    this.worker.postMessage(msg, transfer);
    return p;
  }

  /** Test hook: kills the thread as a crash would. */
  kill(): Promise<number> {
    return this.worker.terminate();
  }

  async close(): Promise<void> {
    this.closing = true;
    const w = this.waiter;
    this.waiter = null;
    w?.reject(new WorkerFailed(`${this.label}: closed`));
    await this.worker.terminate();
  }
}

/**
 * Typed-array views over a larger buffer (a feature cache's) would be cloned with their whole
 * buffer: copies each such view into its own buffer, recursively through arrays and objects.
 */
export function compact<T>(x: T): T {
  if (ArrayBuffer.isView(x)) {
    const v = x as unknown as { byteLength: number; buffer: ArrayBufferLike; slice(): T };
    return v.byteLength < v.buffer.byteLength ? v.slice() : x;
  }
  if (Array.isArray(x)) return x.map(compact) as T;
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = compact(v);
    return out as T;
  }
  return x;
}
