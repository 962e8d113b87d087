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
    super(`${path === '' ? '(empty path)' : path}: cannot ${verb} (${why}, ${code})`, 1);
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
  EEXIST: 'already exists',
  ELOOP: 'too many levels of symbolic links',
  EMLINK: 'too many links',
  EBUSY: 'resource busy',
  ETXTBSY: 'text file busy',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
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
 * The cause of a failed system call in words: our own (`why`, set by src/util/atomic.ts), the
 * table's, or for any other errno the words in Node's message (`ENOENT: no such file or directory,
 * open '…'`) — but only for a real system call (it has `syscall`), so that an error that merely
 * carries a code is not taken for one.
 */
function causeOf(e: (NodeJS.ErrnoException & { why?: string }) | null): string | undefined {
  if (typeof e?.code !== 'string') return undefined;
  if (typeof e.why === 'string') return e.why;
  if (WRITE_ERRNOS[e.code]) return WRITE_ERRNOS[e.code];
  if (typeof e.syscall !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) return undefined;
  return /^E[A-Z0-9]+: ([^,]+)/.exec(e.message)?.[1] ?? e.code;
}

/**
 * The one-line WriteError for a failed filesystem call, or null when `err` is not one of those.
 * `path` names the output the user asked for (e.g. the checkpoint directory, not its temporary
 * name; it also renames a WriteError raised for a file inside it); by default the error's own path. Messages read `PATH: cannot write (no space left on device, ENOSPC)`.
 * Inside a write (src/util/atomic.ts's `naming`) every errno is a refusal: a parent that is a file
 * (ENOTDIR, EEXIST), a directory where a file goes (EISDIR), a name too long, a link loop, a file
 * system that creates nothing (/proc: ENOENT), and so on.
 */
export function writeFailure(err: unknown, path?: string): WriteError | null {
  if (err instanceof WriteError) return path === undefined || path === err.path ? err : new WriteError(path, err.code, err.why);
  const e = err as NodeJS.ErrnoException | null;
  const why = causeOf(e);
  if (!why) return null;
  const verb = path === undefined ? (SYSCALL_VERBS[e!.syscall ?? ''] ?? 'write') : 'write';
  return new WriteError(path ?? e!.path ?? '(unknown file)', e!.code!, why, verb);
}
