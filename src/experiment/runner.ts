/**
 * Runs a corruption experiment end to end by driving the difftts CLI as child processes — one
 * process per training run, so a crash or a memory-hungry run cannot take the others down, and
 * `jobs` runs can use the machine's cores in parallel (by default the cores ÷ each run's workers).
 * Every finished step leaves a marker; running the same command again skips what is done and
 * resumes an interrupted training run from its last checkpoint. The work is cut into cells (a corpus,
 * a run) that an executor starts: here, `jobs` at a time, or as Slurm jobs (./executor/).
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { UserError, writeFailure } from '../errors.js';
import { ensureDir, naming, writeFileAtomic } from '../util/atomic.js';
import { parseWith } from '../util/schema.js';
import { readJsonFile } from '../util/json-file.js';
import { packageRoot } from '../util/package-root.js';
import { checkRunRecipes, ExperimentRecipeSchema, runRecipeJson, type ExperimentRecipe } from './recipe.js';
import { makePlan, type CorpusJob, type Plan, type RunJob } from './plan.js';
import { commandLineClient, localExecutor, slurmExecutor, type Cell } from './executor/index.js';
import { cores, jobsFor } from '../parallel/workers.js';

/** The difftts command line every cell runs: this package's bin/difftts.js. */
const cliPath = () => join(packageRoot(), 'bin', 'difftts.js');

export interface RunnerOptions {
  out: string;
  /** Passed to every child as --backend. */
  backend?: string;
  /** Start even if OUT holds a different experiment. */
  force?: boolean;
  /** Show a progress bar (off in tests). */
  progress?: boolean;
  /** Extra environment for the children (and the Slurm jobs). */
  env?: NodeJS.ProcessEnv;
  /** Slurm executor: false = submit the cells and return without waiting for them. */
  wait?: boolean;
}

/**
 * Runs `difftts ARGS`, appending its output to `log`; rejects with the child's last lines on failure
 * (kept in memory too, so a full disk that swallowed the log still shows why). A child that could
 * not write its outputs (exit 1) makes the experiment exit 1 as well.
 */
function cli(args: string[], log: string, opts: RunnerOptions): Promise<void> {
  ensureDir(dirname(log));
  const fd = naming(log, () => openSync(log, 'a'));
  const full = [cliPath(), ...(opts.backend ? ['--backend', opts.backend] : []), ...args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, full, { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, ...opts.env } });
    let tail = '';
    let logFailure: unknown = null;
    child.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d.toString('utf8')).slice(-4000);
      try {
        if (logFailure === null) writeSync(fd, d);
      } catch (err) {
        logFailure = writeFailure(err, log) ?? err;
      }
    });
    child.on('error', (err) => {
      closeSync(fd);
      reject(err);
    });
    child.on('close', (code, signal) => {
      closeSync(fd);
      if (code === 0) return logFailure === null ? resolvePromise() : reject(logFailure);
      const last = tail.trim().split('\n').slice(-3).join(' | ');
      reject(
        new UserError(
          `difftts ${args[0]}${args[1] && !args[1].startsWith('-') ? ' ' + args[1] : ''} failed (${signal ?? 'exit ' + code}); see ${log}: ${last}`,
          code === 1 ? 1 : 2,
        ),
      );
    });
  });
}

function guardOutDir(recipe: ExperimentRecipe, out: string, force: boolean): void {
  const path = join(out, 'experiment.json');
  // `jobs` and the executor only change how and how fast the work goes, not what it computes.
  const identity = (r: unknown) => JSON.stringify({ ...(r as object), jobs: undefined, executor: undefined, slurm: undefined });
  if (existsSync(path) && !force) {
    if (identity(readJsonFile(path)) !== identity(recipe)) {
      throw new UserError(`${out}: holds a different experiment (experiment.json differs); use another --out or --force`);
    }
  }
  writeFileAtomic(path, JSON.stringify(recipe, null, 2) + '\n');
}

const corpusCellId = (c: CorpusJob) => `corpus-${c.key}`;
const runCellId = (run: RunJob) => `run-${run.key.replace('/', '-')}`;

