/**
 * JSON data checked by zod schemas (training recipes, experiment recipes): reading the file,
 * merging documents, and turning the first problem into ONE line `where: field.path: expected …, got …`.
 */
import type { z } from 'zod';
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
 * The schema node at `path` inside `schema` (defaults, optionals and prefaults unwrapped), or null.
 * The one place that reads zod's internals (`_zod.def`): everything else asks through here.
 */
function nodeAt(schema: unknown, path: readonly string[]): any {
  const unwrap = (s: any) => {
    while (s?._zod?.def?.innerType) s = s._zod.def.innerType;
    return s;
  };
  let s: any = unwrap(schema);
  for (const k of path) {
    if (!s?.shape || !(k in s.shape)) return null;
    s = unwrap(s.shape[k]);
  }
  return s ?? null;
}

/** The keys of the object schema at `path` inside `schema`, or null when there is none. */
export function keysAt(schema: unknown, path: readonly string[]): string[] | null {
  const s = nodeAt(schema, path);
  return s?.shape ? Object.keys(s.shape) : null;
}

/** What a field expects, for typing command-line text: its zod type name, or 'unknown'. */
export type LeafKind = 'string' | 'enum' | 'number' | 'boolean' | 'object' | 'unknown';

/** The kind of the field at `path` inside `schema` ('unknown' for unions, records and paths it does not know). */
export function leafKind(schema: unknown, path: readonly string[]): LeafKind {
  const t = nodeAt(schema, path)?._zod?.def?.type;
  return t === 'string' || t === 'enum' || t === 'number' || t === 'boolean' || t === 'object' ? t : 'unknown';
}

/**
 * Formats a zod issue as ONE line `where: path: expected …, got …` (a missing field: `missing
 * (expected …)`; unknown keys list the valid ones from `schema`). `prefix` is prepended to the
 * field path, for a value checked on its own that lives inside a bigger document (e.g. ['loss']).
 * The single error formatter of schema-checked data.
 */
export function formatZodIssue(
  where: string,
  issue: z.core.$ZodIssue,
  input: unknown,
  schema?: unknown,
  prefix: readonly string[] = [],
): string {
  const ipath = issue.path.map(String);
  const path = [...prefix, ...ipath].join('.');
  const at = path ? `${where}: ${path}` : where;
  const got = valueAt(input, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const valid = schema === undefined ? null : keysAt(schema, ipath);
    const keys = issue.keys.map((k) => `'${k}'`).join(', ');
    return `${at}: unknown key ${keys}${valid ? ` (valid: ${valid.join(', ')})` : ''}`;
  }
  const expected =
    issue.code === 'invalid_value' ? `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` : issue.message;
  if (got === undefined && ipath.length > 0) return `${at}: missing (${expected})`;
  return `${at}: ${expected}, got ${describeValue(got)}`;
}

/**
 * Validates `value` with `schema`; the first problem becomes a one-line UserError (see
 * formatZodIssue for `prefix`).
 */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string, prefix: readonly string[] = []): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  // An unknown key is usually a typo that also explains a missing field: name it first.
  const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
  throw new UserError(formatZodIssue(where, issue, value, schema, prefix));
}

function isPlain(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Deep-merges JSON data: plain objects merge key by key (`b` wins), arrays and scalars are replaced,
 * `undefined` in `b` keeps `a`. Returns new objects; the inputs are not changed.
 */
export function mergeJson(a: unknown, b: unknown): unknown {
  if (isPlain(a) && isPlain(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeJson(out[k], v) : structuredClone(v);
    return out;
  }
  return b === undefined ? a : structuredClone(b);
}
