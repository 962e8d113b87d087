import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { makeCorpus } from '../testing/corpora.js';
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
    [['--checkpoint', join(dir, 'no-run'), '--refs', corpus, '--steps', '-1'], /--steps: expected ≥ 0, got -1/],
  ];
  for (const [args, re] of cases) {
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [cliPath, 'evaluate', ...args, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('difftts: using backend'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, re);
    assert.equal(existsSync(out), false, `${args.join(' ')} left ${out}`);
  }
});

test('difftts evaluate: without --steps a voice is scored at its own synthesis defaults (allison-enc128: steps 0, μ alone)', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'difftts-eval-voice-')), 'out');
  const voice = join(repoRoot, 'pretrained', 'allison-enc128');
  const args = [
    '--backend',
    'wasm',
    'evaluate',
    '--checkpoint',
    voice,
    '--refs',
    makeCorpus(12),
    '--max',
    '1',
    '--iters',
    '2',
    '--speaker-refs',
    '0',
    '--workers',
    '1',
    '--out',
    out,
  ];
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ev = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
  assert.equal(ev.steps, 0);
  assert.equal(ev.n, 1);
});
