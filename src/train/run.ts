/**
 * `difftts train`: a run directory around the training loop.
 *
 *   RUN_DIR/recipe.json      the resolved recipe (a different one refuses to start without --force)
 *   RUN_DIR/run.json         backend + why, versions, git commit, start time, command line
 *   RUN_DIR/metrics.jsonl    one line per logged step
 *   RUN_DIR/checkpoints/     step-NNNNNN/ every train.checkpointEvery steps, the last K kept
 *   RUN_DIR/samples/         step-NNNNNN.png every train.pngEvery steps
 *   RUN_DIR/train.lock       while a trainer runs: its pid, host and start (src/util/lock.ts)
 *
 * Resume restores weights, Adam state, data order, model RNG and loop counters from the newest
 * loadable checkpoint and cuts metrics.jsonl back to its step, so the result equals an
 * uninterrupted run bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import cliProgress from 'cli-progress';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentBackend, parallelisesOps, type BackendChoice } from '../backend/index.js';
import { WorkerFailed } from '../parallel/peer.js';
import { TrainPool } from '../parallel/train-pool.js';
import { resolveTrainWorkers } from '../parallel/workers.js';
import { UserError, WriteError } from '../errors.js';
import { LossConfigSchema, parseLossConfig, type LossConfig } from '../loss/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { acquireDirLock } from '../util/lock.js';
import { Rng } from '../util/rng.js';
import {
  assignMatchingWeights,
  assignWeights,
  checkpointName,
  cleanCheckpointLeftovers,
  latestLoadable,
  listCheckpoints,
  openCheckpoint,
  rotateCheckpoints,
  saveCheckpoint,
  type CheckpointMeta,
  type LoadedCheckpoint,
} from './checkpoint.js';
import { Trainer, TrainingStopped } from './loop.js';
import { learningRateAt, type LrSchedule } from './schedule.js';
import type { Task } from './task.js';
import { appendMetrics, truncateMetrics, type MetricsLine } from './metrics.js';
import { applyOverrides, zodLeafKind, type LeafKind, type Override } from './overrides.js';
import { loadRecipeFile, parseRecipe, RecipeSchema, type Recipe } from './recipe.js';
import { buildTask } from './task.js';
import { DataOrder, splitBatch } from './trainable.js';

export { splitBatch };

export interface TrainRunOptions {
  recipePath: string;
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
  /** Why the loop ended. */
  stoppedBy: 'steps' | 'time' | 'signal';
  /** The checkpoint holding the final weights. */
  checkpoint: string;
}

/** Valid loss fields, straight from the loss module's defaults. */
export function lossKeys(): string[] {
  return Object.keys(parseLossConfig({ type: 'l2' }, 'loss'));
}

/** What a recipe field expects, for typing `--a.b value` overrides (model fields: see modelLeafKind). */
export function recipeLeafKind(path: string[]): LeafKind {
  const [section, ...rest] = path;
  if (rest.length !== 1) return 'unknown';
  if (section === 'loss') return zodLeafKind(LossConfigSchema, rest[0]!);
  const s = (RecipeSchema.shape as Record<string, unknown>)[section!];
  return s ? zodLeafKind(s, rest[0]!) : 'unknown';
}

/** Reads a recipe file, applies command-line overrides, validates; the loss section goes through parseLossConfig. */
export function resolveRecipe(recipePath: string, overrides: Override[] = []): { recipe: Recipe; loss: LossConfig; where: string } {
  const { raw, recipe: fileRecipe } = loadRecipeFile(recipePath);
  parseLossConfig(fileRecipe.loss, recipePath);
  if (overrides.length === 0) return { recipe: fileRecipe, loss: parseLossConfig(fileRecipe.loss, recipePath), where: recipePath };
  const merged = applyOverrides(raw, overrides, lossKeys(), recipeLeafKind);
  const where = `${recipePath} with ${overrides.map((o) => o.flag).join(' ')}`;
  const recipe = parseRecipe(merged, where);
  return { recipe, loss: parseLossConfig(recipe.loss, where), where };
}

