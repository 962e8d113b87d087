/**
 * One worker spoken to by request and reply, the transport under src/parallel's pools: a worker
 * thread (the default) or a child process. Every message from a worker is
 * `{ type: 'error', message, user? }` or a reply; the first one is its readiness reply. A worker
 * that reports an error, throws outside a handler, or exits fails the pending request and every
 * later one with a WorkerFailed naming the worker and the cause. The worker side is channel.ts.
 *
 * Why threads: since this process computes a shard itself (worker 1), two workers as threads run
 * the decoder step and a synthesis file 2–20 % faster than as processes and the `tiny` step as fast
 * within this machine's noise, with ~90 MB less memory (docs/PERFORMANCE.md); before, with an idle
 * main thread and N helper threads, threads slowed each other and processes were the default.
 * Messages use the structured-clone ("advanced") serialization either way, so typed arrays cross
 * as they are.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';

export type Transport = 'process' | 'thread';

/**
 * This process's node flags that a worker process should share (heap size, warnings, source
 * maps…), without the ones that name what this process runs (-e/-p code, --input-type, the test
 * runner, --watch) or that would clash (--inspect's port).
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (/^--(eval|print|input-type|test|watch|inspect|experimental-test)/.test(a)) continue;
    else out.push(a);
  }
  return out;
}

/** The transport workers get: DIFFTTS_WORKERS_AS=thread|process (benchmarks compare them), default thread. */
export function workerTransport(): Transport {
  const v = process.env.DIFFTTS_WORKERS_AS;
  if (v === undefined || v === '' || v === 'thread') return 'thread';
  if (v === 'process') return 'process';
  throw new UserError(`DIFFTTS_WORKERS_AS: expected "process" or "thread", got ${JSON.stringify(v)}`);
}

/** A worker failed (its error, or how it died): one line, exit code 3. */
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
  private readonly worker: Worker | null = null;
  private readonly child: ChildProcess | null = null;
  /** The readiness reply's, then each request's in the order sent: the worker answers in order (channel.ts). */
  private readonly waiters: Waiter[] = [];
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
    readonly transport: Transport = workerTransport(),
  ) {
    this.ready = new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    const onMessage = (m: { type?: string; message?: string; user?: boolean }) => {
      if (m?.type === 'error') this.fail(String(m.message), m.user === true);
      else this.waiters.shift()?.resolve(m);
    };
    if (transport === 'thread') {
      this.worker = new Worker(entry, { workerData, stdout: false, stderr: false });
      this.worker.on('message', onMessage);
      this.worker.on('error', (err) => this.fail(firstLine(err)));
      this.worker.on('exit', (code) => {
        if (!this.closing) this.fail(`the worker thread exited (code ${code})`);
      });
    } else {
      this.child = fork(fileURLToPath(entry), [], {
        execArgv: workerExecArgv(),
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.child.on('message', onMessage);
      this.child.on('error', (err) => this.fail(firstLine(err)));
      this.child.on('exit', (code, signal) => {
        if (!this.closing) this.fail(`the worker process exited (${signal !== null ? `signal ${signal}` : `code ${code}`})`);
      });
      this.child.send({ type: 'init', data: workerData });
    }
  }

  /** `user`: the worker hit a UserError (bad input): its message goes to the user unchanged. */
  private fail(why: string, user = false): void {
    if (this.failure === null) this.failure = why;
    // the worker is unusable after an error: every pending request fails with the cause
    for (const w of this.waiters.splice(0)) w.reject(user ? new UserError(why) : new WorkerFailed(`${this.label} failed: ${this.failure}`));
  }

  /** The worker's process id (the child's; this process's for a thread). */
  get pid(): number {
    return this.child?.pid ?? process.pid;
  }

  /**
   * Resolves once the last request has been handed to the worker. A child's message of megabytes
   * goes through the pipe in pieces, each written when this process's event loop runs: a caller
   * that computes synchronously after `request` would start the worker only when it is done.
   */
  sent: Promise<void> = Promise.resolve();

  /** Sends `msg` and waits for its reply; several may be pending (answered in order). */
  request(msg: unknown): Promise<any> {
    if (this.failure !== null) return Promise.reject(new WorkerFailed(`${this.label} failed: ${this.failure}`));
    const p = new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.worker) this.worker.postMessage(msg);
    else this.sent = new Promise((resolve) => this.child!.send(msg as object, () => resolve()));
    return p;
  }

  /** Test hook: kills the worker as a crash would. */
  async kill(): Promise<void> {
    if (this.worker) await this.worker.terminate();
    else await this.stopChild('SIGKILL');
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.waiters.splice(0)) w.reject(new WorkerFailed(`${this.label}: closed`));
    if (this.worker) await this.worker.terminate();
    else await this.stopChild(null);
  }

  /** Ends the child: by closing its IPC channel (it exits on that; channel.ts) or with `signal`. */
  private stopChild(signal: NodeJS.Signals | null): Promise<void> {
    const c = this.child!;
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      c.once('exit', () => resolve());
      if (signal !== null) c.kill(signal);
      else if (c.connected) c.disconnect();
      else c.kill('SIGKILL');
    });
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
