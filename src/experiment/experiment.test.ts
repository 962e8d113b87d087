import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../testing/paths.js';
import { writeToyExperiment } from '../testing/toy-experiment.js';

/**
 * The runner end to end on a minute-long toy setup: 2 fractions × 2 losses, a couple of training
 * steps of a shrunken tiny model on 16 real clips, then a re-run that must find everything done.
 */
test('difftts experiment: toy 2 fractions × 2 losses → report.md with tables, plots, samples; re-run skips finished work', {
  timeout: 600_000,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-exp-e2e-'));
  const recipe = writeToyExperiment(dir, {
    evaluate: { split: 'test', steps: 2, maxUtterances: 1, unseen: 'unseen.txt', speakerRefs: 4, wer: false },
  });
  writeFileSync(join(dir, 'unseen.txt'), '# two sentences with no recording\nCall me back.\nGoodbye.\n');
  const out = join(dir, 'out');
  const run = () =>
    spawnSync(process.execPath, [cliPath, '--backend', 'wasm', 'experiment', '--recipe', recipe, '--out', out], { encoding: 'utf8' });

  const r = run();
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const report = readFileSync(join(out, 'report.md'), 'utf8');
  // One resilience table per metric with a row per loss and a column for the corrupted fraction: mean [95 % interval].
  const num = '-?[0-9.]+(?:e[-+]?[0-9]+)?';
  const cell = `${num}(?: \\[${num}, ${num}\\])?`; // a single utterance's value has no interval
  assert.match(
    report,
    new RegExp(`### mcd: .*\\n\\n\\| loss \\| f = 0\\.5 \\|\\n\\|---\\|---\\|\\n\\| l2 \\| ${cell} \\|\\n\\| phuber-exp \\| ${cell} \\|`),
  );
  assert.match(report, /### melCosine: /);
  assert.match(report, /### speakerDist: /);
  for (const f of [
    'results.json',
    'resilience-mcd.png',
    'resilience-speakerDist.png',
    'vs-l2-mcd.png',
    'curves-l2.png',
    'curves-phuber-exp.png',
    'samples/l2-f0.5-s0.wav',
    'samples/phuber-exp-f0-s0.png',
  ]) {
    assert.ok(existsSync(join(out, f)), `${f} written`);
  }
  // Resilience in the table is exactly sim(f=0.5) − sim(f=0) from the two eval.json files.
  const agg = (loss: string, f: string) =>
    JSON.parse(readFileSync(join(out, 'evals', loss, `f${f}-s0`, 'eval.json'), 'utf8')).aggregate.mcd as number;
  const expected = -(agg('l2', '0.5') - agg('l2', '0'));
  const row = report.match(/### mcd: [^\n]*\n\n[^\n]*\n[^\n]*\n\| l2 \| (\S+) /)!;
  assert.ok(Math.abs(Number(row[1]) - expected) < 0.01, `table ${row[1]} vs ${expected}`);
  // The unseen sentences were synthesised and scored by the reference-free metrics only; results.json has the issues' schema.
  const ev = JSON.parse(readFileSync(join(out, 'evals', 'l2', 'f0-s0', 'eval.json'), 'utf8'));
  assert.deepEqual(
    ev.unseen.map((u: { id: string; text: string }) => [u.id, u.text]),
    [
      ['unseen-01', 'Call me back.'],
      ['unseen-02', 'Goodbye.'],
    ],
  );
  assert.ok(
    ev.unseen.every((u: { speakerDist: number }) => u.speakerDist > 0) && ev.utterances[0].speakerDist > 0 && ev.utterances[0].mcd > 0,
  );
  // naturalness against the target's recordings: per utterance, per set, and the GV curve
  assert.ok(
    ev.unseen.every((u: { melDist: number; mcepFd: number }) => u.melDist > 0 && u.mcepFd > 0) && Number.isFinite(ev.utterances[0].gvDb),
  );
  assert.ok(Number.isFinite(ev.naturalness.all.gvDb) && ev.naturalness.all.gvPerBand.length === 80 && ev.naturalness.all.setFd > 0);
  assert.ok(existsSync(join(out, 'evals', 'l2', 'f0-s0', 'gv.png')));
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.deepEqual(Object.keys(results), [
    'recipe',
    'primaryMetric',
    'equivalenceMargin',
    'seeds',
    'cells',
    'sphlMinusL2',
    'cleanBaselineWer',
    'verdict',
  ]);
  assert.equal(
    results.cells.find((c: { loss: string; metric: string }) => c.loss === 'l2' && c.metric === 'speakerDist').n,
    3,
    'test utterance + 2 unseen',
  );
  // The corrupted corpus is exactly round(0.5 × train) noisy clips.
  const log = JSON.parse(readFileSync(join(out, 'corpora', 'noise-f0.5-s0', 'corruption.json'), 'utf8'));
  assert.equal(log.corrupted.length, 4);

  // A second run finds every step done: nothing is retrained (checkpoints untouched).
  const ck = join(out, 'runs', 'l2', 'f0-s0', 'checkpoints');
  const before = statSync(ck).mtimeMs;
  const again = run();
  assert.equal(again.status, 0, again.stderr);
  assert.equal(statSync(ck).mtimeMs, before);
  assert.ok(
    !existsSync(join(out, 'logs', 'train-l2-f0-s0.log')) ||
      readFileSync(join(out, 'logs', 'train-l2-f0-s0.log'), 'utf8').split('trained ').length === 2,
  );
});

test('difftts experiment: a recipe error is one line naming the file and field, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-exp-bad-'));
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({ corpus: 'c', corruption: { mode: 'melt' }, train: { recipe: 'r.json' } }));
  const r = spawnSync(process.execPath, [cliPath, 'experiment', '--recipe', join(dir, 'exp.json'), '--out', join(dir, 'out')], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /exp\.json: corruption\.mode: /);
  assert.equal(existsSync(join(dir, 'out')), false);
});
