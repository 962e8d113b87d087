/**
 * Named trainable weights, created lazily on first use with values drawn from a seeded `Rng`.
 *
 * Modules ask for a weight by name and shape (`ps.get('encoder.prenet.conv0.w', [5, 64, 64], init)`);
 * the first request creates it. `GradTTS.create` runs one tiny forward pass so every weight is
 * created in a fixed order, which makes the initial values a pure function of the seed.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../util/rng.js';

/** How to draw initial values: PyTorch-style U(±1/√fanIn), N(0, std²), or a constant. */
export type Init = { kind: 'uniform'; fanIn: number } | { kind: 'normal'; std: number } | { kind: 'const'; value: number };

export class ParamStore {
  readonly variables = new Map<string, tf.Variable>();
  private rng: Rng | null;
  /** When true, reading an unknown name throws (after creation, a new name is a bug). */
  frozen = false;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  get<R extends tf.Rank>(name: string, shape: number[], init: Init): tf.Variable<R> {
    const v = this.variables.get(name);
    if (v) {
      if (v.shape.join(',') !== shape.join(',')) throw new Error(`parameter ${name}: shape [${v.shape}] but asked for [${shape}]`);
      return v as tf.Variable<R>;
    }
    if (this.frozen || !this.rng) throw new Error(`parameter ${name} does not exist`);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const rng = this.rng;
    if (init.kind === 'uniform') {
      const bound = 1 / Math.sqrt(init.fanIn);
      for (let i = 0; i < n; i++) data[i] = (2 * rng.uniform() - 1) * bound;
    } else if (init.kind === 'normal') {
      for (let i = 0; i < n; i++) data[i] = rng.normal() * init.std;
    } else if (init.value !== 0) {
      data.fill(init.value);
    }
    // unnamed: tfjs variable names are global, and two models may coexist
    const created = tf.tidy(() => tf.variable(tf.tensor(data, shape), true));
    this.variables.set(name, created);
    return created as tf.Variable<R>;
  }

  freeze(): void {
    this.frozen = true;
    this.rng = null;
  }

  count(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
