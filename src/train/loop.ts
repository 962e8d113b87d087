/**
 * One optimisation step, read top to bottom: loss terms → gradients → global norm → skip if
 * non-finite → clip → Adam. Generic over `Trainable`, so the toy model tests it exactly as GradTTS
 * uses it.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { ItemDraws, type Rng } from '../util/rng.js';
import { syncReadsWork } from '../backend/webgpu.js';
import { restoreOptimizer, snapshotOptimizer, type LoopState, type OptimizerSnapshot } from './checkpoint.js';
import { WeightEma } from './ema.js';
import { HostAdam } from './host-adam.js';
import { assignData, concatData, readAsync, splitData } from '../util/tensor.js';
import type { LossNorm, Trainable } from './trainable.js';

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


/** One piece of a step's batch: its items draw from `draws`; `norm` = the whole batch's denominators (worker shards). */
export interface BatchPart<B> {
  batch: B;
  draws: ItemDraws;
  norm?: LossNorm;
}

/**
 * Σ over parts of ∇ total, and of every logged term, divided by `divisor`: the gradients in
 * varList order and the terms as numbers. Micro-batches pass their count (their means are
 * averaged); worker shards pass norm and divisor = micro-batches, so shards sum to the whole.
 */
export async function gradientsOf<B>(
  model: Trainable<B>,
  varList: tf.Variable[],
  parts: BatchPart<B>[],
  divisor: number,
  step: number,
): Promise<{ grads: tf.Tensor[]; terms: Record<string, number> }> {
  let grads: tf.Tensor[] | null = null;
  const sums: Record<string, number> = {};
  for (const { batch: given, draws, norm } of parts) {
    // what losses() would read mid-step (webgpu cannot), read first with the same draws
    const batch = model.prepare && !syncReadsWork() ? await model.prepare(given, draws) : given;
    const others: Record<string, tf.Scalar> = {};
    const r = tf.variableGrads(() => {
      const terms = model.losses(batch, draws, { step, norm });
      // variableGrads disposes everything but the returned total; keep the logged terms.
      for (const [k, t] of Object.entries(terms)) if (k !== 'total') others[k] = tf.keep(t);
      return terms.total;
    }, varList);
    const names = Object.keys(others);
    const vals = await readAsync(() => tf.stack([r.value, ...names.map((k) => others[k]!)]));
    sums.total = (sums.total ?? 0) + vals[0]!;
    names.forEach((k, i) => (sums[k] = (sums[k] ?? 0) + vals[i + 1]!));
    tf.dispose([r.value, ...Object.values(others)]);
    // A weight the step's objective did not use (the U-Net in an encoder-only warm-up) gets a
    // zero gradient, so Adam's per-position slots keep their order.
    const g = varList.map((v) => r.grads[v.name] ?? tf.zerosLike(v));
    if (grads === null) grads = g;
    else {
      const prev: tf.Tensor[] = grads;
      grads = tf.tidy(() => prev.map((p, i) => tf.add(p, g[i]!)));
      tf.dispose([...prev, ...g]);
    }
  }
  if (grads === null) throw new Error('gradientsOf: no batch parts');
  if (divisor !== 1) {
    const total = grads;
    grads = tf.tidy(() => total.map((p) => tf.div(p, divisor)));
    tf.dispose(total);
  }
  const terms: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) terms[k] = v / divisor;
  return { grads, terms };
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
  /** tfjs's Adam, or the same update over host buffers (opts.host). */
  readonly optimizer: tf.AdamOptimizer | HostAdam;
  /** The weights' moving average, when opts.ema > 0. */
  readonly ema: WeightEma | null;
  /** The trained variables (all but the frozen), in model order: what gradients and the optimizer cover. */
  readonly varList: tf.Variable[];
  /** Their names. */
  readonly trained: string[];
  loop: LoopState = freshLoopState();
  /** Adam's m and v of the frozen variables, as a restored checkpoint held them (kept unchanged). */
  private frozenSlots = new Map<string, { m: Float32Array; v: Float32Array }>();

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
    this.optimizer = opts.host ? new HostAdam(trained.map(([name, v]) => ({ name, shape: v.shape, size: v.size })), opts.lr) : tf.train.adam(opts.lr);
    this.ema = opts.ema ? new WeightEma(model.variables, opts.ema, frozen.size ? this.trained : undefined) : null;
  }

  /**
   * The optimizer's state in the checkpoint layout (m then v for every model variable, in model
   * order): a frozen variable's slots are what a restored checkpoint held for it, else zeros.
   */
  async optimizerState(): Promise<OptimizerSnapshot> {
    const s = await snapshotOptimizer(this.optimizer);
    const all = [...this.model.variables];
    if (s.tensors.length === 0 || this.trained.length === all.length) return s;
    const k = this.trained.length;
    const at = new Map(this.trained.map((name, i) => [name, i]));
    const tensors: OptimizerSnapshot['tensors'] = [];
    for (const tag of ['m', 'v'] as const) {
      for (const [name, v] of all) {
        const i = at.get(name);
        const data = i !== undefined ? s.tensors[(tag === 'm' ? 0 : k) + i]!.data : (this.frozenSlots.get(name)?.[tag] ?? new Float32Array(v.size));
        tensors.push({ name: `${name}/${tag}`, shape: v.shape, data });
      }
    }
    return { ...s, tensors };
  }

  /** Restores a checkpoint's optimizer state (optimizerState's layout): the trained slots into Adam, the frozen ones kept aside. */
  async restoreOptimizer(s: OptimizerSnapshot): Promise<void> {
    const all = [...this.model.variables.keys()];
    this.frozenSlots.clear();
    if (s.tensors.length === 0 || this.trained.length === all.length) return restoreOptimizer(this.optimizer, s);
    if (s.tensors.length !== 2 * all.length) throw new Error(`Trainer.restoreOptimizer: ${s.tensors.length} slots (expected ${2 * all.length})`);
    const trained = new Set(this.trained);
    const m: OptimizerSnapshot['tensors'] = [];
    const v: OptimizerSnapshot['tensors'] = [];
    all.forEach((name, i) => {
      const [tm, tv] = [s.tensors[i]!, s.tensors[all.length + i]!];
      if (trained.has(name)) {
        m.push(tm);
        v.push(tv);
      } else this.frozenSlots.set(name, { m: tm.data, v: tv.data });
    });
    return restoreOptimizer(this.optimizer, { ...s, tensors: [...m, ...v] });
  }

  /** The rate of the next updates (the schedule's value for the coming step). */
  setLearningRate(lr: number): void {
    // tfjs's Adam reads this plain number on every applyGradients.
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  get learningRate(): number {
    return (this.optimizer as unknown as { learningRate: number }).learningRate;
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
   * The update of one step from its gradients — tensors in `model.variables` order (consumed) or
   * one Float32 [P] buffer of them concatenated — and logged terms, wherever they were computed
   * (here, or summed over worker shards by src/parallel): global norm → skip if non-finite →
   * divergence check → clip → Adam → moving average.
   */
  async update(grads: tf.Tensor[] | Float32Array, terms: Record<string, number>): Promise<StepResult> {
    const host = this.optimizer instanceof HostAdam ? this.optimizer : null;
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
      if (host) {
        const w = concatData(this.varList, host.weights);
        host.apply(w, flat!, scale);
        assignData(this.varList, w);
        if (this.ema) this.ema.updateFlat(this.loop.emaUpdates++, w);
      } else {
        const adam = this.optimizer as tf.AdamOptimizer;
        tf.tidy(() => {
          // The array form fixes the order Adam stores m/v in, which checkpoints rely on.
          const named = this.varList.map((v, i) => ({ name: v.name, tensor: scale === 1 ? list![i]! : tf.mul(list![i]!, scale) }));
          adam.applyGradients(named);
        });
        if (this.ema) this.ema.update(this.loop.emaUpdates++);
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
    if (!(this.optimizer instanceof HostAdam)) this.optimizer.dispose();
    this.ema?.dispose();
  }
}
