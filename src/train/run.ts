/**
 * `difftts train`: a run directory around the training loop.
 *
 *   RUN_DIR/recipe.json      the resolved recipe (a different one refuses to start without --force;
 *                            more steps are not a different recipe); `--resume` without --recipe uses it
 *   RUN_DIR/run.json         backend + why, versions, git commit, start time, command line
 *   RUN_DIR/metrics.jsonl    one line per logged step
 *   RUN_DIR/checkpoints/     step-NNNNNN/ every train.checkpointEvery steps, the last K kept
 *   RUN_DIR/samples/         step-NNNNNN.png every train.pngEvery steps
 *   RUN_DIR/train.lock       while a trainer runs: its pid, host and start (src/util/lock.ts)
 *
 * Resume restores weights, Adam state, data order, model RNG and loop counters from the newest
 * loadable checkpoint and cuts metrics.jsonl back to its step, so the result equals an
 * uninterrupted run bit for bit.
 *
 * `trainLocked` reads top-down: openRun (recipe, directory checks, the checkpoint to resume, nothing
 * written) → the task, trainer and workers → restore (resume or --init) → trainLoop (step, then the
 * hooks of hooks.ts: metrics, progress, checkpoints, samples; then Ctrl-C and the time budget).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { capabilities, type BackendChoice } from '../backend/index.js';
import { WorkerFailed } from '../parallel/peer.js';
import { TrainPool } from '../parallel/train-pool.js';
import { resolveTrainWorkers } from '../parallel/workers.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { packageRoot } from '../util/package-root.js';
import { acquireDirLock } from '../util/lock.js';
import { Rng } from '../util/rng.js';
import {
  assignMatchingWeights,
  assignWeights,
  checkpointName,
  cleanCheckpointLeftovers,
  listCheckpoints,
  newestLoadable,
  openCheckpoint,
  type LoadedCheckpoint,
} from './checkpoint.js';
import { Trainer, TrainingStopped, type StepResult } from './loop.js';
import {
  checkpointHook,
  interruptHandler,
  metricsHook,
  progressHook,
  samplesHook,
  timeBudget,
  type RunState,
  type StepHook,
  type TimeBudget,
} from './hooks.js';
import { learningRateAt, type LrSchedule } from './schedule.js';
import type { Task } from './task.js';
import { truncateMetrics } from './metrics.js';
import { overriddenWhere, overridePatch, type Override } from './overrides.js';
import { mergeRecipe, migrateRecipe, parseRecipe, type Recipe } from './recipe.js';
import { readJsonFile } from '../util/json-file.js';
import { buildTask } from './task.js';
import { baseSpeakers, withAddedSpeakers } from './speakers.js';
import { DataOrder, splitBatch } from '../trainable/trainable.js';
import { MODEL_PART_PREFIX, type ModelPart } from '../model/configs.js';

export { splitBatch };

export interface TrainRunOptions {
  /** The recipe file; absent with `resume`: the run directory's own recipe.json. */
  recipePath?: string;
  overrides?: Override[];
  /** Feature cache or corpus; wins over recipe data.path. */
  dataPath?: string;
  outDir: string;
  /** Total steps (overrides train.steps). */
  steps?: number;
  resume?: boolean;
  force?: boolean;
  skipBad?: boolean;
  /**
   * Start from this checkpoint's weights (a run or checkpoint directory; its moving average when
   * it has one) with a fresh optimizer: fine-tuning. Ignored when resuming from the run's own checkpoint.
   */
  init?: string;
  /** Stop (with a checkpoint) after this many seconds of training; the run can be resumed. */
  maxSeconds?: number;
  backend?: BackendChoice | null;
  /** The command line, recorded in run.json. */
  argv?: string[];
  /** Show the progress bar on stderr (default: when stderr is a TTY). */
  progress?: boolean;
  log?: (msg: string) => void;
}

