/**
 * Crash-safe writes: every output is written under a temporary name in the same directory and
 * renamed into place, so a reader (or a resumed run after kill -9) sees the old file or the new
 * one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
}

/** Writes `data` to `path` atomically (temp file + fsync + rename). Creates parent dirs. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  try {
    const fd = openSync(tmp, 'w');
    try {
      const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Builds a directory atomically: `fill` writes into a temporary sibling directory, which is then
 * renamed to `path` (an existing `path` is replaced). Used for checkpoints and generated corpora.
 */
export function writeDirAtomic(path: string, fill: (tmpDir: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  mkdirSync(tmp, { recursive: true });
  try {
    fill(tmp);
    if (existsSync(path)) {
      const old = `${tmp}.old`;
      renameSync(path, old);
      renameSync(tmp, path);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, path);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Async variant of writeDirAtomic for fillers that await (e.g. reading tensors). */
export async function writeDirAtomicAsync(path: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  mkdirSync(tmp, { recursive: true });
  try {
    await fill(tmp);
    if (existsSync(path)) {
      const old = `${tmp}.old`;
      renameSync(path, old);
      renameSync(tmp, path);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, path);
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
