import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../../testing/paths.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../errors.js';
import { SlurmOptionsSchema, slurmExecutor, type JobState, type SlurmClient } from './slurm.js';
import type { Cell } from './index.js';

/**
 * A scheduler in memory with Slurm's rules for what the executor sees: a job runs once its afterok
 * jobs COMPLETED and is CANCELLED (DependencyNeverSatisfied) without starting when one of them did
 * not; a job that runs writes its start marker and its log and then completes its cell or FAILs,
 * as `outcome` says for that cell's n-th run — or, for 'wait', stays PENDING (Priority) until the
 * test cancels it.
 */
function fakeSlurm(dir: string, logs: string, outcome: (cell: string, run: number) => 'ok' | 'fail' | 'wait', done: Set<string>) {
  const jobs: { id: string; cell: string; after: string[]; state: JobState }[] = [];
  const runs = new Map<string, number>();
  const client: SlurmClient = {
    submit(script, after) {
      const cell = /difftts experiment cell (\S+):/.exec(readFileSync(script, 'utf8'))![1]!;
      const id = String(jobs.length + 1);
      jobs.push({ id, cell, after, state: { state: 'PENDING', reason: after.length ? 'Dependency' : 'None' } });
      return id;
    },
    states(ids) {
      for (const j of jobs) {
        if (j.state.state !== 'PENDING') continue;
        const deps = j.after.map((a) => jobs.find((x) => x.id === a)!.state.state);
        if (deps.some((s) => s !== 'COMPLETED' && s !== 'PENDING')) j.state = { state: 'CANCELLED', reason: 'DependencyNeverSatisfied' };
        else if (deps.every((s) => s === 'COMPLETED')) {
          const n = (runs.get(j.cell) ?? 0) + 1;
          if (outcome(j.cell, n) === 'wait') {
            j.state = { state: 'PENDING', reason: 'Priority' };
            continue;
          }
          runs.set(j.cell, n);
          writeFileSync(join(dir, 'started', j.id), 'node\n');
          writeFileSync(join(logs, `slurm-${j.cell}-${j.id}.out`), 'output\n');
          if (outcome(j.cell, n) === 'ok') done.add(j.cell);
          j.state = outcome(j.cell, n) === 'ok' ? { state: 'COMPLETED', reason: 'None' } : { state: 'FAILED', reason: 'NonZeroExitCode' };
        }
      }
      return new Map(jobs.filter((j) => ids.includes(j.id)).map((j) => [j.id, j.state]));
    },
  };
  return { client, jobs };
}

const temps: string[] = [];
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

function setup(outcome: (cell: string, run: number) => 'ok' | 'fail' | 'wait', slurm: Record<string, unknown>, wait = true) {
  const dir = tempDir('difftts-slurm-exec-');
  const done = new Set<string>();
  const cell = (id: string, deps: string[]): Cell => ({ id, deps, done: () => done.has(id) });
  // Given out of dependency order on purpose.
  const cells = [cell('run-b', ['corpus-a', 'corpus-c']), cell('corpus-a', []), cell('corpus-c', [])];
  const fake = fakeSlurm(join(dir, 'slurm'), join(dir, 'logs'), outcome, done);
  const lines: string[] = [];
  const executor = () =>
    slurmExecutor({
      dir: join(dir, 'slurm'),
      logs: join(dir, 'logs'),
      name: 'difftts-toy',
      command: (c) => ['/usr/bin/node', "/opt/it's/difftts.js", 'experiment-cell', '--cell', c.id],
      options: SlurmOptionsSchema.parse({ poll: 0.1, ...slurm }),
      wait,
      client: fake.client,
      log: (l) => lines.push(l),
    });
  return { dir, cells, fake, lines, executor, done };
}

test('slurm executor --no-wait: every cell submitted with afterok on its deps, resources in the script; a second call submits nothing new', async () => {
  const s = setup(() => 'ok', { partition: 'gpu', time: '4:00:00', cpus: 4, gres: 'gpu:1', extra: ['--account=tts', '--qos=low'] }, false);
  assert.equal(await s.executor().run(s.cells), false);
  assert.deepEqual(
    s.fake.jobs.map((j) => [j.cell, j.after]),
    [
      ['corpus-a', []],
      ['corpus-c', []],
      ['run-b', ['1', '2']],
    ],
  );
  const script = readFileSync(join(s.dir, 'slurm', 'run-b.sh'), 'utf8');
  for (const l of [
    '#SBATCH --partition=gpu',
    '#SBATCH --time=4:00:00',
    '#SBATCH --cpus-per-task=4',
    '#SBATCH --gres=gpu:1',
    '#SBATCH --account=tts',
    '#SBATCH --qos=low',
    '#SBATCH --job-name=difftts-toy-run-b',
  ]) {
    assert.ok(script.split('\n').includes(l), `${l} in\n${script}`);
  }
  assert.ok(script.includes(`#SBATCH --output=${join(s.dir, 'logs', 'slurm-run-b-%j.out')}`));
  assert.ok(script.trimEnd().endsWith(`exec '/usr/bin/node' '/opt/it'\\''s/difftts.js' 'experiment-cell' '--cell' 'run-b'`), script);
  assert.deepEqual(JSON.parse(readFileSync(join(s.dir, 'slurm', 'jobs.json'), 'utf8')), {
    'corpus-a': ['1'],
    'corpus-c': ['2'],
    'run-b': ['3'],
  });

  // Re-run: the pending/running jobs are picked up from jobs.json, not submitted again; then it collects.
  assert.equal(await s.executor().run(s.cells), true);
  assert.equal(s.fake.jobs.length, 3);
});

