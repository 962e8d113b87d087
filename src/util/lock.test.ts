import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { acquireDirLock } from './lock.js';

const root = mkdtempSync(join(tmpdir(), 'difftts-lock-'));
const refused = (re: RegExp) => (e: unknown) =>
  e instanceof UserError && e.exitCode === 1 && re.test(e.message) && !e.message.includes('\n');

test('lock: held while taken; a second taker is refused naming pid, host and since; released it can be taken again', () => {
  const dir = join(root, 'a');
  mkdirSync(dir);
  const lock = acquireDirLock(dir, { what: 'another trainer' });
  const h = JSON.parse(readFileSync(join(dir, 'train.lock'), 'utf8'));
  assert.equal(h.pid, process.pid);
  assert.equal(h.host, hostname());
  assert.ok(Math.abs(Date.parse(h.since) - Date.now()) < 60_000);
  assert.throws(
    () => acquireDirLock(dir, { what: 'another trainer' }),
    refused(new RegExp(`^${dir}: in use by another trainer \\(pid ${process.pid} on ${hostname()}, since ${h.since.replace('.', '\\.')}`)),
  );
  lock.release();
  lock.release(); // idempotent
  assert.ok(!existsSync(join(dir, 'train.lock')));
  acquireDirLock(dir).release();
  assert.deepEqual(readdirSync(dir), [], 'no temporary files left');
});

test('lock: a lock left by a dead process (or a reused pid) is taken over with a notice; other hosts and unreadable locks are not', () => {
  const dir = join(root, 'b');
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
  const since = new Date().toISOString();
  const keep = acquireDirLock(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), ''); // a run directory with content: release keeps it
  keep.release();
  const cases: [string, object, RegExp | null][] = [
    [
      'dead pid',
      { pid: gone, host: hostname(), since, command: 'difftts train' },
      /taking over a lock left by pid \d+ .*no longer running/,
    ],
    [
      'pid reused by a later process',
      { pid: process.pid, host: hostname(), since: '2001-01-01T00:00:00.000Z', command: '' },
      existsSync('/proc/self/stat') ? /taking over/ : null,
    ],
    ['other host', { pid: gone, host: 'elsewhere.example', since, command: 'difftts train' }, null],
  ];
  for (const [what, holder, notice] of cases) {
    const p = join(dir, 'train.lock');
    writeFileSync(p, JSON.stringify(holder));
    const logs: string[] = [];
    if (notice) {
      const lock = acquireDirLock(dir, { log: (m) => logs.push(m) });
      assert.equal(logs.length, 1, what);
      assert.match(logs[0]!, notice, what);
      assert.equal(JSON.parse(readFileSync(p, 'utf8')).pid, process.pid, what);
      lock.release();
    } else {
      assert.throws(
        () => acquireDirLock(dir, { log: (m) => logs.push(m) }),
        refused(/in use by another process \(pid \d+ on elsewhere\.example.*; if that process is gone, delete .*train\.lock$/),
        what,
      );
      assert.deepEqual(logs, []);
    }
  }
  writeFileSync(join(dir, 'train.lock'), '{"pi');
  assert.throws(() => acquireDirLock(dir), refused(/in use by another process \(an unreadable lock file\).*delete/));
});

test('lock: release leaves a lock that is no longer ours, and removes a directory it created when still empty', () => {
  const dir = join(root, 'c', 'run');
  const lock = acquireDirLock(dir);
  lock.release();
  assert.ok(!existsSync(dir), 'the empty directory it created is gone');
  const l2 = acquireDirLock(dir);
  writeFileSync(join(dir, 'train.lock'), JSON.stringify({ pid: 1, host: 'other', since: new Date().toISOString(), command: '' }));
  l2.release();
  assert.ok(existsSync(join(dir, 'train.lock')), "someone else's lock stays");
});
