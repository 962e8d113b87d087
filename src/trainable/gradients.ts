/**
 * The gradient of one training step's objective over a Trainable: what the training loop
 * (src/train) and the data-parallel workers (src/parallel) both compute, so it lives below both.
 */
import * as tf from '@tensorflow/tfjs';
import { capabilities } from '../backend/index.js';
import type { ItemDraws } from '../util/rng.js';
import { readAsync } from '../util/tensor.js';
import type { LossNorm, Trainable } from './trainable.js';

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
    const batch = model.prepare && !capabilities().syncReads ? await model.prepare(given, draws) : given;
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
