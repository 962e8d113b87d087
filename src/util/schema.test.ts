import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { keysAt, leafKind, mergeJson, parseWith } from './schema.js';

test('mergeJson: objects merge, arrays and scalars are replaced, undefined keeps; the inputs are not changed', () => {
  const a = { a: { b: 1, c: [1] }, d: 1 };
  assert.deepEqual(mergeJson(a, { a: { c: [2] }, e: 2, d: undefined }), { a: { b: 1, c: [2] }, d: 1, e: 2 });
  assert.deepEqual(a, { a: { b: 1, c: [1] }, d: 1 });
});

const S = z.strictObject({
  n: z.number({ error: 'expected a number' }).default(1),
  inner: z.strictObject({ mode: z.enum(['a', 'b']), on: z.boolean() }).optional(),
  u: z.union([z.number(), z.literal('auto')]).default('auto'),
});

test('schema helpers: keys and field kinds through defaults and optionals', () => {
  assert.deepEqual(keysAt(S, []), ['n', 'inner', 'u']);
  assert.deepEqual(keysAt(S, ['inner']), ['mode', 'on']);
  assert.equal(keysAt(S, ['nope']), null);
  assert.deepEqual(
    [['n'], ['inner', 'mode'], ['inner', 'on'], ['u'], ['x']].map((p) => leafKind(S, p)),
    ['number', 'enum', 'boolean', 'unknown', 'unknown'],
  );
});

test('parseWith: one line per problem, unknown keys first and listed, missing fields said so, a prefix for nested values', () => {
  const fails = (v: unknown, re: RegExp, prefix: string[] = []) =>
    assert.throws(
      () => parseWith(S, v, 'f.json', prefix),
      (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'),
    );
  fails({ n: 'x' }, /^f\.json: n: expected a number, got "x"$/);
  fails({ inner: { mode: 'c', on: true } }, /^f\.json: inner\.mode: expected one of "a", "b", got "c"$/);
  fails({ inner: { on: true } }, /^f\.json: inner\.mode: missing \(expected one of "a", "b"\)$/);
  fails({ inner: { mod: 'a', on: 1 } }, /^f\.json: inner: unknown key 'mod' \(valid: mode, on\)$/);
  fails({ n: 'x' }, /^f\.json: sec\.n: expected a number/, ['sec']);
});
