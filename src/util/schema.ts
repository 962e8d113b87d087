/**
 * JSON data checked by zod schemas (training recipes, experiment recipes): reading the file and
 * turning the first problem into ONE line `where: field.path: expected …, got …`.
 */
import type { z } from 'zod';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** A short rendering of the offending value for error messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(obj: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/**
 * Formats a zod issue as `where: path: expected …, got …`. `keysAt(path)` lists the valid keys of
 * the object at `path`, for unknown-key messages (null when not known).
 */
export function formatZodIssue(where: string, issue: z.core.$ZodIssue, input: unknown, keysAt: (path: string[]) => string[] | null = () => null): string {
  const path = issue.path.map(String).join('.');
  const at = path ? `${where}: ${path}` : where;
  if (issue.code === 'unrecognized_keys') {
    const valid = keysAt(issue.path.map(String));
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    return `${at}: unknown key ${keys}${valid ? ` (valid: ${valid.join(', ')})` : ''}`;
  }
  if (issue.code === 'invalid_value') {
    return `${at}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(valueAt(input, issue.path))}`;
  }
  return `${at}: ${issue.message}, got ${describeValue(valueAt(input, issue.path))}`;
}

/** Validates `value` with `schema`; the first problem becomes a one-line UserError. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new UserError(formatZodIssue(where, r.error.issues[0]!, value));
}

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
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${path}: expected a JSON object at the top level`);
  return raw as Record<string, unknown>;
}
