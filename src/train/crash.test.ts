/**
 * Crash safety of `difftts train` as a real child process: SIGKILL at seeded random moments
 * (some land inside checkpoint writes), resume each time, and compare with an uninterrupted run.
 * Uses the debug toy model (DIFFTTS_DEBUG_TOY=1), so each run takes about a second, trained by 2
 * workers (src/parallel: this process and a worker thread), so a kill also lands while workers compute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../testing/paths.js';
import { Rng } from '../util/rng.js';
import { listCheckpoints, readCheckpoint } from './checkpoint.js';
import { readMetrics } from './metrics.js';

const dir = mkdtempSync(join(tmpdir(), 'difftts-crash-'));
const recipe = join(dir, 'crash.json');
const STEPS = 2000;
const EVERY = 25;
writeFileSync(
  recipe,
  JSON.stringify({
    model: { base: 'toy', dim: 512, items: 128 },
    loss: { type: 'l2' },
    train: {
      steps: STEPS,
      batchSize: 8,
      lr: 0.01,
      checkpointEvery: EVERY,
      keepCheckpoints: 2,
      logEvery: 1,
      pngEvery: 0,
      seed: 3,
      workers: 2,
    },
  }),
);

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function lastLoggedStep(run: string): number {
  return readMetrics(join(run, 'metrics.jsonl')).pop()?.step ?? 0;
}

/**
 * Runs `difftts train`. With `killAtStep`, the metrics file is polled and the child gets SIGKILL as
 * soon as that step is logged — for a checkpoint step that is while its checkpoint is being written.
 * `signal` sends that signal instead.
 */
