/**
 * Exponential moving average of the weights, for sampling: ema ← d·ema + (1 − d)·w after every
 * optimizer update, with d = min(decay, (1 + n)/(10 + n)) at update n so the average is not
 * anchored to the random initialisation early on (TensorFlow's ExponentialMovingAverage with
 * num_updates). Diffusion models sample markedly better from averaged weights (Song et al. 2021,
 * "Improved techniques for training score-based generative models").
 */
import * as tf from '@tensorflow/tfjs';
import { assignData, concatData } from '../util/tensor.js';

export class WeightEma {
  /** The averaged weights, by the model's variable names (same order). */
  readonly shadow: Map<string, tf.Variable>;

  constructor(
    private readonly source: Map<string, tf.Variable>,
    readonly decay: number,
  ) {
    // Unnamed: tfjs names must be unique per process, and several trainers may coexist (tests, workers).
    this.shadow = new Map([...source].map(([name, v]) => [name, tf.variable(v, false)]));
  }

  /** The decay used at update `n` (0-based count of updates already averaged). */
  static decayAt(decay: number, n: number): number {
    return Math.min(decay, (1 + n) / (10 + n));
  }

  /** Folds the current weights in; `n` is the number of updates averaged before this one. */
  update(n: number): void {
    const d = WeightEma.decayAt(this.decay, n);
    tf.tidy(() => {
      for (const [name, e] of this.shadow) e.assign(tf.add(tf.mul(e, d), tf.mul(this.source.get(name)!, 1 - d)));
    });
  }

  /**
   * `update` from the weights as one host buffer [P] (the variables concatenated in order, as
   * HostAdam holds them): the same float32 arithmetic in one loop instead of 3 ops per variable.
   */
  updateFlat(n: number, weights: Float32Array): void {
    const d = WeightEma.decayAt(this.decay, n);
    const fd = Math.fround(d);
    const fo = Math.fround(1 - d);
    const e = concatData(this.shadow.values());
    if (e.length !== weights.length) throw new Error(`WeightEma.updateFlat: ${weights.length} weights (expected ${e.length})`);
    for (let i = 0; i < e.length; i++) e[i] = Math.fround(Math.fround(e[i]! * fd) + Math.fround(weights[i]! * fo));
    assignData([...this.shadow.values()], e);
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

  /** Sets the average to the given tensors (a resumed run's saved average, an --init voice). */
  assign(values: Map<string, { shape: number[]; data: Float32Array }>): void {
    tf.tidy(() => {
      for (const [name, e] of this.shadow) {
        const v = values.get(name);
        if (!v || v.shape.join('x') !== e.shape.join('x')) throw new Error(`WeightEma.assign: no matching tensor for ${name}`);
        e.assign(tf.tensor(v.data, v.shape, 'float32'));
      }
    });
  }

  dispose(): void {
    for (const e of this.shadow.values()) e.dispose();
  }
}
