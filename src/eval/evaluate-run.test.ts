import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliPath, repoRoot } from '../testing/paths.js';

test('difftts evaluate: a missing checkpoint or refs corpus is one line, exit 2, and leaves no output directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-eval-bad-'));
  const corpus = join(repoRoot, 'datasets', 'allison-mini');
  const cases: [string[], RegExp][] = [
    [['--checkpoint', join(dir, 'no-run'), '--refs', corpus], /no-run: no such run or checkpoint directory/],
    [['--checkpoint', join(dir, 'no-run'), '--refs', corpus, '--split', 'dev'], /--split: expected test, valid or train, got 'dev'/],
    [['--checkpoint', join(dir, 'no-run'), '--refs', corpus, '--steps', '0'], /--steps: expected ≥ 1, got 0/],
  ];
  for (const [args, re] of cases) {
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [cliPath, 'evaluate', ...args, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('difftts: using backend'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, re);
    assert.equal(existsSync(out), false, `${args.join(' ')} left ${out}`);
  }
});