function train(out: string, resume: boolean, killAtStep?: number, signal: NodeJS.Signals = 'SIGKILL', extra: string[] = []): Promise<Exit> {
  const args = [cliPath, '--backend', 'cpu', 'train', '--recipe', recipe, '--out', out, ...(resume ? ['--resume'] : []), ...extra];
  const child = spawn(process.execPath, args, { env: { ...process.env, DIFFTTS_DEBUG_TOY: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const poll =
    killAtStep === undefined
      ? null
      : setInterval(() => {
          if (lastLoggedStep(out) >= killAtStep) {
            child.kill(signal);
            clearInterval(poll!);
          }
        }, 5);
  return new Promise((resolve) => {
    child.on('exit', (code, sig) => {
      if (poll) clearInterval(poll);
      resolve({ code, signal: sig, stderr });
    });
  });
}

const metricsLines = (run: string) => readMetrics(join(run, 'metrics.jsonl')).map(({ sPerStep: _t, ...m }) => JSON.stringify(m));

test('crash safety: SIGKILL at random moments, resume, and the result equals an uninterrupted run', async (t) => {
  const ref = join(dir, 'ref');
  const r0 = await train(ref, false);
  assert.equal(r0.code, 0, r0.stderr);

  const run = join(dir, 'killed');
  const rng = new Rng(2024);
  let kills = 0;
  let midWrite = 0; // kills that left a half-written checkpoint directory behind
  for (let attempt = 0; attempt < 6; attempt++) {
    let target = lastLoggedStep(run) + 20 + Math.floor(rng.uniform() * 250);
    if (attempt % 2 === 1) target = Math.ceil(target / EVERY) * EVERY; // aim at a checkpoint write
    const ex = await train(run, attempt > 0, Math.min(target, STEPS - 10));
    if (ex.signal !== 'SIGKILL') {
      assert.equal(ex.code, 0, ex.stderr);
      break; // finished before the kill
    }
    kills++;
    const root = join(run, 'checkpoints');
    if (existsSync(root) && readdirSync(root).some((n) => n.startsWith('.'))) midWrite++;
    const ckpts = listCheckpoints(run);
    const logged = readMetrics(join(run, 'metrics.jsonl')).pop()?.step ?? 0;
    // (a) the newest checkpoint on disk always loads
    const newest = ckpts.length ? readCheckpoint(ckpts[ckpts.length - 1]!.dir).meta.step : 0;
    // (b) at most one checkpoint interval of steps is lost
    assert.ok(logged - newest <= EVERY, `kill ${kills}: logged step ${logged}, newest checkpoint ${newest}`);
  }
  assert.ok(kills >= 5, `only ${kills} kills landed`);
  t.diagnostic(`${kills} kills, ${midWrite} inside a checkpoint write or rotation`);
  const fin = await train(run, true);
  assert.equal(fin.code, 0, fin.stderr);

  // (c) metrics.jsonl: whole lines only, each step exactly once, in order
  const text = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
  assert.ok(text.endsWith('\n'));
  const lines = text.trimEnd().split('\n');
  assert.deepEqual(
    lines.map((l) => JSON.parse(l).step),
    Array.from({ length: STEPS }, (_, i) => i + 1),
  );
  assert.deepEqual(metricsLines(run), metricsLines(ref));
  // (d) final weights (and optimizer state) equal the uninterrupted run's
  const name = `step-${String(STEPS).padStart(6, '0')}`;
  assert.deepEqual(
    readFileSync(join(run, 'checkpoints', name, 'weights.bin')),
    readFileSync(join(ref, 'checkpoints', name, 'weights.bin')),
  );
  assert.deepEqual(
    readFileSync(join(run, 'checkpoints', name, 'optimizer.bin')),
    readFileSync(join(ref, 'checkpoints', name, 'optimizer.bin')),
  );
});

test('crash safety: SIGINT stops cleanly with a checkpoint at the step reached (exit 130)', async () => {
  const run = join(dir, 'sigint');
  const metrics = join(run, 'metrics.jsonl');
  const ex = await train(run, false, 40, 'SIGINT');
  assert.equal(ex.code, 130, ex.stderr);
  assert.match(ex.stderr, /interrupted: finishing this step and writing a checkpoint/);
  const last = readMetrics(metrics).pop()!.step;
  assert.ok(last < STEPS);
  const ckpts = listCheckpoints(run);
  assert.equal(ckpts[ckpts.length - 1]!.step, last);
  assert.equal(readCheckpoint(ckpts[ckpts.length - 1]!.dir).meta.step, last);
  assert.ok(!existsSync(join(run, 'train.lock')), 'Ctrl-C releases the run directory');
});

test('one trainer per run directory: a second train --resume stops in one line naming the holder; the first is unharmed', async () => {
  const run = join(dir, 'twice');
  // --steps 1000000: the first trainer must outlive the attempts below (the toy run of STEPS can end in seconds)
  const first = spawn(process.execPath, [cliPath, '--backend', 'cpu', 'train', '--recipe', recipe, '--out', run, '--steps', '1000000'], {
    env: { ...process.env, DIFFTTS_DEBUG_TOY: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let firstErr = '';
  first.stderr.on('data', (d) => (firstErr += d));
  const firstExit = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
  while (lastLoggedStep(run) < 30) await new Promise((r) => setTimeout(r, 5));
  const lock = JSON.parse(readFileSync(join(run, 'train.lock'), 'utf8'));
  assert.equal(lock.pid, first.pid);
  for (const resume of [true, false]) {
    const second = await train(run, resume, undefined, 'SIGKILL', ['--steps', '1000000']);
    assert.equal(second.code, 1, second.stderr);
    const lines = second.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.includes('using backend'));
    assert.equal(lines.length, 1, second.stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^difftts: ${run}: in use by another trainer \\(pid ${first.pid} on \\S+, since ${lock.since.replace(/[.]/g, '\\.')}: .*train`,
      ),
    );
  }
  first.kill('SIGINT');
  assert.equal(await firstExit, 130, firstErr);
  // the first run's metrics are its own alone: every step once, in order
  const steps = readMetrics(join(run, 'metrics.jsonl')).map((m) => m.step);
  assert.deepEqual(
    steps,
    Array.from({ length: steps.length }, (_, i) => i + 1),
  );
  assert.ok(!existsSync(join(run, 'train.lock')));
  // released: now a resume may run (and it finishes the run)
  const third = await train(run, true, undefined, 'SIGKILL', ['--steps', String(lastLoggedStep(run) + 5)]);
  assert.equal(third.code, 0, third.stderr);
  assert.doesNotMatch(third.stderr, /taking over/);
});
