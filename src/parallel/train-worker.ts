/**
 * Entry of a training worker thread (started by TrainPool): builds the replica, then per step
 * loads the main thread's weights from shared memory, computes its shard's summed gradient with
 * the whole batch's denominators (loop.ts's gradientsOf, MAS included) and writes it into its own
 * slot of the shared gradient buffer; it replies with the shard's loss terms.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { gradientsOf } from '../train/loop.js';
import type { LossNorm } from '../train/trainable.js';
import { ItemDraws } from '../util/rng.js';
import { firstLine } from './peer.js';
import { weightLayout, type ReplicaModule, type ReplicaSpec } from './replica.js';

export interface TrainWorkerData {
  spec: ReplicaSpec;
  backend: string;
  /** Float32 [P]: the current weights, written by the main thread before each step. */
  weights: SharedArrayBuffer;
  /** Float32 [workers, P]: each worker's gradient in its own row. */
  grads: SharedArrayBuffer;
  slot: number;
}

/** One shard of one micro-batch: items draw from ItemDraws(seed, first); norm = its micro-batch's. */
export interface ShardMsg {
  batch: unknown;
  seed: number;
  first: number;
  norm: LossNorm;
}

export interface StepMsg {
  type: 'step';
  /** The 0-based optimizer step (objectives may change over training). */
  step: number;
  parts: ShardMsg[];
  /** Micro-batches in the step (their gradients are averaged, as Trainer.stepMicro does). */
  divisor: number;
}

const port = parentPort!;
const data = workerData as TrainWorkerData;

try {
  await initBackend(data.backend);
  const mod = (await import(data.spec.module)) as ReplicaModule;
  const rep = await mod.replica(data.spec.args);
  const vars = [...rep.trainable.variables.values()];
  const p = vars.reduce((s, v) => s + v.size, 0);
  const weights = new Float32Array(data.weights);
  const grads = new Float32Array(data.grads, data.slot * p * 4, p);

  port.on('message', async (m: StepMsg | { type: 'close' }) => {
    if (m.type === 'close') {
      rep.dispose();
      port.close();
      return;
    }
    try {
      const t0 = performance.now();
      let off = 0;
      for (const v of vars) {
        // a copy: tensors must not alias memory the main thread rewrites
        tf.tidy(() => v.assign(tf.tensor(weights.slice(off, off + v.size), v.shape)));
        off += v.size;
      }
      const parts = m.parts.map((s) => ({ batch: s.batch, draws: new ItemDraws(s.seed, s.first), norm: s.norm }));
      const t1 = performance.now();
      const r = await gradientsOf(rep.trainable, vars, parts, m.divisor, m.step);
      const t2 = performance.now();
      off = 0;
      for (const g of r.grads) {
        grads.set(g.dataSync() as Float32Array, off);
        off += g.size;
      }
      tf.dispose(r.grads);
      // where the worker's time went (ms), for benchmarks: loading weights, gradients, writing them
      port.postMessage({ type: 'done', terms: r.terms, ms: [t1 - t0, t2 - t1, performance.now() - t2] });
    } catch (err) {
      port.postMessage({ type: 'error', message: firstLine(err) });
    }
  });
  port.postMessage({ type: 'ready', layout: weightLayout(rep.trainable.variables) });
} catch (err) {
  port.postMessage({ type: 'error', message: `could not start: ${firstLine(err)}` });
}
