/**
 * One optimisation step, read top to bottom: loss terms → gradients → global norm → skip if
 * non-finite → clip → Adam. Generic over `Trainable`, so the toy model tests it exactly as GradTTS
 * uses it.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { ItemDraws, type Rng } from '../util/rng.js';
import type { LoopState } from './checkpoint.js';
import { WeightEma } from './ema.js';
import { HostAdam } from './host-adam.js';
import { SubsetOptimizer, TfAdam, type Optimizer } from './optimizer.js';
import { concatData, readAsync, splitData } from '../util/tensor.js';
import type { Trainable } from '../trainable/trainable.js';
import { gradientsOf } from '../trainable/gradients.js';

export interface TrainerOptions {
  lr: number;
  /** Global-norm clip threshold; 0 = off. */
  gradClip: number;
  /** Non-finite steps in a row before stopping. */
  maxBadSteps: number;
  /** Stop when loss > divergeFactor × running median; undefined = off. */
  divergeFactor?: number;
  /** Decay of the weights' moving average (WeightEma); 0 or undefined = none kept. */
  ema?: number;
  /**
   * Run the norm, clip, Adam and moving average as loops over one host Float32 buffer (HostAdam)
   * instead of tfjs ops per variable: the worker pool's main thread, whose gradient arrives as
   * one buffer. Same arithmetic; wasm/cpu backends only (it reads and writes the weights each step).
   */
  host?: boolean;
  /**
   * Names of variables that are not trained (recipe train.freeze): no gradient is computed for
   * them (tfjs prunes their backward), and Adam and the moving average leave them — and their
   * Adam state — as they are.
   */
  frozen?: readonly string[];
}

/** How many recent losses the divergence check keeps, and how many it needs before judging. */
export const DIVERGE_WINDOW = 50;
export const DIVERGE_MIN_HISTORY = 20;

/** Training stopped on purpose (bad steps, divergence): a one-line message, exit code 3. */
export class TrainingStopped extends UserError {
  constructor(message: string) {
    super(message, 3);
    this.name = 'TrainingStopped';
  }
}

export interface StepResult {
  /** False when the step was skipped (non-finite loss or gradient). */
  ok: boolean;
  /** Every loss term as a number (total included). */
  terms: Record<string, number>;
  /** Global gradient norm before clipping (NaN/Inf on a skipped step). */
  gradNorm: number;
}

export function freshLoopState(): LoopState {
  return { badSteps: 0, badInRow: 0, recentLosses: [], emaUpdates: 0 };
}

/** Global L2 norm of a flat gradient (float64 sum). */
function hostNorm(g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return Math.sqrt(s);
}

