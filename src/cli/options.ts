/** Small shared helpers for command modules. */
import type { Command } from 'commander';
import { initBackend, describeBackend, type BackendChoice } from '../backend/index.js';
import { UserError } from '../errors.js';

/** Initialises the backend named by the global --backend flag (or env / auto) and reports it on stderr. */
export async function backendFor(cmd: Command, quiet = false): Promise<BackendChoice> {
  const opts = cmd.optsWithGlobals() as { backend?: string };
  const choice = await initBackend(opts.backend);
  if (!quiet) process.stderr.write(`difftts: using backend ${choice.name} (${choice.why})\n`);
  return choice;
}

export { describeBackend };

/** Parses a number flag, or throws a one-line UserError naming the flag. */
export function parseNumber(value: string, flag: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  const v = Number(value);
  if (!Number.isFinite(v) || (opts.integer && !Number.isInteger(v))) {
    throw new UserError(`${flag}: expected ${opts.integer ? 'an integer' : 'a number'}, got '${value}'`);
  }
  if (opts.min !== undefined && v < opts.min) throw new UserError(`${flag}: expected ≥ ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new UserError(`${flag}: expected ≤ ${opts.max}, got ${v}`);
  return v;
}

/** Parses a comma-separated list of numbers ("0,0.25,1"). */
export function parseNumberList(value: string, flag: string): number[] {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0) throw new UserError(`${flag}: expected a comma-separated list of numbers, got '${value}'`);
  return parts.map((p) => parseNumber(p, flag));
}
