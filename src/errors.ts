/**
 * A mistake the user can fix (bad file, bad field, bad flag). The CLI prints its message as one
 * line and exits with code 2 — never a stack trace. Messages name the file (and row/field) and
 * say what was expected, e.g. `corpus/metadata.csv row 12: empty text (expected id|text[|normalized])`.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** Throws a UserError unless `cond` holds. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new UserError(message);
}

/**
 * An output that could not be written (full disk, read-only file system, no permission): the CLI
 * prints its one line and exits with code 1. Nothing half-written stays behind (src/util/atomic.ts).
 */
export class WriteError extends UserError {
  constructor(
    readonly path: string,
    readonly code: string,
    readonly why: string,
    verb = 'write',
  ) {
    super(`${path}: cannot ${verb} (${why}, ${code})`, 1);
    this.name = 'WriteError';
  }
}

/** errno codes that mean "the system would not let us write there" (not a bug), and their plain words. */
const WRITE_ERRNOS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ENAMETOOLONG: 'file name too long',
};

/** What a failed fs syscall was trying to do, for the message. */
const SYSCALL_VERBS: Record<string, string> = {
  mkdir: 'create the directory',
  rename: 'rename',
  unlink: 'remove',
  rmdir: 'remove',
  rm: 'remove',
  link: 'create',
  scandir: 'list',
  copyfile: 'copy into',
  open: 'open',
};

/**
 * The one-line WriteError for a failed filesystem call, or null when `err` is not one of those.
 * `path` names the output the user asked for (e.g. the checkpoint directory, not its temporary
 * name; it also renames a WriteError raised for a file inside it); by default the error's own path. Messages read `PATH: cannot write (no space left on device, ENOSPC)`.
 */
export function writeFailure(err: unknown, path?: string): WriteError | null {
  if (err instanceof WriteError) return path === undefined || path === err.path ? err : new WriteError(path, err.code, err.why);
  const e = err as NodeJS.ErrnoException | null;
  const why = typeof e?.code === 'string' ? WRITE_ERRNOS[e.code] : undefined;
  if (!why) return null;
  const verb = path === undefined ? (SYSCALL_VERBS[e!.syscall ?? ''] ?? 'write') : 'write';
  return new WriteError(path ?? e!.path ?? '(unknown file)', e!.code!, why, verb);
}