test('slurm executor: a failed cell is resubmitted; its dependents cancelled by Slurm meanwhile are resubmitted without using up their retries', async () => {
  // corpus-a fails on its first run; run-b fails on its first real run.
  const s = setup((cell, n) => (n === 1 && cell !== 'corpus-c' ? 'fail' : 'ok'), { retries: 1 });
  assert.equal(await s.executor().run(s.cells), true);
  assert.deepEqual([...s.done].sort(), ['corpus-a', 'corpus-c', 'run-b']);
  const byCell = (c: string) => s.fake.jobs.filter((j) => j.cell === c).map((j) => j.state.state);
  assert.deepEqual(byCell('corpus-a'), ['FAILED', 'COMPLETED']);
  // Cancelled for its failed dependency (does not count), failed (retry 1 of 1), completed.
  assert.deepEqual(byCell('run-b'), ['CANCELLED', 'FAILED', 'COMPLETED']);
  assert.ok(
    s.lines.some((l) => /^corpus-a: job 1 FAILED \(NonZeroExitCode\); see .*slurm-corpus-a-1\.out$/.test(l)),
    s.lines.join('\n'),
  );
});

test('slurm executor: a cell failing more than `retries` times is one UserError naming it, its job log and the cells it blocked', async () => {
  const s = setup((cell) => (cell === 'corpus-a' ? 'fail' : 'ok'), { retries: 1 });
  await assert.rejects(s.executor().run(s.cells), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.match(
      err.message,
      /^slurm: 1 cell\(s\) failed 2 times: corpus-a \(job \d+ FAILED \(NonZeroExitCode\); see \S+slurm-corpus-a-\d+\.out\); not run because of them: run-b$/,
    );
    return true;
  });
  assert.equal(s.fake.jobs.filter((j) => j.cell === 'corpus-a').length, 2);
  assert.ok(s.done.has('corpus-c'));
});

test('slurm executor: a job cancelled while pending is reported so, with its pending reason and no log; the cell is resubmitted', async () => {
  let cancelled = false;
  const s = setup((cell, n) => (cell === 'corpus-c' && n === 1 && !cancelled ? 'wait' : 'ok'), {}, false);
  assert.equal(await s.executor().run(s.cells), false);
  s.fake.client.states([]); // the scheduler looks at its queue
  const pending = s.fake.jobs.find((j) => j.cell === 'corpus-c')!;
  assert.deepEqual(pending.state, { state: 'PENDING', reason: 'Priority' });
  pending.state = { state: 'CANCELLED', reason: 'Priority' }; // scancel: squeue keeps the pending reason
  cancelled = true;
  assert.equal(await s.executor().run(s.cells), false);
  assert.ok(
    s.lines.includes(`corpus-c: job ${pending.id} was cancelled while pending (pending reason: Priority); it never ran, so it has no log`),
    s.lines.join('\n'),
  );
  assert.ok(!existsSync(join(s.dir, 'logs', `slurm-corpus-c-${pending.id}.out`)));
  assert.equal(s.fake.jobs.filter((j) => j.cell === 'corpus-c').length, 2, 'resubmitted');
  // A job that ran and failed still points at its log, which is there.
  const f = setup((cell) => (cell === 'corpus-a' ? 'fail' : 'ok'), { retries: 0 });
  await assert.rejects(f.executor().run(f.cells), /corpus-a \(job 1 FAILED \(NonZeroExitCode\); see \S+slurm-corpus-a-1\.out\)/);
  assert.ok(existsSync(join(f.dir, 'logs', 'slurm-corpus-a-1.out')));
});

test('slurm options: one-line schema errors for a bad time or extra option', () => {
  assert.throws(() => SlurmOptionsSchema.parse({ time: 'soon' }), /expected a Slurm time/);
  assert.throws(() => SlurmOptionsSchema.parse({ extra: ['account=x'] }), /expected an sbatch option/);
});

test('difftts experiment: a bad --executor/--slurm-* flag, or --no-wait without slurm, is one line naming the flag, exit 2, nothing written', () => {
  const dir = tempDir('difftts-slurm-flags-');
  writeFileSync(join(dir, 'exp.json'), JSON.stringify({ corpus: 'c', corruption: { mode: 'noise' }, train: { recipe: 'r.json' } }));
  writeFileSync(join(dir, 'r.json'), '{}'); // a valid training recipe: every run recipe is checked first
  const cases: [string[], RegExp][] = [
    [['--executor', 'pbs'], /^difftts: --executor: expected one of "local", "slurm", got "pbs"$/],
    [
      ['--executor', 'slurm', '--slurm-time', 'soon'],
      /^difftts: --slurm-time: expected a Slurm time such as 30, 4:00:00 or 2-00:00:00, got "soon"$/,
    ],
    [['--executor', 'slurm', '--slurm-cpus', '0'], /^difftts: --slurm-cpus: .*, got 0$/],
    [
      ['--executor', 'slurm', '--slurm-extra', 'account=tts'],
      /^difftts: --slurm-extra: 0: expected an sbatch option starting with "-", got "account=tts"$/,
    ],
    [['--no-wait'], /^difftts: --no-wait: only with --executor slurm/],
  ];
  for (const [flags, message] of cases) {
    const r = spawnSync(process.execPath, [cliPath, 'experiment', '--recipe', join(dir, 'exp.json'), '--out', join(dir, 'out'), ...flags], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(join(dir, 'out')), false);
  }
});
