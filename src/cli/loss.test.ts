import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { cliPath } from '../testing/paths.js';

function difftts(...args: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

test('loss show --json gives δ(t) and losses equal to the closed forms', () => {
  const r = difftts('loss', 'show', '--type', 'pseudo-huber', '--schedule', 'exponential', '--c', '0.1', '--t', '0,0.5,1', '--residual', '0.1,2', '--json');
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
  const r = difftts('loss', 'show', '--type', 'huber', '--schedule', 'snr', '--c', '0.2', '--scale', '2', '--reversed', '--t', '1', '--residual', '0.5,5', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  close(j.delta[0], 2, 1e-12, 'reversed snr at t=1 is scale·δ(0) = 2');
  close(j.loss[0][0], 0.125, 1e-12, 'huber inside');
  close(j.loss[0][1], 2 * (5 - 1), 1e-12, 'huber outside');
  const t = difftts('loss', 'show', '--type', 'l2');
  assert.equal(t.code, 0, t.stderr);
  const lines = t.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2 + 5, 'title, header and one row per default t');
  assert.match(lines[0]!, /not used by l2/);
  const widths = new Set(lines.slice(1).map((l) => l.length));
  assert.equal(widths.size, 1, 'rows are aligned');
});

test('loss show: bad values exit 2 with one line naming the flag', () => {
  for (const [args, flag] of [
    [['--type', 'pseudo-hubr'], '--type'],
    [['--type', 'huber', '--schedule', 'cosine'], '--schedule'],
    [['--type', 'huber', '--c', '0'], '--c'],
    [['--type', 'huber', '--c', 'abc'], '--c'],
    [['--type', 'huber', '--t', '0,1.5'], '--t'],
    [['--type', 'huber', '--residual', 'x'], '--residual'],
  ] as [string[], string][]) {
    const r = difftts('loss', 'show', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.ok(r.stderr.includes(flag), `names ${flag}: ${r.stderr}`);
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
