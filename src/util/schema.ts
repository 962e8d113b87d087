/** Validates JSON data (recipes, manifests) with a zod schema and turns the first problem into a one-line UserError. */
import type { z } from 'zod';
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** `where: field.path: message` for the first issue zod reports. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  throw new UserError(`${where}: ${path}: ${issue.message}`);
}

/** Reads and parses a JSON file, with one-line errors for a missing file or bad JSON. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`${path}: cannot read file (expected a JSON file)`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UserError(`${path}: invalid JSON (${(err as Error).message.split('\n')[0]})`);
  }
}
