/**
 * A toy Trainable: linear regression y = x·w + b on seeded synthetic data, with a little
 * RNG-drawn target noise so that resume must restore the model RNG exactly. It exercises the
 * loop, checkpoints, resume and crash-safety in milliseconds; the CLI accepts `"model": "toy"`
 * only with DIFFTTS_DEBUG_TOY=1 (see recipe.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, type ItemDraws } from '../util/rng.js';
import { readSync } from '../util/tensor.js';
import type { LossNorm, LossTermMap, Trainable } from '../trainable/trainable.js';

export interface ToyConfig {
  /** Input features per item. */
  dim: number;
  /** Items in the synthetic dataset. */
  items: number;
  /** Test hook: a batch holding this item makes losses throw (-1: none). */
  failItem: number;
}

export const TOY_CONFIG: ToyConfig = { dim: 4, items: 64, failItem: -1 };

export interface ToyData {
  /** [items, dim] row-major. */
  x: Float32Array;
  /** [items] targets. */
  y: Float32Array;
  dim: number;
}

export interface ToyBatch {
  /** [B, dim] row-major. */
  x: Float32Array;
  /** [B] targets. */
  y: Float32Array;
  /** Test hook: makes the loss NaN (a corrupt batch). */
  poison?: boolean;
  /** Test hook: losses throws (a failing training worker). */
  fail?: boolean;
}

/** Seeded data with true weights 1, -2, 3, -4, ... and bias 0.5. */
export function toyData(cfg: ToyConfig, seed: number): ToyData {
  const rng = new Rng(seed ^ 0x5eed);
  const x = rng.normals(cfg.items * cfg.dim);
  const y = new Float32Array(cfg.items);
  for (let i = 0; i < cfg.items; i++) {
    let s = 0.5;
    for (let j = 0; j < cfg.dim; j++) s += x[i * cfg.dim + j]! * (j + 1) * (j % 2 ? -1 : 1);
    y[i] = s;
  }
  return { x, y, dim: cfg.dim };
}

export function toyBatch(data: ToyData, indices: number[]): ToyBatch {
  const x = new Float32Array(indices.length * data.dim);
  const y = new Float32Array(indices.length);
  indices.forEach((idx, r) => {
    x.set(data.x.subarray(idx * data.dim, (idx + 1) * data.dim), r * data.dim);
    y[r] = data.y[idx]!;
  });
  return { x, y };
}

export class ToyModel implements Trainable<ToyBatch> {
  readonly variables: Map<string, tf.Variable>;

  private constructor(
    readonly cfg: ToyConfig,
    variables: Map<string, tf.Variable>,
  ) {
    this.variables = variables;
  }

  static create(cfg: ToyConfig, seed: number): ToyModel {
    const rng = new Rng(seed);
    // tidy frees the initial values; the variables (kept by tidy) hold their own copies.
    const w = tf.tidy(() =>
      tf.variable(
        tf.tensor2d(
          rng.normals(cfg.dim).map((v) => v * 0.1),
          [cfg.dim, 1],
        ),
      ),
    );
    const b = tf.tidy(() => tf.variable(tf.zeros([1])));
    return new ToyModel(
      cfg,
      new Map([
        ['linear/w', w],
        ['linear/b', b],
      ]),
    );
  }

  /** Predictions [B] for inputs [B, dim]. */
  predict(x: Float32Array): Float32Array {
    const n = x.length / this.cfg.dim;
    return readSync(() => this.forward(tf.tensor2d(x, [n, this.cfg.dim]))) as Float32Array;
  }

  private forward(x: tf.Tensor2D): tf.Tensor1D {
    return tf.add(tf.matMul(x, this.variables.get('linear/w')!).reshape([-1]), this.variables.get('linear/b')!) as tf.Tensor1D;
  }

  /** Means over the batch's items (or over norm.items of a larger batch). */
  losses(batch: ToyBatch, draws: ItemDraws, ctx: { norm?: LossNorm } = {}): LossTermMap {
    const norm = ctx.norm;
    const n = batch.y.length;
    if (batch.fail) throw new Error('toy model: failItem is in this batch (test hook)');
    const noise = Float32Array.from({ length: n }, (_, k) => draws.rng(k).normal() * 0.01);
    const den = norm?.items ?? n;
    const pred = this.forward(tf.tensor2d(batch.x, [n, this.cfg.dim]));
    const target = tf.add(tf.tensor1d(batch.y), tf.tensor1d(noise));
    let mse = tf.div(tf.sum(tf.square(tf.sub(pred, target))), den) as tf.Scalar;
    if (batch.poison) mse = tf.mul(mse, NaN) as tf.Scalar;
    const mae = tf.div(tf.sum(tf.abs(tf.sub(pred, target))), den) as tf.Scalar;
    return { total: mse, mse, mae };
  }

  lossNorm(batch: ToyBatch): LossNorm {
    return { items: batch.y.length };
  }

  itemCount(batch: ToyBatch): number {
    return batch.y.length;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}
