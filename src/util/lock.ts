/**
 * One owner per directory: a lock file (`DIR/train.lock`, JSON {pid, host, since, command})
 * created atomically — written in full under a temporary name, then hard-linked into place, which
 * fails if the lock exists — so a second process either gets the lock or sees a complete holder.
 *
 * A lock whose holder is gone (same host, pid dead or reused by a process started later) is taken
 * over with a notice; a live holder, or one on another host (whose pid cannot be checked), stops
 * the caller with one line naming it. The lock is released on return, on error, on process.exit
 * and on SIGINT/SIGTERM/SIGHUP when nobody else handles the signal; after SIGKILL it is stale
 * and the next run takes it over.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError, writeFailure } from '../errors.js';
import { ensureDir } from './atomic.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  command: string;
}

export interface DirLock {
  path: string;
  /** Removes the lock file if it is still ours (idempotent). */
  release: () => void;
}

/** Seconds since the epoch at which `pid` started (Linux /proc), or null when unknown. */
function processStartSec(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" that closes the command name; starttime is field 22 overall (clock ticks since boot)
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime + ticks / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Whether the holder is still running here: its pid exists and did not start after it took the lock (pid reuse). */
function holderAlive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  const started = processStartSec(h.pid);
  const since = Date.parse(h.since) / 1000;
  return started === null || !Number.isFinite(since) || started <= since + 2;
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8'));
    return typeof h?.pid === 'number' && typeof h.host === 'string' ? (h as LockHolder) : null;
  } catch {
    return null;
  }
}

export function describeHolder(h: LockHolder | null): string {
  return h ? `pid ${h.pid} on ${h.host}, since ${h.since}${h.command ? `: ${h.command}` : ''}` : 'an unreadable lock file';
}

/** Writes `holder` under a private name and links it to `path`; false if `path` already exists. */
function tryCreate(path: string, holder: LockHolder): boolean {
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      writeSync(fd, JSON.stringify(holder) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw writeFailure(err, path) ?? err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Takes `DIR/<name>` for this process, creating DIR if needed (and removing it again on release when
 * it is still empty). `what` names the activity in the refusal, e.g. "another trainer".
 * @throws UserError (exit code 1) naming the holder when the directory is in use
 */
export function acquireDirLock(dir: string, opts: { name?: string; what?: string; log?: (msg: string) => void } = {}): DirLock {
  const createdDir = !existsSync(dir);
  ensureDir(dir);
  const path = join(dir, opts.name ?? 'train.lock');
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 300),
  };
  for (let attempt = 0; !tryCreate(path, me); attempt++) {
    const h = readHolder(path);
    const stale = h !== null && h.host === me.host && !holderAlive(h);
    if (!stale || attempt > 0) {
      const hint = h === null || h.host !== me.host ? `; if that process is gone, delete ${path}` : '';
      throw new UserError(
        `${dir}: in use by ${opts.what ?? 'another process'} (${describeHolder(h)}); wait for it to finish or stop it${hint}`,
        1,
      );
    }
    // Move the stale lock aside first: if another process took it over meanwhile, ours is not the one we move.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // gone already: just try again
    }
    const moved = readHolder(aside);
    if (moved && (moved.pid !== h.pid || moved.since !== h.since)) {
      renameSync(aside, path); // a live lock that replaced the stale one: give it back
      continue;
    }
    rmSync(aside, { force: true });
    opts.log?.(`${path}: taking over a lock left by ${describeHolder(h)}, which is no longer running`);
  }

  let released = false;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    for (const s of signals) process.off(s, onSignal);
    const h = readHolder(path);
    if (h && h.pid === me.pid && h.since === me.since) rmSync(path, { force: true });
    if (createdDir) {
      try {
        if (readdirSync(dir).length === 0) rmdirSync(dir);
      } catch {
        // not empty or already gone: leave it
      }
    }
  };
  // With no other listener, a signal would kill the process without 'exit': release, then die of it as before.
  const onSignal = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return; // someone else (the training loop) stops gracefully
    release();
    process.kill(process.pid, sig);
  };
  process.on('exit', release);
  for (const s of signals) process.on(s, onSignal);
  return { path, release };
}
