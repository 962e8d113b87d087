/**
 * What the trainer needs from a model, and the seeded data order. The loop, checkpoints and
 * resume are written against these two pieces only, so they are tested with a toy model and
 * serve GradTTS unchanged. Below both src/train and src/parallel (with gradients.ts), which use it.
 */
import type * as tf from '@tensorflow/tfjs';
import { Rng, type ItemDraws, type RngState } from '../util/rng.js';

/** Named scalar loss terms; `total` is what is differentiated, the others are logged. */
export type LossTermMap = { total: tf.Scalar } & Record<string, tf.Scalar>;

/** The denominators of a batch's loss terms (counts of tokens, cells, items), by the model's names. */
export type LossNorm = Record<string, number>;

export interface Trainable<B> {
  /** Trainable weights by stable name (the checkpoint keys). Iteration order must be fixed. */
  readonly variables: Map<string, tf.Variable>;
  /**
   * Loss terms for one batch; called inside tf.variableGrads, so it must not dispose its outputs.
   * Item k draws from draws.rng(k). `step` is the 0-based optimizer step (recipes may change the
   * objective over training, e.g. an encoder-only warm-up). With `norm` (a larger batch's
   * lossNorm) every term is divided by it instead of this batch's own, so the terms of a batch's
   * shards sum to the batch's terms.
   */
  losses(batch: B, draws: ItemDraws, ctx: { step: number; norm?: LossNorm }): LossTermMap;
  /** This batch's own loss denominators (from its lengths alone). */
  lossNorm(batch: B): LossNorm;
  /** Items in a batch. */
  itemCount(batch: B): number;
  /**
   * Optional, for backends that cannot read tensors synchronously (webgpu): returns the batch with
   * whatever losses() would read mid-step already read (GradTTS: the MAS alignments), drawing
   * what losses() will draw from the same `draws`.
   */
  prepare?(batch: B, draws: ItemDraws): Promise<B>;
}

/** A Trainable with its training items: what a step's gradient is computed from (the whole task is src/train/task.ts). */
export interface TrainingItems<B> {
  trainable: Trainable<B>;
  /** The batch of the items at these indices. */
  batch(indices: number[]): B;
  /** Names of the variables that are not trained (recipe train.freeze): no gradient is computed for them; absent or empty = train all. */
  frozen?: readonly string[];
}

export interface DataOrderState {
  rng: RngState;
  epoch: number;
  /** Position inside `order` of the next item. */
  pos: number;
  /** This epoch's permutation of item indices. */
  order: number[];
}

/**
 * Yields batches of item indices: a fresh seeded shuffle every epoch; a batch never spans two
 * epochs (the last short one is dropped when it would be smaller than the batch, so every step
 * sees `batchSize` items). `state()`/`fromState` make a resumed run see the same order.
 */
export class DataOrder {
  private constructor(
    private readonly n: number,
    private readonly batchSize: number,
    private rng: Rng,
    private epoch: number,
    private pos: number,
    private order: number[],
  ) {}

  static create(n: number, batchSize: number, seed: number): DataOrder {
    if (n < 1) throw new Error('DataOrder: no items');
    const d = new DataOrder(n, Math.min(batchSize, n), new Rng(seed), 0, 0, []);
    d.newEpoch();
    d.epoch = 0;
    return d;
  }

  static fromState(n: number, batchSize: number, s: DataOrderState): DataOrder {
    return new DataOrder(n, Math.min(batchSize, n), Rng.fromState(s.rng), s.epoch, s.pos, [...s.order]);
  }

  private newEpoch(): void {
    this.order = this.rng.shuffle(Array.from({ length: this.n }, (_, i) => i));
    this.pos = 0;
    this.epoch++;
  }

  /** The next batch of indices into the item list. */
  next(): number[] {
    if (this.pos + this.batchSize > this.n) this.newEpoch();
    const b = this.order.slice(this.pos, this.pos + this.batchSize);
    this.pos += this.batchSize;
    return b;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  state(): DataOrderState {
    return { rng: this.rng.state(), epoch: this.epoch, pos: this.pos, order: [...this.order] };
  }
}

/** Splits a batch of indices into `parts` nearly equal micro-batches or shards, in order (no empty ones). */
export function splitBatch(idx: number[], parts: number): number[][] {
  const n = Math.min(parts, idx.length);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(idx.slice(Math.floor((i * idx.length) / n), Math.floor(((i + 1) * idx.length) / n)));
  return out;
}
