/**
 * The worker side of a Peer: the one place that knows whether this code runs in a worker thread
 * (the default) or in a child process (DIFFTTS_WORKERS_AS=process; src/parallel/peer.ts starts either). Both get their start-up data and
 * messages the same way. A child process ignores the terminal's SIGINT/SIGTERM/SIGHUP, which
 * reach its whole process group: its parent decides (Ctrl-C finishes the step and checkpoints,
 * which needs the workers alive) and ends it by closing the IPC channel, on which it exits — also
 * when the parent is killed, so no worker outlives its run.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

export interface ParentChannel {
  /** The start-up data the Peer was given (workerData / the first IPC message). */
  data: Promise<unknown>;
  post(msg: unknown): void;
  /** Messages are handled one at a time, in arrival order (a Peer may queue several requests). */
  onMessage(handler: (msg: any) => void | Promise<void>): void;
  /** Stops listening, so the thread or process can end. */
  close(): void;
}

/** `handler` over messages one at a time: each starts when the previous one's promise settles. */
function inOrder(handler: (msg: any) => void | Promise<void>): (msg: any) => void {
  let last: Promise<void> = Promise.resolve();
  return (m) => {
    last = last.then(() => handler(m)).catch(() => {}); // handlers report their own errors
  };
}

export function parentChannel(): ParentChannel {
  if (!isMainThread) {
    const port = parentPort!;
    return {
      data: Promise.resolve(workerData),
      post: (m) => port.postMessage(m),
      onMessage: (h) => port.on('message', inOrder(h)),
      close: () => port.close(),
    };
  }
  if (typeof process.send !== 'function')
    throw new Error('src/parallel worker entry started neither as a worker thread nor as a forked child process');
  process.on('disconnect', () => process.exit(0));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
  let handler: ((msg: any) => void) | null = null;
  // requests sent before the handler is set (a pool sends the first ones with the start-up data) wait here
  const early: unknown[] = [];
  const data = new Promise<unknown>((resolve) => {
    process.on('message', (m: any) => {
      if (m?.type === 'init') resolve(m.data);
      else if (handler) handler(m);
      else early.push(m);
    });
  });
  // A parent that has gone (it closed the pool because another worker failed, or it was killed)
  // cannot be told anything: the reply is dropped instead of an EPIPE stack trace on the terminal.
  const post = (m: unknown) => {
    if (process.connected) process.send!(m as object, undefined, undefined, () => {});
  };
  return {
    data,
    post,
    onMessage: (h) => {
      handler = inOrder(h);
      for (const m of early.splice(0)) handler(m);
    },
    close: () => process.connected && process.disconnect(),
  };
}
