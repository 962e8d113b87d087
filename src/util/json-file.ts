/** JSON files read with one-line errors (kept apart from schema.ts, which the browser page bundles). */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/**
 * Reads and parses a JSON file whose top level is an object, with one-line errors for a missing
 * file, bad JSON or another top-level type. `what` says what the file should be.
 */
export function readJsonFile(path: string, what = 'a JSON file'): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: cannot read file (expected ${what})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UserError(`${path}: expected a JSON object at the top level`);
  return raw as Record<string, unknown>;
}