export interface TrainRunResult {
  runDir: string;
  step: number;
  totalSteps: number;
  /** Why the loop ended; 'past' = a resumed run was already beyond totalSteps (nothing trained, nothing written). */
  stoppedBy: 'steps' | 'time' | 'signal' | 'past';
  /** The checkpoint holding the final weights. */
  checkpoint: string;
}

/**
 * The run's recipe: the recipe file (or, without one, the run directory's own recipe.json, so that
 * `--out RUN --resume` alone continues a run), with the command line merged in: `--a.b value`
 * overrides, then --data, --steps and --skip-bad. Validated once, loss included.
 */
export function resolveRecipe(
  opts: Partial<Pick<TrainRunOptions, 'recipePath' | 'overrides' | 'dataPath' | 'steps' | 'skipBad' | 'outDir' | 'resume'>>,
): { recipe: Recipe; where: string } {
  const stored = join(opts.outDir ?? '', 'recipe.json');
  let file = opts.recipePath;
  if (file === undefined) {
    if (!opts.resume || opts.outDir === undefined || !existsSync(stored)) {
      throw new UserError(
        `--recipe: required (only --resume in a run directory that has a recipe.json can do without it${opts.resume && opts.outDir !== undefined ? `; ${stored} does not exist` : ''})`,
      );
    }
    file = stored;
  }
  const raw = readJsonFile(file, 'a JSON recipe, e.g. recipes/tiny.json');
  const overrides = opts.overrides ?? [];
  const cli: Record<string, unknown> = {
    data: { path: opts.dataPath, skipBad: opts.skipBad ? true : undefined },
    train: { steps: opts.steps },
  };
  const where = overriddenWhere(file, overrides);
  return { recipe: parseRecipe(mergeRecipe(mergeRecipe(raw, overridePatch(overrides)), cli), where), where };
}

/** JSON with object keys sorted, so that key order never makes two recipes differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Whether a stored recipe.json is the same recipe. The stored one is re-read through today's
 * schema first, so a field added later (with its default) does not block resuming an older run.
 * The step count may grow between invocations (train longer with --steps), and the worker count
 * may change; nothing else.
 */
function sameRecipe(stored: unknown, current: Recipe, where: string): boolean {
  // A recipe from before the SDE moved to the model: one line when it cannot be read as today's.
  migrateRecipe(stored, where);
  let old: any = stored;
  try {
    old = parseRecipe(stored, where);
  } catch {
    // not parsable today: compare as stored (and so differ)
  }
  if (old === null || typeof old !== 'object') return false;
  // The worker count changes only float rounding (src/parallel): resuming with another is allowed.
  const strip = (r: any) => canonical({ ...r, train: { ...r.train, steps: 0, workers: 0 } });
  return strip(old) === strip(current);
}