/** The resolved recipe as stored in RUN_DIR/recipe.json (loss defaults filled in). */
export function resolvedRecipeJson(recipe: Recipe, loss: LossConfig): Record<string, unknown> {
  return { ...recipe, loss };
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
function sameRecipe(stored: unknown, current: Record<string, unknown>, where: string): boolean {
  let old: any = stored;
  try {
    const r = parseRecipe(stored, where);
    old = resolvedRecipeJson(r, parseLossConfig(r.loss, where));
  } catch {
    // not parsable today: compare as stored (and so differ)
  }
  if (old === null || typeof old !== 'object') return false;
  // The worker count changes only float rounding (src/parallel): resuming with another is allowed.
  const strip = (r: any) => canonical({ ...r, train: { ...r.train, steps: 0, workers: 0 } });
  return strip(old) === strip(current);
}

const here = dirname(fileURLToPath(import.meta.url));
/** Package root: dist/src/train → ../../.. ; src/train → ../.. */
function packageRoot(): string {
  for (const up of ['../../..', '../..']) {
    const p = resolve(here, up);
    if (existsSync(join(p, 'package.json'))) return p;
  }
  return resolve(here, '../../..');
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
      ? { name: opts.backend.name, tfName: opts.backend.tfName, why: opts.backend.why, ...(opts.backend.adapter ? { adapter: opts.backend.adapter } : {}) }
      : { name: tf.getBackend(), why: 'set by the caller' },
    versions: { difftts: version, tfjs: tf.version.tfjs, node: process.versions.node },
    gitCommit: top && commit && resolve(top) === resolve(root) ? commit : null,
    startTime: new Date().toISOString(),
    commandLine: opts.argv ?? process.argv.slice(1),
    resumedFromStep: resumedFrom,
    workers,
  };
}

/** Checks the run directory against the requested start mode; returns whether to resume from a checkpoint. */
function prepareRunDir(runDir: string, stored: Record<string, unknown>, opts: TrainRunOptions): void {
  const recipeFile = join(runDir, 'recipe.json');
  const hasCkpt = listCheckpoints(runDir).length > 0;
  if (existsSync(recipeFile)) {
    let old: unknown = null;
    try {
      old = JSON.parse(readFileSync(recipeFile, 'utf8'));
    } catch {
      old = null;
    }
    if (!sameRecipe(old, stored, recipeFile) && !opts.force) {
      throw new UserError(`${recipeFile}: this run directory was started with a different recipe (use another --out, or --force to ${hasCkpt && opts.resume ? 'resume with the new recipe' : 'start over'})`);
    }
  }
  if (hasCkpt && !opts.resume) {
    if (!opts.force) throw new UserError(`${join(runDir, 'checkpoints')}: the run directory already has checkpoints (pass --resume to continue, or --force to start over)`);
    for (const sub of ['checkpoints', 'samples', 'metrics.jsonl']) rmSync(join(runDir, sub), { recursive: true, force: true });
  }
}

/**
 * Puts an --init checkpoint's weights into the task's model: the configs must match, or with
 * `partial` (train.initPartial) the tensors that match are loaded and the rest named in one line.
 */
