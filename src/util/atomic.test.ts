import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, WriteError, writeFailure } from '../errors.js';
import { appendWhole, writeDirAtomic, writeDirAtomicAsync, writeFileAtomic } from './atomic.js';

const root = mkdtempSync(join(tmpdir(), 'difftts-atomic-'));
afterEach(() => delete process.env.DIFFTTS_DEBUG_WRITE_FAIL);

const oneLine = (path: string, code: string, why: string) => (e: unknown) =>
  e instanceof WriteError && e.exitCode === 1 && e.message === `${path}: cannot write (${why}, ${code})`;

test('atomic: a refused file write names the file, leaves the old content and no temporary file', () => {
  const dir = mkdtempSync(join(root, 'f-'));
  const p = join(dir, 'out.json');
  writeFileAtomic(p, 'old\n');
  process.env.DIFFTTS_DEBUG_WRITE_FAIL = 'ENOSPC:out.json';
  assert.throws(() => writeFileAtomic(p, 'new content that does not fit\n'), oneLine(p, 'ENOSPC', 'no space left on device'));
  assert.equal(readFileSync(p, 'utf8'), 'old\n');
  assert.deepEqual(readdirSync(dir), ['out.json']);
});

test('atomic: a refused directory names the directory (not its temporary name or a file inside), the old one stays', async () => {
  const dir = mkdtempSync(join(root, 'd-'));
  const ck = join(dir, 'step-000010');
  writeDirAtomic(ck, (tmp) => writeFileSync(join(tmp, 'a.bin'), 'v1'));
  process.env.DIFFTTS_DEBUG_WRITE_FAIL = 'EROFS:step-000010';
  assert.throws(() => writeDirAtomic(ck, (tmp) => writeFileSync(join(tmp, 'a.bin'), 'v2')), oneLine(ck, 'EROFS', 'read-only file system'));
  await assert.rejects(writeDirAtomicAsync(ck, async (tmp) => writeFileSync(join(tmp, 'a.bin'), 'v3')), oneLine(ck, 'EROFS', 'read-only file system'));
  // a file written inside the temporary directory that is refused: still reported as the directory
  process.env.DIFFTTS_DEBUG_WRITE_FAIL = 'EACCES:inner.wav';
  assert.throws(() => writeDirAtomic(ck, (tmp) => writeFileAtomic(join(tmp, 'wavs', 'inner.wav'), 'x')), oneLine(ck, 'EACCES', 'permission denied'));
  assert.equal(readFileSync(join(ck, 'a.bin'), 'utf8'), 'v1');
  assert.deepEqual(readdirSync(dir), ['step-000010']);
});

test('atomic: appendWhole cuts a half-written line back, so the file holds whole lines only', () => {
  const p = join(mkdtempSync(join(root, 'm-')), 'metrics.jsonl');
  process.env.DIFFTTS_DEBUG_WRITE_FAIL = 'ENOSPC:metrics.jsonl:2';
  appendWhole(p, '{"step":1}\n');
  appendWhole(p, '{"step":2}\n');
  assert.throws(() => appendWhole(p, '{"step":3,"loss":0.123456789}\n'), oneLine(p, 'ENOSPC', 'no space left on device'));
  assert.equal(readFileSync(p, 'utf8'), '{"step":1}\n{"step":2}\n');
});

test('writeFailure: only refusals by the system become WriteErrors; the path and cause in one line', () => {
  const e = Object.assign(new Error('EACCES: permission denied, mkdir \'/x/y\''), { code: 'EACCES', syscall: 'mkdir', path: '/x/y' });
  assert.equal(writeFailure(e)!.message, '/x/y: cannot create the directory (permission denied, EACCES)');
  assert.equal(writeFailure(e, '/x/y/out.wav')!.message, '/x/y/out.wav: cannot write (permission denied, EACCES)');
  assert.equal(writeFailure(Object.assign(new Error('boom'), { code: 'ENOENT', path: '/x' })), null);
  assert.equal(writeFailure(new TypeError('bug')), null);
  assert.equal(writeFailure(new UserError('bad input')), null);
});
