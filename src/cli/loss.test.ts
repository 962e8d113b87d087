import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { UserError } from '../errors.js';
import { cliPath } from '../testing/paths.js';
import { runLossShow, type ShowOptions } from './loss.js';

const DEFAULTS: ShowOptions = {
  type: 'huber',
  schedule: 'constant',
  c: '1',
  scale: '1',
  beta0: '0.05',
  beta1: '20',
  t: '0,0.25,0.5,0.75,1',
  residual: '0.01,0.1,1,10',
};

function difftts(...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

test('loss show --json gives δ(t) and losses equal to the closed forms', () => {
  const r = difftts(
    'loss',
    'show',
    '--type',
    'pseudo-huber',
    '--schedule',
    'exponential',
    '--c',
    '0.1',
    '--t',
    '0,0.5,1',
    '--residual',
    '0.1,2',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.type, 'pseudo-huber');
  assert.equal(j.schedule, 'exponential');
  assert.equal(j.c, 0.1);
  assert.deepEqual(j.t, [0, 0.5, 1]);
  const want = [1, Math.sqrt(0.1), 0.1];
  j.delta.forEach((d: number, i: number) => close(d, want[i]!, 1e-12, `δ(${j.t[i]})`));
  [0.1, 2].forEach((res, k) => {
    want.forEach((d, i) => close(j.loss[i][k], 2 * d * (Math.sqrt(res * res + d * d) - d), 1e-12, `loss(t=${j.t[i]}, r=${res})`));
  });
});

test('loss show: snr with scale and reversed; the table is aligned', () => {
  const r = difftts(
    'loss',
    'show',
    '--type',
    'huber',
    '--schedule',
    'snr',
    '--c',
    '0.2',
    '--scale',
    '2',
    '--reversed',
    '--t',
    '1',
    '--residual',
    '0.5,5',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  close(j.delta[0], 2, 1e-12, 'reversed snr at t=1 is scale·δ(0) = 2');
  close(j.loss[0][0], 0.125, 1e-12, 'huber inside');
  close(j.loss[0][1], 2 * (5 - 1), 1e-12, 'huber outside');
  const lines = runLossShow({ ...DEFAULTS, type: 'l2' })
    .trimEnd()
    .split('\n');
  assert.equal(lines.length, 2 + 5, 'title, header and one row per default t');
  assert.match(lines[0]!, /not used by l2/);
  const widths = new Set(lines.slice(1).map((l) => l.length));
  assert.equal(widths.size, 1, 'rows are aligned');
});

test('loss show: bad values are one-line UserErrors naming the flag', () => {
  for (const [o, flag] of [
    [{ type: 'pseudo-hubr' }, '--type'],
    [{ schedule: 'cosine' }, '--schedule'],
    [{ c: '0' }, '--c'],
    [{ c: 'abc' }, '--c'],
    [{ scale: '-2' }, '--scale'],
    [{ t: '0,1.5' }, '--t'],
    [{ residual: 'x' }, '--residual'],
    [{ beta1: '0.01' }, '--beta1'],
    [{ beta0: '0' }, '--beta0'],
  ] as [Partial<ShowOptions>, string][]) {
    assert.throws(
      () => runLossShow({ ...DEFAULTS, ...o }),
      (err: unknown) => err instanceof UserError && err.message.startsWith(flag) && !err.message.includes('\n'),
      JSON.stringify(o),
    );
  }
});

test('loss show: the CLI turns a bad value into exit code 2 and one line on stderr', () => {
  for (const args of [
    ['--type', 'pseudo-hubr'],
    ['--type', 'huber', '--c', '0'],
  ]) {
    const r = difftts('loss', 'show', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, /^difftts: --(type|c): /);
    assert.equal(r.stdout, '');
  }
});

test('loss show --png writes a plot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loss-show-'));
  try {
    const path = join(dir, 'd.png');
    const r = difftts('loss', 'show', '--type', 'pseudo-huber', '--schedule', 'snr', '--c', '0.1', '--png', path);
    assert.equal(r.code, 0, r.stderr);
    const png = pngjs.PNG.sync.read(readFileSync(path));
    assert.equal(png.width, 800);
    assert.ok(png.height > 800, 'two stacked plots');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
