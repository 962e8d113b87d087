/**
 * Crash-safe writes, and the one place where a failed write becomes a user's one-line message.
 *
 * Every output is written under a temporary name in the same directory and renamed into place, so
 * a reader (or a resumed run after kill -9) sees the old file or the new one, never half of one.
 * Append-only logs (metrics.jsonl) get whole lines only. When the system refuses a write (full
 * disk, read-only file system, no permission), the temporary file is removed and a WriteError
 * (src/errors.ts: exit code 1) names the output — the file or directory the user asked for, not its
 * temporary name — and the cause. Every errno counts (a parent that is a file, a name too long, …),
 * and `checkOutput` finds the ones that show without writing, so commands can refuse before working.
 *
 * Test hook: DIFFTTS_DEBUG_WRITE_FAIL=CODE:PART[:SKIP] makes every write to a path containing PART
 * fail with errno CODE after SKIP of them succeeded (default 0), as a disk that fills up would:
 * files and appended lines are half written first, directories fully, then the error is thrown.
 */
import {
  closeSync,
  fsyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
  existsSync,
  type Stats,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { writeFailure } from '../errors.js';

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

const injectedSeen = new Map<string, number>();
/** The injected failure for a write to `path` (see the file comment), or null. */
function injectedFailure(path: string): NodeJS.ErrnoException | null {
  const spec = process.env.DIFFTTS_DEBUG_WRITE_FAIL;
  if (!spec) return null;
  const [code, part, skip] = spec.split(':');
  if (!code || !part || !path.includes(part)) return null;
  const seen = injectedSeen.get(spec) ?? 0;
  injectedSeen.set(spec, seen + 1);
  if (seen < Number(skip ?? 0)) return null;
  return Object.assign(new Error(`${code}: injected write failure, write '${path}'`), { code, syscall: 'write', path });
}

/** Runs `fn`; a refused write becomes a WriteError naming `path`, anything else is rethrown as is. */
export function naming<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw writeFailure(err, path) ?? err;
  }
}

