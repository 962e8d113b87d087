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