/** Global L2 norm of gradient tensors, on the backend. */
async function tfNorm(grads: tf.Tensor[]): Promise<number> {
  return (
    await readAsync(() => {
      const sq = grads.map((g) => tf.sum(tf.square(g)));
      return tf.sqrt(sq.length ? tf.addN(sq) : tf.scalar(0));
    })
  )[0]!;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export class Trainer<B> {
  /**
   * tfjs's Adam, or the same update over host buffers (opts.host); with frozen variables it covers
   * the trained ones, its snapshot every variable's slots (SubsetOptimizer).
   */
  readonly optimizer: Optimizer;
  /** The weights' moving average, when opts.ema > 0. */
  readonly ema: WeightEma | null;
  /** The trained variables (all but the frozen), in model order: what gradients and the optimizer cover. */
  readonly varList: tf.Variable[];
  /** Their names. */
  readonly trained: string[];
  loop: LoopState = freshLoopState();

  constructor(
    readonly model: Trainable<B>,
    readonly opts: TrainerOptions,
  ) {
    const frozen = new Set(opts.frozen ?? []);
    for (const name of frozen) if (!model.variables.has(name)) throw new Error(`Trainer: frozen variable '${name}' is not in the model`);
    const trained = [...model.variables].filter(([name]) => !frozen.has(name));
    if (trained.length === 0) throw new UserError('train.freeze: every variable of the model is frozen (nothing to train)');
    this.trained = trained.map(([name]) => name);
    this.varList = trained.map(([, v]) => v);
    const adam = opts.host
      ? new HostAdam(
          trained.map(([name, v]) => ({ name, shape: v.shape, size: v.size })),
          opts.lr,
        )
      : new TfAdam(opts.lr);
    this.optimizer = frozen.size
      ? new SubsetOptimizer(
          adam,
          [...model.variables].map(([name, v]) => ({ name, shape: v.shape })),
          new Set(this.trained),
        )
      : adam;
    this.ema = opts.ema ? new WeightEma(model.variables, opts.ema, frozen.size ? this.trained : undefined) : null;
  }

  /** The rate of the next updates (the schedule's value for the coming step). */
  setLearningRate(lr: number): void {
    this.optimizer.learningRate = lr;
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /**
   * Runs one step on `batch`. Returns the step's numbers; throws TrainingStopped after
   * `maxBadSteps` non-finite steps in a row or on divergence (the weights are then those of the
   * last good step).
   */
  step(batch: B, rng: Rng, step = 0): Promise<StepResult> {
    return this.stepMicro([batch], rng, step);
  }

  /**
   * One step over several micro-batches (gradient accumulation): gradients and logged terms are
   * averaged over them, so a batch too large for memory (the 4 GB wasm heap) can be split. With a
   * single micro-batch this is exactly `step`. One uint32 of `rng` seeds the step's per-item draws;
   * `step` (0-based) is the optimizer step, for objectives that change over training. Async
   * because webgpu reads only asynchronously; other backends do the same work as a synchronous step.
   */
  async stepMicro(batches: B[], rng: Rng, step = 0): Promise<StepResult> {
    if (batches.length === 0) throw new Error('Trainer.stepMicro: no micro-batches');
    const seed = rng.nextU32();
    let first = 0;
    const parts = batches.map((batch) => {
      const draws = new ItemDraws(seed, first);
      first += this.model.itemCount(batch);
      return { batch, draws };
    });
    const { grads, terms } = await gradientsOf(this.model, this.varList, parts, batches.length, step);
    return this.update(grads, terms);
  }

  /**
   * The update of one step from its gradients — of the trained variables (`varList`: all but the
   * frozen), tensors in model order (consumed) or one Float32 [P] buffer of them concatenated —
   * and logged terms, wherever they were computed
   * (here, or summed over worker shards by src/parallel): global norm → skip if non-finite →
   * divergence check → clip → Adam → moving average.
   */
  async update(grads: tf.Tensor[] | Float32Array, terms: Record<string, number>): Promise<StepResult> {
    const host = this.optimizer.onHost;
    let list: tf.Tensor[] | null = null;
    let flat: Float32Array | null = null;
    if (host) {
      flat = grads instanceof Float32Array ? grads : concatData(grads);
      if (!(grads instanceof Float32Array)) tf.dispose(grads);
    } else list = grads instanceof Float32Array ? splitData(grads, this.varList) : grads;
    try {
      const gradNorm = flat ? hostNorm(flat) : await tfNorm(list!);
      if (!this.judge(terms, gradNorm)) return { ok: false, terms, gradNorm };
      const scale = this.opts.gradClip > 0 && gradNorm > this.opts.gradClip ? this.opts.gradClip / gradNorm : 1;
      const weights = this.optimizer.apply(this.varList, flat ?? list!, scale);
      if (this.ema) {
        if (weights) this.ema.updateFlat(this.loop.emaUpdates++, weights);
        else this.ema.update(this.loop.emaUpdates++);
      }
      this.loop.badInRow = 0;
      const hist = this.loop.recentLosses;
      hist.push(terms.total);
      if (hist.length > DIVERGE_WINDOW) hist.shift();
      return { ok: true, terms, gradNorm };
    } finally {
      if (list) tf.dispose(list);
    }
  }

  /**
   * Whether the step may update: false for a non-finite loss or gradient (counted; throws
   * TrainingStopped after maxBadSteps in a row); throws TrainingStopped on divergence.
   */
  private judge(terms: Record<string, number>, gradNorm: number): boolean {
    if (!(Number.isFinite(terms.total) && Number.isFinite(gradNorm))) {
      this.loop.badSteps++;
      this.loop.badInRow++;
      if (this.loop.badInRow >= this.opts.maxBadSteps) {
        throw new TrainingStopped(
          `training stopped: ${this.loop.badInRow} steps in a row had a non-finite loss or gradient (train.maxBadSteps = ${this.opts.maxBadSteps}); try a lower train.lr or check the data`,
        );
      }
      return false;
    }
    const { divergeFactor } = this.opts;
    const hist = this.loop.recentLosses;
    if (divergeFactor !== undefined && hist.length >= DIVERGE_MIN_HISTORY) {
      const med = median(hist);
      if (terms.total > divergeFactor * Math.max(med, 1e-8)) {
        throw new TrainingStopped(
          `training stopped: the loss diverged (${terms.total.toPrecision(4)} > ${divergeFactor} × running median ${med.toPrecision(4)}, train.divergeFactor); try a lower train.lr or a smaller train.gradClip`,
        );
      }
    }
    return true;
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
