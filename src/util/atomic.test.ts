import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError, WriteError, writeFailure } from '../errors.js';
import { printable } from './printable.js';
import { appendWhole, checkOutput, ensureDir, writeDirAtomic, writeDirAtomicAsync, writeFileAtomic } from './atomic.js';

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
  await assert.rejects(
    writeDirAtomicAsync(ck, async (tmp) => writeFileSync(join(tmp, 'a.bin'), 'v3')),
    oneLine(ck, 'EROFS', 'read-only file system'),
  );
  // a file written inside the temporary directory that is refused: still reported as the directory
  process.env.DIFFTTS_DEBUG_WRITE_FAIL = 'EACCES:inner.wav';
  assert.throws(
    () => writeDirAtomic(ck, (tmp) => writeFileAtomic(join(tmp, 'wavs', 'inner.wav'), 'x')),
    oneLine(ck, 'EACCES', 'permission denied'),
  );
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
  const e = Object.assign(new Error("EACCES: permission denied, mkdir '/x/y'"), { code: 'EACCES', syscall: 'mkdir', path: '/x/y' });
  assert.equal(writeFailure(e)!.message, '/x/y: cannot create the directory (permission denied, EACCES)');
  assert.equal(writeFailure(e, '/x/y/out.wav')!.message, '/x/y/out.wav: cannot write (permission denied, EACCES)');
  assert.equal(writeFailure(Object.assign(new Error('boom'), { code: 'ENOENT', path: '/x' })), null);
  // any errno of a real system call, in Node's own words
  const loop = Object.assign(new Error("ENXIO: no such device or address, open '/x/fifo'"), {
    code: 'ENXIO',
    syscall: 'open',
    path: '/x/fifo',
  });
  assert.equal(writeFailure(loop)!.message, '/x/fifo: cannot open (no such device or address, ENXIO)');
  assert.equal(writeFailure(new TypeError('bug')), null);
  assert.equal(writeFailure(new UserError('bad input')), null);
});

test('atomic: a parent that is a file, a directory in the way, a name too long, a link loop, /proc: one WriteError naming the output, nothing created', () => {
  const dir = mkdtempSync(join(root, 'p-'));
  const file = join(dir, 'file.txt');
  writeFileSync(file, 'hi\n');
  symlinkSync('loop', join(dir, 'loop'));
  const long = join(dir, `${'a'.repeat(256)}.wav`);
  const cases: [string, () => void, string, string, string][] = [
    [join(file, 'a.wav'), () => writeFileAtomic(join(file, 'a.wav'), 'x'), 'ENOTDIR', `${file} is a file, not a directory`, 'write'],
    [
      join(file, 'x', 'y', 'a.wav'),
      () => writeFileAtomic(join(file, 'x', 'y', 'a.wav'), 'x'),
      'ENOTDIR',
      `${file} is a file, not a directory`,
      'write',
    ],
    [join(file, 'ck'), () => writeDirAtomic(join(file, 'ck'), () => {}), 'ENOTDIR', `${file} is a file, not a directory`, 'write'],
    [file, () => ensureDir(file), 'ENOTDIR', `${file} is a file, not a directory`, 'write'],
    [dir, () => writeFileAtomic(dir, 'x'), 'EISDIR', 'is a directory', 'write'],
    [long, () => writeFileAtomic(long, 'x'), 'ENAMETOOLONG', 'file name too long', 'write'],
    [
      join(dir, 'loop', 'a.wav'),
      () => writeFileAtomic(join(dir, 'loop', 'a.wav'), 'x'),
      'ELOOP',
      'too many levels of symbolic links',
      'write',
    ],
    // Node's recursive mkdir never returns here
    ['/proc/difftts-x/a.npy', () => writeFileAtomic('/proc/difftts-x/a.npy', 'x'), 'ENOENT', 'no such file or directory', 'write'],
    ['/proc/difftts-x.npy', () => writeFileAtomic('/proc/difftts-x.npy', 'x'), 'ENOENT', 'no such file or directory', 'write'],
  ];
  for (const [path, write, code, why, verb] of cases) {
    assert.throws(
      write,
      (e: unknown) => e instanceof WriteError && e.exitCode === 1 && e.message === `${path}: cannot ${verb} (${why}, ${code})`,
      path,
    );
  }
  assert.deepEqual(readdirSync(dir).sort(), ['file.txt', 'loop']);
});

test('checkOutput: finds without writing what a write would be refused for; creates nothing; accepts what can be written', () => {
  const dir = mkdtempSync(join(root, 'c-'));
  const file = join(dir, 'file.txt');
  writeFileSync(file, 'hi\n');
  const refused = (path: string, code: string, why: string) => (e: unknown) =>
    e instanceof WriteError && e.message === `${path === '' ? '(empty path)' : path}: cannot write (${why}, ${code})`;
  assert.throws(() => checkOutput(join(file, 'a.wav')), refused(join(file, 'a.wav'), 'ENOTDIR', `${file} is a file, not a directory`));
  assert.throws(
    () => checkOutput(join(file, 'run', 'x'), 'dir'),
    refused(join(file, 'run', 'x'), 'ENOTDIR', `${file} is a file, not a directory`),
  );
  assert.throws(() => checkOutput(file, 'dir'), refused(file, 'ENOTDIR', 'is a file, not a directory'));
  assert.throws(() => checkOutput(dir), refused(dir, 'EISDIR', 'is a directory'));
  assert.throws(() => checkOutput(join(dir, 'b'.repeat(300))), refused(join(dir, 'b'.repeat(300)), 'ENAMETOOLONG', 'file name too long'));
  assert.throws(
    () => checkOutput(`${dir}/${'c/'.repeat(2100)}x`),
    (e: unknown) => e instanceof WriteError && e.code === 'ENAMETOOLONG',
  );
  assert.throws(() => checkOutput(''), refused('', 'ENOENT', 'expected a file name'));
  assert.throws(() => checkOutput('/proc/difftts-x', 'dir'), refused('/proc/difftts-x', 'ENOENT', 'no such file or directory'));
  assert.throws(() => checkOutput('/proc/difftts-x/a.npy'), refused('/proc/difftts-x/a.npy', 'ENOENT', 'no such file or directory'));
  for (const ok of [join(dir, 'new', 'deeper', 'a.wav'), file, join(dir, '-'), join(dir, 'x\u0001\ny.wav')]) checkOutput(ok);
  checkOutput(join(dir, 'new-run'), 'dir');
  checkOutput(dir, 'dir');
  assert.deepEqual(readdirSync(dir), ['file.txt']);
  if (process.getuid?.() !== 0) {
    mkdirSync(join(dir, 'ro'), { mode: 0o500 });
    assert.throws(
      () => checkOutput(join(dir, 'ro', 'sub', 'a.wav')),
      refused(join(dir, 'ro', 'sub', 'a.wav'), 'EACCES', 'permission denied'),
    );
  }
  assert.ok(!existsSync(join(dir, 'new')));
});

test('printable: control characters escaped, everything else (non-ASCII included) as is', () => {
  assert.equal(printable('a\u001b]0;title\u0007b\n\t\u0000\u009b é 😀'), 'a\\x1b]0;title\\x07b\\n\\t\\x00\\x9b é 😀');
});
