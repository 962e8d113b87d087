/**
 * Runs a corruption experiment end to end by driving the difftts CLI as child processes — one
 * process per training run, so a crash or a memory-hungry run cannot take the others down, and
 * `jobs` runs can use the machine's cores in parallel (by default the cores ÷ each run's worker threads).
 * Every finished step leaves a marker; running the same command again skips what is done and
 * resumes an interrupted training run from its last checkpoint.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readJsonFile } from '../util/schema.js';
import type { ExperimentRecipe } from './recipe.js';
import { deepMerge, makePlan, type Plan, type RunJob } from './plan.js';
import { cores, jobsFor } from '../parallel/workers.js';

/** bin/difftts.js, from dist/src/experiment/runner.js or src/experiment/runner.ts. */
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'difftts.js');

export interface RunnerOptions {
  out: string;
  /** Passed to every child as --backend. */
  backend?: string;
  /** Start even if OUT holds a different experiment. */
  force?: boolean;
  /** Show a progress bar (off in tests). */
  progress?: boolean;
  /** Extra environment for the children. */
  env?: NodeJS.ProcessEnv;
}

/** Runs `difftts ARGS`, appending its output to `log`; rejects with the log's last lines on failure. */
function cli(args: string[], log: string, opts: RunnerOptions): Promise<void> {
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, 'a');
  const full = [CLI, ...(opts.backend ? ['--backend', opts.backend] : []), ...args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, full, { stdio: ['ignore', fd, fd], env: { ...process.env, ...opts.env } });
    child.on('error', (err) => {
      closeSync(fd);
      reject(err);
    });
    child.on('close', (code, signal) => {
      closeSync(fd);
      if (code === 0) return resolvePromise();
      const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
      reject(new UserError(`difftts ${args[0]}${args[1] && !args[1].startsWith('-') ? ' ' + args[1] : ''} failed (${signal ?? 'exit ' + code}); see ${log}: ${tail}`));
    });
  });
}

/** Runs `fn` over `items` with at most `n` in flight; the first failure is rethrown after the others settle. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (next < items.length && failure === null) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (failure !== null) throw failure;
}

function guardOutDir(recipe: ExperimentRecipe, out: string, force: boolean): void {
  const path = join(out, 'experiment.json');
  // `jobs` only changes how fast the work goes, not what it computes.
  const identity = (r: unknown) => JSON.stringify({ ...(r as object), jobs: undefined });
  if (existsSync(path) && !force) {
    if (identity(readJsonFile(path)) !== identity(recipe)) {
      throw new UserError(`${out}: holds a different experiment (experiment.json differs); use another --out or --force`);
    }
  }
  writeFileAtomic(path, JSON.stringify(recipe, null, 2) + '\n');
}

/** The training recipe of one run: the base recipe with the experiment's overrides, loss and seed. */
function runRecipe(recipe: ExperimentRecipe, run: RunJob): unknown {
  const base = readJsonFile(recipe.train.recipe);
  const merged = deepMerge(deepMerge(base, recipe.train.overrides), { loss: run.loss.loss }) as Record<string, unknown>;
  const train = (merged.train ?? {}) as Record<string, unknown>;
  return { ...merged, train: { ...train, seed: run.seed } };
}

/** `jobs`, or where the recipe leaves it out the cores ÷ the worker threads one training run uses (src/parallel). */
export function jobsOf(recipe: ExperimentRecipe, plan: Plan): number {
  if (recipe.jobs !== undefined) return recipe.jobs;
  const w = plan.runs.length ? ((runRecipe(recipe, plan.runs[0]!) as { train?: { workers?: unknown } }).train?.workers ?? 'auto') : 'auto';
  return jobsFor(typeof w === 'number' ? w : cores());
}

export async function runExperiment(recipe: ExperimentRecipe, opts: RunnerOptions): Promise<Plan> {
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  guardOutDir(recipe, out, opts.force ?? false);
  const plan = makePlan(recipe, out);
  const logs = join(out, 'logs');
  const total = plan.corpora.length + plan.runs.length * 2 + plan.runs.length;
  const bar = opts.progress
    ? new cliProgress.SingleBar({ format: 'experiment |{bar}| {value}/{total} steps | {stage}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(total, 0, { stage: 'corpora' });
  const tick = (stage: string) => bar?.increment(1, { stage });

  try {
    // 1. Corpora and their feature caches, sequentially (they share the clean corpus).
    for (const c of plan.corpora) {
      if (c.corrupt && !existsSync(join(c.dir, 'corruption.json'))) {
        const optArgs = Object.entries(recipe.corruption.options).flatMap(([k, v]) => [`--${k}`, String(v)]);
        await cli(['data', 'corrupt', recipe.corpus, '--out', c.dir, '--mode', recipe.corruption.mode, '--fraction', String(c.fraction), '--seed', String(c.seed), ...optArgs], join(logs, `corrupt-${c.key}.log`), opts);
      }
      await cli(['data', 'prepare', c.dir, '--out', c.features], join(logs, `prepare-${c.key}.log`), opts);
      tick(`prepared ${c.key}`);
    }

    // 2. Training runs, `jobs` at a time.
    const jobs = jobsOf(recipe, plan);
    await pool(plan.runs, jobs, async (run) => {
      const done = join(run.runDir, 'DONE');
      if (!existsSync(done)) {
        writeFileAtomic(run.recipePath, JSON.stringify(runRecipe(recipe, run), null, 2) + '\n');
        const resume = existsSync(join(run.runDir, 'checkpoints')) ? ['--resume'] : [];
        await cli(['train', '--recipe', run.recipePath, '--data', run.corpus.features, '--out', run.runDir, ...resume], join(logs, `train-${run.key.replace('/', '-')}.log`), opts);
        writeFileSync(done, new Date().toISOString() + '\n');
      }
      tick(`trained ${run.key}`);
    });

    // 3. Evaluation against the clean references, and one sample sentence per run.
    await pool(plan.runs, jobs, async (run) => {
      const evalJson = join(run.evalDir, 'eval.json');
      if (!existsSync(evalJson)) {
        const max = recipe.evaluate.maxUtterances > 0 ? ['--max', String(recipe.evaluate.maxUtterances)] : [];
        await cli(['evaluate', '--checkpoint', run.runDir, '--refs', recipe.corpus, '--features', plan.cleanFeatures, '--split', recipe.evaluate.split, '--steps', String(recipe.evaluate.steps), '--seed', String(recipe.evaluate.seed), '--out', run.evalDir, ...max], join(logs, `eval-${run.key.replace('/', '-')}.log`), opts);
      }
      tick(`evaluated ${run.key}`);
      const name = run.key.replace('/', '-');
      const wav = join(out, 'samples', `${name}.wav`);
      if (!existsSync(wav)) {
        await cli(['synthesize', '--checkpoint', run.runDir, '--text', recipe.sampleText, '--out', wav, '--png', join(out, 'samples', `${name}.png`), '--steps', String(recipe.evaluate.steps), '--seed', String(recipe.evaluate.seed)], join(logs, `sample-${name}.log`), opts);
      }
      tick(`sampled ${run.key}`);
    });
  } finally {
    bar?.stop();
  }
  return plan;
}