function writeAll(fd: number, buf: Uint8Array, end = buf.length): void {
  let off = 0;
  while (off < end) off += writeSync(fd, buf, off, end - off);
}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** An errno-style error for a refusal found by looking first; `why` is its cause in words (src/errors.ts). */
function refusal(code: string, path: string, why: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${why}, '${path}'`), { code, syscall: 'stat', path, why });
}

/** `stat` of `path`, or null when nothing is there (also when a parent is not a directory: the walk up finds which). */
function statOrNull(path: string): Stats | null {
  try {
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/**
 * Whether entries can be made in the directory `dir`, found by making one and removing it: the
 * only test that holds for every reason (permissions as root, read-only mounts, /proc, /sys).
 */
function probeDir(dir: string): void {
  rmdirSync(mkdtempSync(join(dir, '.difftts-probe-')));
}

/**
 * The directories `dir` still needs, outermost first, after checking that its nearest existing
 * ancestor is a directory (and with `checkWritable`, one we can write in), else the refusal a
 * write would end with.
 */
function missingDirs(dir: string, checkWritable: boolean): string[] {
  const missing: string[] = [];
  for (let d = dir; ; ) {
    const st = statOrNull(d);
    if (st) {
      if (!st.isDirectory()) throw refusal('ENOTDIR', d, `${d} is ${st.isFile() ? 'a file, ' : ''}not a directory`);
      if (checkWritable) probeDir(d);
      return missing.reverse();
    }
    missing.push(d);
    const up = dirname(d);
    if (up === d) return missing.reverse();
    d = up;
  }
}

/**
 * Creates `dir` (and parents); a refusal is a WriteError naming it. Not Node's recursive mkdir:
 * under /proc it never returns (Node 20), and it says EEXIST for a parent that is a file.
 */
export function ensureDir(dir: string): void {
  naming(dir, () => {
    for (const d of missingDirs(dir, false)) {
      try {
        mkdirSync(d);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !statOrNull(d)?.isDirectory()) throw err; // made meanwhile by another process: fine
      }
    }
  });
}

/** Longest file name and path Linux accepts, in bytes. */
const NAME_MAX = 255;
const PATH_MAX = 4095;

/**
 * Pre-flight for an output the user named, before any work is done: throws the WriteError that
 * writing `path` (a file, or a directory with `kind: 'dir'`) would end with when that can be seen
 * without writing — an empty or too long name, a parent that is a file, a directory where a file
 * goes (or the reverse), a directory we cannot make entries in (no permission, read-only, /proc).
 * Leaves nothing behind. A refusal only writing the data can show (a full disk) still comes from
 * the write itself, through the same one line.
 */
export function checkOutput(path: string, kind: 'file' | 'dir' = 'file'): void {
  naming(path, () => {
    if (path === '') throw refusal('ENOENT', path, 'expected a file name');
    if (Buffer.byteLength(path) > PATH_MAX || path.split('/').some((part) => Buffer.byteLength(part) > NAME_MAX))
      throw refusal('ENAMETOOLONG', path, 'file name too long');
    const st = statOrNull(path);
    if (!st) {
      missingDirs(dirname(path), true);
      return;
    }
    if (st.isDirectory() && kind === 'file') throw refusal('EISDIR', path, 'is a directory');
    if (!st.isDirectory() && kind === 'dir') throw refusal('ENOTDIR', path, `${st.isFile() ? 'is a file, ' : ''}not a directory`);
    probeDir(kind === 'dir' ? path : dirname(path)); // a file is replaced by a rename in its directory
  });
}

/** Writes `data` to `path` atomically (temp file + fsync + rename). Creates parent dirs. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempName(path);
  naming(path, () => {
    ensureDir(dirname(path));
    try {
      const fd = openSync(tmp, 'w');
      try {
        const buf = bytesOf(data);
        const fail = injectedFailure(path);
        if (fail) {
          writeAll(fd, buf, buf.length >> 1);
          throw fail;
        }
        writeAll(fd, buf);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  });
}

/**
 * Appends `text` (one or more whole lines) to `path`. If the write fails part-way the file is cut
 * back to its previous length, so a reader never sees a torn line from a refused write.
 */
export function appendWhole(path: string, text: string): void {
  naming(path, () => {
    const fd = openSync(path, 'a');
    try {
      const before = fstatSync(fd).size;
      const buf = Buffer.from(text, 'utf8');
      try {
        const fail = injectedFailure(path);
        if (fail) {
          writeAll(fd, buf, buf.length >> 1);
          throw fail;
        }
        writeAll(fd, buf);
      } catch (err) {
        ftruncateSync(fd, before);
        throw err;
      }
    } finally {
      closeSync(fd);
    }
  });
}

/** Moves the filled temporary directory `tmp` to `path`, replacing an existing one. */
function commitDir(tmp: string, path: string): void {
  const fail = injectedFailure(path);
  if (fail) throw fail;
  if (existsSync(path)) {
    const old = `${tmp}.old`;
    renameSync(path, old);
    renameSync(tmp, path);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, path);
  }
}

/**
 * Builds a directory atomically: `fill` writes into a temporary sibling directory, which is then
 * renamed to `path` (an existing `path` is replaced). Used for checkpoints and generated corpora.
 */
export function writeDirAtomic(path: string, fill: (tmpDir: string) => void): void {
  const tmp = tempName(path);
  naming(path, () => {
    ensureDir(dirname(path));
    try {
      mkdirSync(tmp);
      fill(tmp);
      commitDir(tmp, path);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  });
}

/** Async variant of writeDirAtomic for fillers that await (e.g. reading tensors). */
export async function writeDirAtomicAsync(path: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = tempName(path);
  naming(path, () => ensureDir(dirname(path)));
  try {
    mkdirSync(tmp);
    await fill(tmp);
    commitDir(tmp, path);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw writeFailure(err, path) ?? err;
  }
}