/** The experiment's cells: one per corpus (corrupt → prepare), one per run (train → evaluate → sample). */
export function experimentCells(plan: Plan): Cell[] {
  const clean = plan.corpora.find((c) => !c.corrupt)!;
  return [
    ...plan.corpora.map((c) => ({
      id: corpusCellId(c),
      deps: [],
      done: () => (!c.corrupt || existsSync(join(c.dir, 'corruption.json'))) && existsSync(join(c.features, 'manifest.json')),
    })),
    ...plan.runs.map((run) => ({
      id: runCellId(run),
      // Evaluation needs the clean corpus's features whatever the run trained on.
      deps: [...new Set([corpusCellId(clean), corpusCellId(run.corpus)])],
      done: () => existsSync(join(run.runDir, 'DONE')) && existsSync(join(run.evalDir, 'eval.json')) && existsSync(samplePath(plan, run)),
    })),
  ];
}

function samplePath(plan: Plan, run: RunJob): string {
  return join(plan.out, 'samples', `${run.key.replace('/', '-')}.wav`);
}

/** Does the work of one cell (see experimentCells), skipping the steps whose outputs exist. */
export async function runCell(recipe: ExperimentRecipe, plan: Plan, cellId: string, opts: RunnerOptions): Promise<void> {
  const logs = join(plan.out, 'logs');
  const c = plan.corpora.find((x) => corpusCellId(x) === cellId);
  if (c) {
    if (c.corrupt && !existsSync(join(c.dir, 'corruption.json'))) {
      const optArgs = Object.entries(recipe.corruption.options).flatMap(([k, v]) => [`--${k}`, String(v)]);
      await cli(
        [
          'data',
          'corrupt',
          recipe.corpus,
          '--out',
          c.dir,
          '--mode',
          recipe.corruption.mode,
          '--fraction',
          String(c.fraction),
          '--seed',
          String(c.seed),
          ...optArgs,
        ],
        join(logs, `corrupt-${c.key}.log`),
        opts,
      );
    }
    await cli(['data', 'prepare', c.dir, '--out', c.features], join(logs, `prepare-${c.key}.log`), opts);
    return;
  }
  const run = plan.runs.find((x) => runCellId(x) === cellId);
  if (!run) throw new UserError(`${plan.out}: no cell '${cellId}' in this experiment`);
  const done = join(run.runDir, 'DONE');
  if (!existsSync(done)) {
    writeFileAtomic(run.recipePath, JSON.stringify(runRecipeJson(recipe, run.loss, run.seed), null, 2) + '\n');
    const resume = existsSync(join(run.runDir, 'checkpoints')) ? ['--resume'] : [];
    // fine-tuning: start from the base checkpoint (a resumed run continues from its own)
    const init = recipe.init !== undefined && resume.length === 0 ? ['--init', recipe.init] : [];
    await cli(
      ['train', '--recipe', run.recipePath, '--data', run.corpus.features, '--out', run.runDir, ...resume, ...init],
      join(logs, `train-${run.key.replace('/', '-')}.log`),
      opts,
    );
    writeFileAtomic(done, new Date().toISOString() + '\n');
  }

  // Evaluation against the clean references, and one sample sentence per run.
  const evalJson = join(run.evalDir, 'eval.json');
  if (!existsSync(evalJson)) {
    const e = recipe.evaluate;
    const extra = [
      ...(e.maxUtterances > 0 ? ['--max', String(e.maxUtterances)] : []),
      ...(e.unseen !== undefined ? ['--unseen', e.unseen] : []),
      '--speaker-refs',
      String(e.speakerRefs),
      ...(e.wer ? ['--wer'] : []),
      ...speakerArgs(recipe),
    ];
    await cli(
      [
        'evaluate',
        '--checkpoint',
        run.runDir,
        '--refs',
        recipe.corpus,
        '--features',
        plan.cleanFeatures,
        '--split',
        e.split,
        '--steps',
        String(e.steps),
        '--seed',
        String(e.seed),
        '--out',
        run.evalDir,
        ...extra,
      ],
      join(logs, `eval-${run.key.replace('/', '-')}.log`),
      opts,
    );
  }
  const name = run.key.replace('/', '-');
  const wav = samplePath(plan, run);
  if (!existsSync(wav)) {
    await cli(
      [
        'synthesize',
        '--checkpoint',
        run.runDir,
        '--text',
        recipe.sampleText,
        '--out',
        wav,
        '--png',
        join(plan.out, 'samples', `${name}.png`),
        '--steps',
        String(recipe.evaluate.steps),
        '--seed',
        String(recipe.evaluate.seed),
        ...speakerArgs(recipe),
      ],
      join(logs, `sample-${name}.log`),
      opts,
    );
  }
}

