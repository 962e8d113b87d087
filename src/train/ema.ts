/**
 * Exponential moving average of the weights, for sampling: ema ← d·ema + (1 − d)·w after every
 * optimizer update, with d = min(decay, (1 + n)/(10 + n)) at update n so the average is not
 * anchored to the random initialisation early on (TensorFlow's ExponentialMovingAverage with
 * num_updates). Diffusion models sample markedly better from averaged weights (Song et al. 2021,
 * "Improved techniques for training score-based generative models").
 */
import * as tf from '@tensorflow/tfjs';
import { FlatArena } from '../kernels/flat.js';
import { assignData, concatData } from '../util/tensor.js';

export class WeightEma {
  private readonly tensors: Map<string, tf.Variable>;
  /**
   * After updateFlat: the average as one buffer [P] (authoritative), its weight-sized scratch and
   * whether the tensors lag behind it. The pool updates every step and reads the average only to
   * checkpoint or sample, so the tensors are written only then.
   */
  private flat: { arena: FlatArena; e: Float32Array; w: Float32Array } | null = null;
  private stale = false;

  /** The names the average follows (the trained variables); the others' average stays as assigned. */
  private readonly names: string[];

  constructor(
    private readonly source: Map<string, tf.Variable>,
    readonly decay: number,
    /** The variables that change (default all): frozen ones keep their average bit for bit. */
    updated?: readonly string[],
  ) {
    // Unnamed: tfjs names must be unique per process, and several trainers may coexist (tests, workers).
    this.tensors = new Map([...source].map(([name, v]) => [name, tf.variable(v, false)]));
    this.names = updated ? [...source.keys()].filter((n) => updated.includes(n)) : [...source.keys()];
  }

  /** The average tensors of the followed variables, in model order (updateFlat's layout). */
  private followed(): tf.Variable[] {
    return this.names.map((n) => this.tensors.get(n)!);
  }

  /** The averaged weights, by the model's variable names (same order). */
  get shadow(): Map<string, tf.Variable> {
    if (this.stale) {
      assignData(this.followed(), this.flat!.e);
      this.stale = false;
    }
    return this.tensors;
  }

  /** The decay used at update `n` (0-based count of updates already averaged). */
  static decayAt(decay: number, n: number): number {
    return Math.min(decay, (1 + n) / (10 + n));
  }

  /** Folds the current weights in; `n` is the number of updates averaged before this one. */
  update(n: number): void {
    const d = WeightEma.decayAt(this.decay, n);
    const shadow = this.shadow;
    this.flat = null; // the tensors move on: a later updateFlat starts again from them
    tf.tidy(() => {
      for (const name of this.names) {
        const e = shadow.get(name)!;
        e.assign(tf.add(tf.mul(e, d), tf.mul(this.source.get(name)!, 1 - d)));
      }
    });
  }

  /**
   * `update` from the weights as one host buffer [P] (the followed variables concatenated in
   * order, as HostAdam holds them): the same float32 arithmetic in one loop instead of 3 ops per variable.
   */
  updateFlat(n: number, weights: Float32Array): void {
    const d = WeightEma.decayAt(this.decay, n);
    if (this.flat === null) {
      const p = this.followed().reduce((s, t) => s + t.size, 0);
      const arena = new FlatArena([p, p]);
      const e = arena.f32(p);
      e.set(concatData(this.followed()));
      this.flat = { arena, e, w: arena.f32(p) };
    }
    const { arena, e, w } = this.flat;
    if (weights.length !== e.length) throw new Error(`WeightEma.updateFlat: ${weights.length} weights (expected ${e.length})`);
    w.set(weights);
    arena.ema(e, w, Math.fround(d), Math.fround(1 - d));
    this.stale = true;
  }

  /** Runs `fn` with the average in the model's variables, then puts the trained weights back. */
  async withAverage<T>(fn: () => Promise<T>): Promise<T> {
    const live = [...this.source].map(([name, v]) => [name, v.clone()] as const);
    tf.tidy(() => {
      for (const [name, v] of this.source) v.assign(this.shadow.get(name)!);
    });
    try {
      return await fn();
    } finally {
      for (const [name, t] of live) {
        this.source.get(name)!.assign(t);
        t.dispose();
      }
    }
  }

  /** Sets the average to the current weights (after --init put a voice's weights in them). */
  reset(): void {
    this.stale = false;
    this.flat = null;
    tf.tidy(() => {
      for (const [name, e] of this.tensors) e.assign(this.source.get(name)!);
    });
  }

  /** Sets the average to the given tensors (a resumed run's saved average, an --init voice). */
  assign(values: Map<string, { shape: number[]; data: Float32Array }>): void {
    this.stale = false;
    this.flat = null;
    tf.tidy(() => {
      for (const [name, e] of this.tensors) {
        const v = values.get(name);
        if (!v || v.shape.join('x') !== e.shape.join('x')) throw new Error(`WeightEma.assign: no matching tensor for ${name}`);
        e.assign(tf.tensor(v.data, v.shape, 'float32'));
      }
    });
  }

  dispose(): void {
    for (const e of this.tensors.values()) e.dispose();
  }
}