function initWeights(task: Task<unknown>, init: LoadedCheckpoint, partial: boolean, log: (msg: string) => void): void {
  const statePath = join(init.dir, 'state.json');
  if (init.meta.model?.kind !== task.meta.model.kind) throw new UserError(`${statePath}: --init checkpoint is a '${init.meta.model?.kind}' model, the recipe trains '${task.meta.model.kind}'`);
  if (!partial) {
    if (init.meta.nSymbols !== task.meta.nSymbols) throw new UserError(`${statePath}: --init checkpoint has ${init.meta.nSymbols} text symbols, the data gives ${task.meta.nSymbols} (use the same data.textMode/addBlank)`);
    // assignWeights names the first tensor whose name or shape differs.
    assignWeights(task.trainable.variables, init, 'best');
    return;
  }
  const r = assignMatchingWeights(task.trainable.variables, init, 'best');
  if (r.loaded.length === 0) throw new UserError(`${join(init.dir, 'weights.json')}: --init with train.initPartial: no tensor matches the model's names and shapes`);
  const fresh = r.fresh.length ? `; ${r.fresh.length} freshly initialised: ${r.fresh.slice(0, 3).map(([n, why]) => `${n} (${why})`).join(', ')}${r.fresh.length > 3 ? `, … (${r.fresh.map(([n]) => n.split('.')[0]).filter((p, i, a) => a.indexOf(p) === i).join(', ')})` : ''}` : '';
  log(`partial --init from ${init.dir}: ${r.loaded.length} of ${task.trainable.variables.size} tensors loaded${fresh}${r.unused.length ? `; ${r.unused.length} checkpoint tensors unused` : ''}`);
}

/** Trains (or resumes) a run; see the file comment for the directory layout. One trainer per run directory (RUN_DIR/train.lock). */
export async function runTraining(opts: TrainRunOptions): Promise<TrainRunResult> {
  const lock = acquireDirLock(opts.outDir, { what: 'another trainer', log: opts.log ?? ((m: string) => process.stderr.write(`difftts: ${m}\n`)) });
  try {
    return await trainLocked(opts);
  } finally {
    lock.release();
  }
}