/** `--speaker NAME` for the evaluations and samples of a multi-speaker experiment (recipe evaluate.speaker), else nothing. */
export function speakerArgs(recipe: Pick<ExperimentRecipe, 'evaluate'>): string[] {
  return recipe.evaluate.speaker !== undefined ? ['--speaker', recipe.evaluate.speaker] : [];
}

/** Does one cell's work in the experiment directory `out`, as recorded in its experiment.json (what a Slurm job runs). */
export async function runCellOf(out: string, cellId: string, opts: Omit<RunnerOptions, 'out'>): Promise<void> {
  const dir = resolve(out);
  const path = join(dir, 'experiment.json');
  const recipe = parseWith(ExperimentRecipeSchema, readJsonFile(path, 'the experiment.json of a difftts experiment'), path);
  checkRunRecipes(recipe, path);
  await runCell(recipe, makePlan(recipe, dir), cellId, { ...opts, out: dir });
}

/** `jobs`, or where the recipe leaves it out the cores ÷ the workers one training run uses (src/parallel). */
export function jobsOf(recipe: ExperimentRecipe, plan: Plan): number {
  if (recipe.jobs !== undefined) return recipe.jobs;
  const w = plan.runs.length ? checkRunRecipes(recipe, 'the experiment').train.workers : 'auto';
  return jobsFor(typeof w === 'number' ? w : cores());
}

/**
 * Runs (or resumes) every cell not done yet with the recipe's executor. Returns the plan when every
 * cell is done, null when they were handed to Slurm without waiting (`wait: false`).
 */
export async function runExperiment(recipe: ExperimentRecipe, opts: RunnerOptions): Promise<Plan | null> {
  const out = resolve(opts.out);
  if (recipe.init !== undefined && !existsSync(recipe.init))
    throw new UserError(
      `${recipe.init}: init checkpoint not found (the recipe's "init" names the pretrained base run or checkpoint directory)`,
    );
  ensureDir(out);
  guardOutDir(recipe, out, opts.force ?? false);
  const plan = makePlan(recipe, out);
  const cells = experimentCells(plan);
  const executor =
    recipe.executor === 'slurm'
      ? slurmExecutor({
          dir: join(out, 'slurm'),
          logs: join(out, 'logs'),
          name: `difftts-${recipe.name}`,
          command: (cell) => [
            process.execPath,
            cliPath(),
            ...(opts.backend ? ['--backend', opts.backend] : []),
            'experiment-cell',
            '--out',
            out,
            '--cell',
            cell.id,
          ],
          options: recipe.slurm,
          wait: opts.wait ?? true,
          client: commandLineClient({ ...process.env, ...opts.env }),
        })
      : localExecutor(jobsOf(recipe, plan), (cell) => runCell(recipe, plan, cell.id, opts));
  // The Slurm executor reports progress as lines (it waits for hours, often in a log file).
  const bar =
    opts.progress && recipe.executor === 'local'
      ? new cliProgress.SingleBar(
          { format: 'experiment |{bar}| {value}/{total} cells | {stage}', hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(cells.length, 0, { stage: 'starting' });
  try {
    const finished = await executor.run(cells, (p) => bar?.update(p.done, { stage: p.note }));
    return finished ? plan : null;
  } finally {
    bar?.stop();
  }
}
