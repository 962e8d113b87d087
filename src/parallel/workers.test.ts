import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import { cores, jobsFor, parseWorkers, resolveJobWorkers, resolveTrainWorkers } from './workers.js';

test('train.workers: "auto" = the cores (1 on native backends), capped by the utterances per micro-batch, saying so', () => {
  const c = cores();
  assert.deepEqual(resolveTrainWorkers('auto', 1000, false), { n: c, note: `train.workers "auto" = ${c} cores` });
  assert.equal(resolveTrainWorkers('auto', 1000, true).n, 1);
  assert.deepEqual(resolveTrainWorkers(3, 3, false), { n: 3, note: 'train.workers 3' });
  assert.deepEqual(resolveTrainWorkers(8, 2, false), { n: 2, note: 'train.workers 8, but a micro-batch holds only 2 utterances: 2' });
  assert.equal(resolveTrainWorkers(4, 1, false).n, 1);
});

test('jobs and job workers: cores ÷ workers per job (≥ 1); at most one worker per item; --workers parsing', () => {
  assert.equal(jobsFor(1, 16), 16);
  assert.equal(jobsFor(4, 16), 4);
  assert.equal(jobsFor(3, 16), 5);
  assert.equal(jobsFor(32, 16), 1);
  assert.equal(resolveJobWorkers(4, 2, false), 2);
  assert.equal(resolveJobWorkers('auto', 1000, false), cores());
  assert.equal(resolveJobWorkers('auto', 1000, true), 1);
  assert.equal(parseWorkers('auto', '--workers'), 'auto');
  assert.equal(parseWorkers('3', '--workers'), 3);
  for (const bad of ['0', '1.5', 'many']) {
    assert.throws(
      () => parseWorkers(bad, '--workers'),
      (e: unknown) => e instanceof UserError && e.message === `--workers: expected an integer ≥ 1 or "auto", got "${bad}"`,
    );
  }
});

test('worker processes keep node flags such as the heap size, not the ones naming what this process runs', async () => {
  const { workerExecArgv } = await import('./peer.js');
  assert.deepEqual(workerExecArgv(['--input-type=module', '-e', 'code()', '--max-old-space-size=4000']), ['--max-old-space-size=4000']);
  assert.deepEqual(workerExecArgv(['--test', '--inspect=9229', '--enable-source-maps', '-p', '1+1', '--no-warnings']), [
    '--enable-source-maps',
    '--no-warnings',
  ]);
});
