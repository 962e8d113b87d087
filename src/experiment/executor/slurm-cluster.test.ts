import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { cliPath } from '../../testing/paths.js';
import { slurmClusterUnavailable, startSlurmCluster } from '../../testing/slurm-cluster.js';
import { TOY_LOSSES, writeToyExperiment } from '../../testing/toy-experiment.js';

const unavailable = slurmClusterUnavailable();

/** `difftts ARGS` with `env`, asynchronously (the test keeps polling Slurm meanwhile). */
function difftts(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, '--backend', 'wasm', ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * The toy experiment (1 loss × fractions 0, 0.5) once with the local executor and once through a
 * real single-node Slurm cluster: --no-wait submits and exits, one job is cancelled behind the
 * driver's back, the re-run resubmits it and collects. Both must write the same report.md.
 */
test('experiment --executor slurm: --no-wait, a cancelled cell resubmitted, then the same report.md as --executor local', {
  skip: unavailable ?? false,
  timeout: 600_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-exp-slurm-'));
  const cluster = await startSlurmCluster(2);
  try {
    const recipe = writeToyExperiment(dir, { losses: TOY_LOSSES.slice(0, 1), slurm: { poll: 0.5 } });
    const env = { ...process.env, ...cluster.env };
    const local = join(dir, 'local');
    const slurm = join(dir, 'slurm');
    const exp = (out: string, ...flags: string[]) => difftts(['experiment', '--recipe', recipe, '--out', out, ...flags], env);

    const localRun = exp(local);
    const submitted = await exp(slurm, '--executor', 'slurm', '--no-wait');
    assert.equal(submitted.status, 0, submitted.stderr);
    assert.match(submitted.stdout, /submitted; run the same command again/);
    assert.equal(existsSync(join(slurm, 'report.md')), false, 'no report before the cells are done');
    const jobs = JSON.parse(readFileSync(join(slurm, 'slurm', 'jobs.json'), 'utf8')) as Record<string, string[]>;
    assert.deepEqual(Object.keys(jobs).sort(), ['corpus-clean', 'corpus-noise-f0.5-s0', 'run-l2-f0-s0', 'run-l2-f0.5-s0']);

    // A lost job (as if preempted), cancelled while it still waits for the corrupted corpus.
    const lost = jobs['run-l2-f0.5-s0']![0]!;
    assert.equal(spawnSync('scancel', [lost], { env }).status, 0);
    const l = await localRun;
    assert.equal(l.status, 0, l.stderr);

    const collected = await exp(slurm, '--executor', 'slurm');
    assert.equal(collected.status, 0, collected.stderr);
    assert.match(collected.stdout, /report: /);
    // cancelled while it waited: said so, with no log path (it never ran, Slurm wrote none)
    assert.match(
      collected.stderr,
      new RegExp(
        `run-l2-f0\\.5-s0: job ${lost} was cancelled while pending( \\(pending reason: [^)]+\\))?; it never ran, so it has no log\n`,
      ),
    );
    const after = JSON.parse(readFileSync(join(slurm, 'slurm', 'jobs.json'), 'utf8')) as Record<string, string[]>;
    assert.equal(after['run-l2-f0.5-s0']!.length, 2, 'the cancelled cell was resubmitted once');
    assert.equal(after['run-l2-f0-s0']!.length, 1, 'the others ran once');
    // The work really ran as Slurm jobs: a start marker and a job log per job that ran.
    const ran = readdirSync(join(slurm, 'slurm', 'started'));
    assert.deepEqual(
      ran.sort(),
      Object.values(after)
        .flat()
        .filter((j) => j !== lost)
        .sort(),
    );
    assert.ok(existsSync(join(slurm, 'logs', `slurm-run-l2-f0-s0-${after['run-l2-f0-s0']![0]}.out`)));

    // Same recipe and seeds, same numbers: eval.json aggregates and the whole report.
    for (const f of ['0', '0.5']) {
      const agg = (out: string) => JSON.parse(readFileSync(join(out, 'evals', 'l2', `f${f}-s0`, 'eval.json'), 'utf8')).aggregate;
      assert.deepEqual(agg(slurm), agg(local), `eval.json of l2/f${f}-s0`);
    }
    const report = readFileSync(join(slurm, 'report.md'), 'utf8');
    assert.match(report, /## mcd: .*\n\n\| loss \| f = 0\.5 \|\n\|---\|---\|\n\| l2 \| -?\d+\.\d+ \|/);
    assert.equal(report, readFileSync(join(local, 'report.md'), 'utf8'));
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