function runInfo(opts: TrainRunOptions, resumedFrom: number | null, workers: number): Record<string, unknown> {
  const root = packageRoot();
  let version: string | null = null;
  try {
    version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version ?? null;
  } catch {
    version = null;
  }
  // Only difftts's own checkout counts (an installed package may sit inside the user's repository).
  const git = spawnSync('git', ['rev-parse', '--show-toplevel', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const [top, commit] = git.status === 0 ? git.stdout.trim().split('\n') : [];
  return {
    backend: opts.backend
      ? {
          name: opts.backend.name,
          tfName: opts.backend.tfName,
          why: opts.backend.why,
          ...(opts.backend.adapter ? { adapter: opts.backend.adapter } : {}),
        }
      : { name: capabilities().tfName, why: 'set by the caller' },
    versions: { difftts: version, tfjs: tf.version.tfjs, node: process.versions.node },
    gitCommit: top && commit && resolve(top) === resolve(root) ? commit : null,
    startTime: new Date().toISOString(),
    commandLine: opts.argv ?? process.argv.slice(1),
    resumedFromStep: resumedFrom,
    workers,
  };
}

/** Checks the run directory against the requested start mode; returns whether to resume from a checkpoint. */
function prepareRunDir(runDir: string, stored: Recipe, opts: TrainRunOptions): void {
  const recipeFile = join(runDir, 'recipe.json');
  const hasCkpt = listCheckpoints(runDir).length > 0;
  if (existsSync(recipeFile)) {
    let old: unknown = null;
    try {
      old = JSON.parse(readFileSync(recipeFile, 'utf8'));
    } catch {
      old = null;
    }
    if (!opts.force && !sameRecipe(old, stored, recipeFile)) {
      throw new UserError(
        `${recipeFile}: this run directory was started with a different recipe (use another --out, or --force to ${hasCkpt && opts.resume ? 'resume with the new recipe' : 'start over'})`,
      );
    }
  }
  if (hasCkpt && !opts.resume) {
    if (!opts.force)
      throw new UserError(
        `${join(runDir, 'checkpoints')}: the run directory already has checkpoints (pass --resume to continue, or --force to start over)`,
      );
    for (const sub of ['checkpoints', 'samples', 'metrics.jsonl']) rmSync(join(runDir, sub), { recursive: true, force: true });
  }
}

/**
 * The checkpoint `--resume` continues from: the newest that loads (newer damaged ones are logged).
 * A run that has checkpoints of which none loads is refused with one line naming each and why, so
 * that resume never writes into a run it could not read; null when the run has no checkpoint yet.
 */
function checkpointToResume(runDir: string, log: (msg: string) => void): LoadedCheckpoint | null {
  const { ckpt, failures } = newestLoadable(runDir);
  if (!ckpt && failures.length > 0) {
    throw new UserError(
      `${runDir}: no checkpoint loads, so nothing was resumed or changed: ${failures.join('; ')} (to start over: another --out, or --force without --resume)`,
    );
  }
  for (const f of failures) log(`skipping damaged checkpoint: ${f}`);
  return ckpt;
}

/**
 * Puts an --init checkpoint's weights into the task's model: the configs must match, or with
 * `partial` (train.initPartial) the tensors that match are loaded and the rest named in one line.
 */
function initWeights(
  task: Task<unknown>,
  from: LoadedCheckpoint,
  partial: boolean,
  parts: readonly ModelPart[] | undefined,
  log: (msg: string) => void,
): void {
  const statePath = join(from.dir, 'state.json');
  if (from.meta.model?.kind !== task.meta.model.kind)
    throw new UserError(
      `${statePath}: --init checkpoint is a '${from.meta.model?.kind}' model, the recipe trains '${task.meta.model.kind}'`,
    );
  // a multi-speaker checkpoint with rows for the names the data adds (the task planned them: src/train/speakers.ts)
  const init = withAddedSpeakers(from, task.meta.speakers ?? [], log);
  if (!partial && !parts) {
    if (init.meta.nSymbols !== task.meta.nSymbols)
      throw new UserError(
        `${statePath}: --init checkpoint has ${init.meta.nSymbols} text symbols, the data gives ${task.meta.nSymbols} (use the same data.textMode/addBlank)`,
      );
    // assignWeights names the first tensor whose name or shape differs.
    assignWeights(task.trainable.variables, init, 'best');
    return;
  }
  const prefixes = parts?.map((p) => MODEL_PART_PREFIX[p]);
  const r = assignMatchingWeights(task.trainable.variables, init, 'best', (name) => !prefixes || prefixes.some((p) => name.startsWith(p)));
  if (r.loaded.length === 0)
    throw new UserError(`${join(init.dir, 'weights.json')}: --init with train.initPartial: no tensor matches the model's names and shapes`);
  const fresh = r.fresh.length
    ? `; ${r.fresh.length} freshly initialised: ${r.fresh
        .slice(0, 3)
        .map(([n, why]) => `${n} (${why})`)
        .join(', ')}${
        r.fresh.length > 3
          ? `, … (${r.fresh
              .map(([n]) => n.split('.')[0])
              .filter((p, i, a) => a.indexOf(p) === i)
              .join(', ')})`
          : ''
      }`
    : '';
  log(
    `partial --init from ${init.dir}: ${r.loaded.length} of ${task.trainable.variables.size} tensors loaded${fresh}${r.unused.length ? `; ${r.unused.length} checkpoint tensors unused` : ''}`,
  );
}

/** Trains (or resumes) a run; see the file comment for the directory layout. One trainer per run directory (RUN_DIR/train.lock). */
export async function runTraining(opts: TrainRunOptions): Promise<TrainRunResult> {
  const lock = acquireDirLock(opts.outDir, {
    what: 'another trainer',
    log: opts.log ?? ((m: string) => process.stderr.write(`difftts: ${m}\n`)),
  });
  try {
    return await trainLocked(opts);
  } finally {
    lock.release();
  }
}

/** A run directory opened for training: its recipe, and the checkpoint to resume from (read, nothing written yet). */
interface OpenedRun {
  runDir: string;
  recipe: Recipe;
  where: string;
  resumeFrom: LoadedCheckpoint | null;
}

/**
 * Resolves the recipe and checks the run directory against it and the start mode; with --resume
 * reads the checkpoint first, so a run that cannot be loaded is left exactly as it was.
 */
function openRun(opts: TrainRunOptions, log: (msg: string) => void): OpenedRun {
  const { recipe, where } = resolveRecipe(opts);
  const runDir = opts.outDir;
  const resumeFrom = opts.resume ? checkpointToResume(runDir, log) : null;
  prepareRunDir(runDir, recipe, opts);
  return { runDir, recipe, where, resumeFrom };
}

/**
 * Puts the run's checkpoint into the task, trainer and run state (weights, Adam, moving average,
 * data order, model RNG, loop counters) after checking it fits; or, starting fresh, the --init
 * checkpoint's weights (read before the task: its speakers shape the model). Returns the step resumed from (null when starting at 0) and the --init source.
 */
async function restore(
  run: OpenedRun,
  task: Task<unknown>,
  trainer: Trainer<unknown>,
  state: RunState,
  opts: TrainRunOptions,
  init: LoadedCheckpoint | null,
  log: (msg: string) => void,
): Promise<{ resumedFrom: number | null; initFrom: string | null }> {
  const ckpt = run.resumeFrom;
  if (ckpt) {
    const statePath = join(ckpt.dir, 'state.json');
    if (JSON.stringify(ckpt.meta.model) !== JSON.stringify(task.meta.model)) {
      throw new UserError(`${statePath}: the checkpoint is from another model config (${ckpt.meta.model.kind}) than the recipe's`);
    }
    if (JSON.stringify(ckpt.meta.speakers ?? []) !== JSON.stringify(task.meta.speakers ?? [])) {
      throw new UserError(
        `${statePath}: the checkpoint's speakers (${(ckpt.meta.speakers ?? []).join(', ') || 'one unnamed'}) are not the data's (${(task.meta.speakers ?? []).join(', ') || 'one unnamed'}; the training data changed: use another --out)`,
      );
    }
    if (ckpt.meta.nSymbols !== task.meta.nSymbols)
      throw new UserError(`${statePath}: nSymbols ${ckpt.meta.nSymbols}, the data gives ${task.meta.nSymbols}`);
    if (ckpt.meta.data.order.length !== task.nItems) {
      throw new UserError(
        `${statePath}: the checkpoint was trained on ${ckpt.meta.data.order.length} items, the data now has ${task.nItems} (the training data changed; use another --out)`,
      );
    }
    if (!ckpt.optimizer)
      throw new UserError(`${statePath}: a weights-only checkpoint cannot be resumed (start a new run from it with --init)`);
    assignWeights(task.trainable.variables, ckpt);
    await trainer.optimizer.restore(ckpt.optimizer);
    if (trainer.ema) trainer.ema.assign(ckpt.ema ?? ckpt.weights);
    state.order = DataOrder.fromState(task.nItems, run.recipe.train.batchSize, ckpt.meta.data);
    state.modelRng = Rng.fromState(ckpt.meta.modelRng);
    trainer.loop = structuredClone(ckpt.meta.loop);
    state.step = ckpt.meta.step;
    log(`resuming ${run.runDir} from ${ckpt.dir} (step ${state.step})`);
    return { resumedFrom: state.step, initFrom: null };
  }
  if (opts.resume) log(`no checkpoint in ${run.runDir} yet; starting from step 0`);
  if (!init) return { resumedFrom: null, initFrom: null };
  initWeights(task, init, run.recipe.train.initPartial, run.recipe.train.initParts, log);
  trainer.ema?.reset(); // the average starts from the loaded weights (the voice's average when it has one)
  log(`starting from the weights of ${init.dir} (step ${init.meta.step}${init.ema ? ', moving average' : ''}) with a fresh optimizer`);
  return { resumedFrom: null, initFrom: init.dir };
}

/** The worker pool for train.workers > 1 (null: this thread computes the gradients). */
async function startWorkers(task: Task<unknown>, n: number, note: string, log: (msg: string) => void): Promise<TrainPool<unknown> | null> {
  if (n <= 1) {
    log(`training in the main thread, 1 worker (${note})`);
    return null;
  }
  const pool = await TrainPool.start(task, task.replica, n, capabilities().name);
  const helpers = n - 1;
  const what = pool.transport === 'process' ? ['process', 'processes'] : ['thread', 'threads'];
  log(`training with ${n} workers: this process and ${helpers} worker ${what[helpers === 1 ? 0 : 1]} (${note})`);
  return pool;
}

/**
 * The loop: until train.steps, one step (learning rate from the schedule, the next batch, the
 * gradient here or from the workers, the update), then every hook, then the stop conditions.
 * Ends with a checkpoint of where it stopped.
 */
async function trainLoop(
  recipe: Recipe,
  state: RunState,
  step: (idx: number[]) => Promise<StepResult>,
  trainer: Trainer<unknown>,
  hooks: StepHook[],
  checkpoints: { save(state: RunState): Promise<void> },
  stop: { interrupted(): boolean; budget: TimeBudget | null },
): Promise<TrainRunResult['stoppedBy']> {
  const t = recipe.train;
  const schedule: LrSchedule = { lr: t.lr, warmupSteps: t.warmupSteps, decay: t.lrDecay, minLrFactor: t.minLrFactor, steps: t.steps };
  let stoppedBy: TrainRunResult['stoppedBy'] = 'steps';
  while (state.step < t.steps) {
    const t0 = process.hrtime.bigint();
    trainer.setLearningRate(learningRateAt(state.step + 1, schedule));
    const res = await step(state.order.next());
    state.step++;
    const sPerStep = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const h of hooks) await h.afterStep(state, res, sPerStep);
    // Let signal handlers run between steps.
    await new Promise((r) => setImmediate(r));
    if (stop.interrupted()) {
      stoppedBy = 'signal';
      break;
    }
    if (stop.budget?.spent()) {
      stoppedBy = 'time';
      break;
    }
  }
  await checkpoints.save(state);
  return stoppedBy;
}

async function trainLocked(opts: TrainRunOptions): Promise<TrainRunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`difftts: ${m}\n`));
  const run = openRun(opts, log);
  const { runDir, recipe } = run;
  const t = recipe.train;
  if (run.resumeFrom && run.resumeFrom.meta.step > t.steps) {
    return { runDir, step: run.resumeFrom.meta.step, totalSteps: t.steps, stoppedBy: 'past', checkpoint: run.resumeFrom.dir };
  }
  mkdirSync(runDir, { recursive: true });
  cleanCheckpointLeftovers(runDir);

  // an --init checkpoint is read before the task is built: a multi-speaker one decides the speaker rows
  const init = !run.resumeFrom && opts.init ? openCheckpoint(opts.init, log) : null;
  const baseCkpt = run.resumeFrom ?? init;
  const base = baseCkpt ? baseSpeakers(baseCkpt, run.resumeFrom ? 'resume' : 'init') : null;
  const task = await buildTask({
    recipe,
    recipeWhere: run.where,
    dataPath: recipe.data.path,
    runDir,
    skipBad: recipe.data.skipBad,
    log,
    base,
  });
  const batchItems = Math.min(t.batchSize, task.nItems);
  const perMicro = Math.floor(batchItems / Math.min(t.accumulate, batchItems));
  const workers = resolveTrainWorkers(t.workers, perMicro, capabilities().parallelisesOps);
  // With workers the gradient arrives as one host buffer: the update runs on it (HostAdam).
  const trainer = new Trainer(task.trainable, {
    lr: t.lr,
    gradClip: t.gradClip,
    maxBadSteps: t.maxBadSteps,
    divergeFactor: t.divergeFactor,
    ema: t.ema,
    host: workers.n > 1,
    frozen: task.frozen,
  });
  const state: RunState = {
    step: 0,
    order: DataOrder.create(task.nItems, t.batchSize, t.seed),
    modelRng: new Rng((t.seed ^ 0x9e3779b9) >>> 0),
  };
  const metricsPath = join(runDir, 'metrics.jsonl');
  const hooks: StepHook[] = [];
  let pool: TrainPool<unknown> | null = null;
  try {
    pool = await startWorkers(task, workers.n, workers.note, log);
    const { resumedFrom, initFrom } = await restore(run, task, trainer, state, opts, init, log);
    truncateMetrics(metricsPath, state.step);
    writeFileAtomic(join(runDir, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
    writeFileAtomic(join(runDir, 'run.json'), JSON.stringify({ ...runInfo(opts, resumedFrom, pool?.size ?? 1), initFrom }, null, 2) + '\n');

    const step = async (idx: number[]): Promise<StepResult> => {
      if (!pool)
        return trainer.stepMicro(
          splitBatch(idx, t.accumulate).map((i) => task.batch(i)),
          state.modelRng,
          state.step,
        );
      const g = await pool.gradients(idx, t.accumulate, state.modelRng, state.step).catch((err: unknown) => {
        throw err instanceof WorkerFailed ? new WorkerFailed(`training stopped at step ${state.step + 1}: ${err.message}`) : err;
      });
      return trainer.update(g.grads, g.terms);
    };
    const budget = opts.maxSeconds === undefined ? null : timeBudget(opts.maxSeconds);
    const checkpoints = checkpointHook(runDir, task, trainer, recipe, resumedFrom ?? -1);
    const signals = interruptHandler(log);
    hooks.push(
      metricsHook(metricsPath, trainer, t.logEvery),
      progressHook(t.steps, state.step, opts.progress, budget, log),
      checkpoints,
      samplesHook(runDir, task, trainer, t.pngEvery, log),
      { afterStep: () => {}, close: () => signals.close() },
    );
    let stoppedBy: TrainRunResult['stoppedBy'];
    try {
      stoppedBy = await trainLoop(recipe, state, step, trainer, hooks, checkpoints, { interrupted: () => signals.interrupted, budget });
    } finally {
      for (const h of hooks) h.close?.();
    }
    if (stoppedBy === 'signal') log(`stopped at step ${state.step}; resume with --resume`);
    return {
      runDir,
      step: state.step,
      totalSteps: t.steps,
      stoppedBy,
      checkpoint: join(runDir, 'checkpoints', checkpointName(state.step)),
    };
  } catch (err) {
    for (const h of hooks) h.close?.();
    if (err instanceof TrainingStopped || err instanceof WorkerFailed)
      log(`the last checkpoint is ${listCheckpoints(runDir).pop()?.dir ?? '(none)'}`);
    throw err;
  } finally {
    await pool?.close();
    trainer.dispose();
    task.dispose();
  }
}
