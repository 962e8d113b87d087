/**
 * Entry of a training worker (a worker thread started by TrainPool, or a child process with
 * DIFFTTS_WORKERS_AS=process): builds the replica, then per step loads the weights it is sent,
 * computes its shard's summed gradient with the whole batch's denominators (trainable/gradients.ts's
 * gradientsOf, MAS included) and replies with it and the shard's loss terms.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { gradientsOf } from '../trainable/gradients.js';
import type { LossNorm } from '../trainable/trainable.js';
import { ItemDraws } from '../util/rng.js';
import { assignData, concatData } from '../util/tensor.js';
import { parentChannel } from './channel.js';
import { firstLine } from './peer.js';
import { weightLayout, type ReplicaModule, type ReplicaSpec } from './replica.js';

export interface TrainWorkerData {
  spec: ReplicaSpec;
  backend: string;
  /** Names of the frozen variables: no gradient for them (the reply holds the others'). */
  frozen?: string[];
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
  /** Float32 [P]: the main thread's weights, in replica variable order. */
  weights: Float32Array;
  parts: ShardMsg[];
  /** Micro-batches in the step (their gradients are averaged, as Trainer.stepMicro does). */
  divisor: number;
}

/** A worker's answer to a StepMsg: its shards' summed gradient of the trained (not frozen) weights, Float32, and loss terms. */
export interface StepReply {
  type: 'done';
  grads: Float32Array;
  terms: Record<string, number>;
  /** Milliseconds loading weights, computing gradients, gathering them (for benchmarks). */
  ms: number[];
  /** CPU seconds of the worker's process during the step (a thread's is its whole process's). */
  cpuS: number;
  /** Peak resident memory of the worker's process so far, MB. */
  rssMb: number;
}

const port = parentChannel();

try {
  const data = (await port.data) as TrainWorkerData;
  await initBackend(data.backend);
  const mod = (await import(data.spec.module)) as ReplicaModule;
  const rep = await mod.replica(data.spec.args);
  const vars = [...rep.trainable.variables.values()];
  const frozen = new Set(data.frozen ?? []);
  const trained = [...rep.trainable.variables].filter(([name]) => !frozen.has(name)).map(([, v]) => v);

  port.onMessage(async (m: StepMsg | { type: 'close' }) => {
    if (m.type === 'close') {
      rep.dispose();
      port.close();
      return;
    }
    try {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      assignData(vars, m.weights);
      const parts = m.parts.map((s) => ({ batch: s.batch, draws: new ItemDraws(s.seed, s.first), norm: s.norm }));
      const t1 = performance.now();
      const r = await gradientsOf(rep.trainable, trained, parts, m.divisor, m.step);
      const t2 = performance.now();
      const grads = concatData(r.grads);
      tf.dispose(r.grads);
      const c = process.cpuUsage(c0);
      port.post({
        type: 'done',
        grads,
        terms: r.terms,
        ms: [t1 - t0, t2 - t1, performance.now() - t2],
        cpuS: (c.user + c.system) / 1e6,
        rssMb: process.resourceUsage().maxRSS / 1024,
      } satisfies StepReply);
    } catch (err) {
      port.post({ type: 'error', message: firstLine(err) });
    }
  });
  port.post({ type: 'ready', layout: weightLayout(rep.trainable.variables) });
} catch (err) {
  port.post({ type: 'error', message: `could not start: ${firstLine(err)}` });
}