async function trainLocked(opts: TrainRunOptions): Promise<TrainRunResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`difftts: ${m}\n`));
  const { recipe: r0, loss, where } = resolveRecipe(opts.recipePath, opts.overrides);
  const recipe: Recipe = {
    ...r0,
    data: { ...r0.data, skipBad: opts.skipBad || r0.data.skipBad, path: opts.dataPath ?? r0.data.path },
    train: { ...r0.train, steps: opts.steps ?? r0.train.steps },
  };
  const t = recipe.train;
  const runDir = opts.outDir;
  const stored = resolvedRecipeJson(recipe, loss);
  mkdirSync(runDir, { recursive: true });
  prepareRunDir(runDir, stored, opts);
  cleanCheckpointLeftovers(runDir);

  const task = await buildTask({ recipe, recipeWhere: where, loss, dataPath: recipe.data.path, runDir, skipBad: recipe.data.skipBad, log });
  const batchItems = Math.min(t.batchSize, task.nItems);
  const perMicro = Math.floor(batchItems / Math.min(t.accumulate, batchItems));
  const workers = resolveTrainWorkers(t.workers, perMicro, parallelisesOps());
  // With workers the gradient arrives as one host buffer: the update runs on it (HostAdam).
  const trainer = new Trainer(task.trainable, { lr: t.lr, gradClip: t.gradClip, maxBadSteps: t.maxBadSteps, divergeFactor: t.divergeFactor, ema: t.ema, host: workers.n > 1, frozen: task.frozen });
  const schedule: LrSchedule = { lr: t.lr, warmupSteps: t.warmupSteps, decay: t.lrDecay, minLrFactor: t.minLrFactor, steps: t.steps };
  let order = DataOrder.create(task.nItems, t.batchSize, t.seed);
  let modelRng = new Rng((t.seed ^ 0x9e3779b9) >>> 0);
  let step = 0;
  let resumedFrom: number | null = null;
  const metricsPath = join(runDir, 'metrics.jsonl');
  let bar: cliProgress.SingleBar | null = null;
  let pool: TrainPool<unknown> | null = null;

  try {
    if (workers.n > 1) {
      const backendName = currentBackend()?.name ?? tf.getBackend();
      pool = await TrainPool.start(task, task.replica, workers.n, backendName);
      const helpers = workers.n - 1;
      const what = pool.transport === 'process' ? ['process', 'processes'] : ['thread', 'threads'];
      log(`training with ${workers.n} workers: this process and ${helpers} worker ${what[helpers === 1 ? 0 : 1]} (${workers.note})`);
    } else log(`training in the main thread, 1 worker (${workers.note})`);
    if (opts.resume) {
      const ckpt = latestLoadable(runDir, log);
      if (ckpt) {
        const statePath = join(ckpt.dir, 'state.json');
        if (JSON.stringify(ckpt.meta.model) !== JSON.stringify(task.meta.model)) {
          throw new UserError(`${statePath}: the checkpoint is from another model config (${ckpt.meta.model.kind}) than the recipe's`);
        }
        if (ckpt.meta.nSymbols !== task.meta.nSymbols) throw new UserError(`${statePath}: nSymbols ${ckpt.meta.nSymbols}, the data gives ${task.meta.nSymbols}`);
        if (ckpt.meta.data.order.length !== task.nItems) {
          throw new UserError(`${statePath}: the checkpoint was trained on ${ckpt.meta.data.order.length} items, the data now has ${task.nItems} (the training data changed; use another --out)`);
        }
        if (!ckpt.optimizer) throw new UserError(`${statePath}: a weights-only checkpoint cannot be resumed (start a new run from it with --init)`);
        assignWeights(task.trainable.variables, ckpt);
        await trainer.restoreOptimizer(ckpt.optimizer);
        if (trainer.ema) trainer.ema.assign(ckpt.ema ?? ckpt.weights);
        order = DataOrder.fromState(task.nItems, t.batchSize, ckpt.meta.data);
        modelRng = Rng.fromState(ckpt.meta.modelRng);
        trainer.loop = structuredClone(ckpt.meta.loop);
        step = ckpt.meta.step;
        resumedFrom = step;
        log(`resuming ${runDir} from ${ckpt.dir} (step ${step})`);
      } else {
        log(`no loadable checkpoint in ${runDir}; starting from step 0`);
      }
    }
    let initFrom: string | null = null;
    if (opts.init && resumedFrom === null) {
      const init = openCheckpoint(opts.init, log);
      initWeights(task, init, t.initPartial, log);
      trainer.ema?.reset(); // the average starts from the loaded weights (the voice's average when it has one)
      initFrom = init.dir;
      log(`starting from the weights of ${init.dir} (step ${init.meta.step}${init.ema ? ', moving average' : ''}) with a fresh optimizer`);
    }
    truncateMetrics(metricsPath, step);
    writeFileAtomic(join(runDir, 'recipe.json'), JSON.stringify(stored, null, 2) + '\n');
    writeFileAtomic(join(runDir, 'run.json'), JSON.stringify({ ...runInfo(opts, resumedFrom, pool?.size ?? 1), initFrom }, null, 2) + '\n');

    let lastSaved = resumedFrom ?? -1;
    const save = async () => {
      if (step === lastSaved) return;
      const meta: CheckpointMeta = {
        step,
        data: order.state(),
        modelRng: modelRng.state(),
        loop: structuredClone(trainer.loop),
        ...task.meta,
        recipe: stored,
      };
      await saveCheckpoint(join(runDir, 'checkpoints', checkpointName(step)), task.trainable.variables, await trainer.optimizerState(), meta, trainer.ema?.shadow ?? null);
      rotateCheckpoints(runDir, t.keepCheckpoints);
      lastSaved = step;
    };

    let interrupted = false;
    const onSigint = () => {
      if (interrupted) process.exit(130); // second Ctrl-C: give up now (the last checkpoint stays)
      interrupted = true;
      log('interrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)');
    };
    process.on('SIGINT', onSigint);

    const showBar = opts.progress ?? process.stderr.isTTY === true;
    if (showBar) {
      bar = new cliProgress.SingleBar(
        {
          // With a time budget the step ETA means little: show the budget left instead.
          format: `train |{bar}| step {value}/{total} | loss {loss} | {sps} s/step | ${opts.maxSeconds === undefined ? 'ETA {eta_formatted}' : '{left} left of the time budget'}`,
          stream: process.stderr,
          etaBuffer: 20,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(t.steps, step, { loss: '—', sps: '—', left: '—' });
    }
    const started = Date.now();
    // Without a terminal (CI, logs) there is no bar: a status line every minute instead.
    const statusLines = !showBar && opts.progress !== false;
    let lastStatus = started;
    let stoppedBy: TrainRunResult['stoppedBy'] = 'steps';
    try {
      while (step < t.steps) {
        const t0 = process.hrtime.bigint();
        trainer.setLearningRate(learningRateAt(step + 1, schedule));
        const idx = order.next();
        let res;
        if (pool) {
          const g = await pool.gradients(idx, t.accumulate, modelRng, step).catch((err: unknown) => {
            throw err instanceof WorkerFailed ? new WorkerFailed(`training stopped at step ${step + 1}: ${err.message}`) : err;
          });
          res = await trainer.update(g.grads, g.terms);
        } else res = await trainer.stepMicro(splitBatch(idx, t.accumulate).map((i) => task.batch(i)), modelRng, step);
        step++;
        const sPerStep = Number(process.hrtime.bigint() - t0) / 1e9;
        // Only on the logEvery grid, so an interrupted-and-resumed run logs exactly the same lines.
        if (step % t.logEvery === 0) {
          const line: MetricsLine = { step, epoch: order.currentEpoch, ...res.terms, lr: trainer.learningRate, gradNorm: res.gradNorm, skipped: res.ok ? 0 : 1, badSteps: trainer.loop.badSteps, sPerStep };
          appendMetrics(metricsPath, line);
        }
        const left = opts.maxSeconds === undefined ? 0 : Math.max(0, opts.maxSeconds - (Date.now() - started) / 1000);
        if (statusLines && Date.now() - lastStatus >= 60_000) {
          lastStatus = Date.now();
          log(`step ${step}/${t.steps}, loss ${res.terms.total!.toFixed(4)}, ${sPerStep.toFixed(2)} s/step`);
        }
        bar?.update(step, { loss: res.terms.total!.toFixed(4), sps: sPerStep.toFixed(2), left: `${Math.floor(left / 60)}m${String(Math.round(left % 60)).padStart(2, '0')}s` });
        if (step % t.checkpointEvery === 0 || step === t.steps) await save();
        if (t.pngEvery > 0 && step % t.pngEvery === 0 && task.sample) {
          try {
            const png = join(runDir, 'samples', `${checkpointName(step)}.png`);
            // Sample from the weights synthesis will use: the moving average when there is one.
            if (trainer.ema) await trainer.ema.withAverage(() => task.sample!(png, step));
            else await task.sample(png, step);
          } catch (err) {
            if (err instanceof WriteError) throw err; // a full disk stops the run; a drawing problem does not
            log(`could not write the sample image at step ${step}: ${(err as Error).message.split('\n')[0]}`);
          }
        }
        // Let signal handlers run between steps.
        await new Promise((r) => setImmediate(r));
        if (interrupted) {
          stoppedBy = 'signal';
          break;
        }
        if (opts.maxSeconds !== undefined && (Date.now() - started) / 1000 >= opts.maxSeconds) {
          stoppedBy = 'time';
          break;
        }
      }
      await save();
    } finally {
      process.off('SIGINT', onSigint);
      bar?.stop();
      bar = null;
    }
    if (stoppedBy === 'signal') log(`stopped at step ${step}; resume with --resume`);
    return { runDir, step, totalSteps: t.steps, stoppedBy, checkpoint: join(runDir, 'checkpoints', checkpointName(step)) };
  } catch (err) {
    bar?.stop();
    if (err instanceof TrainingStopped || err instanceof WorkerFailed) log(`the last checkpoint is ${listCheckpoints(runDir).pop()?.dir ?? '(none)'}`);
    throw err;
  } finally {
    await pool?.close();
    trainer.dispose();
    task.dispose();
  }
}
