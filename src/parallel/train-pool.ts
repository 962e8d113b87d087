/**
 * Data-parallel training over worker_threads (each worker its own tfjs instance, with difftts's
 * wasm kernels through initBackend).
 *
 * The main thread owns the only optimizer and the weights. Each step it writes its weights into a
 * shared buffer, splits every micro-batch into one shard per worker and sends each worker its
 * shards with the micro-batch's whole denominators (Trainable.lossNorm) and per-item draw seeds
 * (ItemDraws), so each shard's gradient is its exact share of the whole batch's. The workers
 * write their gradients into their own rows of a shared buffer; the main thread sums the rows in
 * worker order (float64, rounded once to float32), so a given worker count gives bitwise
 * identical results run after run, and hands the sum to Trainer.update (clip → Adam) like a
 * gradient computed in-process. Broadcasting the weights (instead of every replica repeating the
 * update) keeps the replicas identical whatever the update does (schedules, EMA, resume) at the
 * cost of one P-float copy per step.
 */
import * as tf from '@tensorflow/tfjs';
import type { Task } from '../train/task.js';
import { splitBatch } from '../train/trainable.js';
import type { Rng } from '../util/rng.js';
import { compact, Peer, WorkerFailed } from './peer.js';
import { weightLayout, type ReplicaSpec } from './replica.js';
import type { ShardMsg, StepMsg, TrainWorkerData } from './train-worker.js';

export class TrainPool<B> {
  private constructor(
    private readonly task: Task<B>,
    private readonly peers: Peer[],
    private readonly vars: tf.Variable[],
    private readonly weights: Float32Array,
    private readonly grads: Float32Array,
  ) {}

  /** Per worker, the last step's milliseconds loading weights, computing gradients, writing them. */
  lastTimes: number[][] = [];

  get size(): number {
    return this.peers.length;
  }

  /** Starts `n` workers building `spec` on backend `backend`; resolves when all are ready. */
  static async start<B>(task: Task<B>, spec: ReplicaSpec, n: number, backend: string): Promise<TrainPool<B>> {
    const vars = [...task.trainable.variables.values()];
    const p = vars.reduce((s, v) => s + v.size, 0);
    const weightsSab = new SharedArrayBuffer(4 * p);
    const gradsSab = new SharedArrayBuffer(4 * p * n);
    const entry = new URL('./train-worker.js', import.meta.url);
    const peers = Array.from({ length: n }, (_, slot) => {
      const wd: TrainWorkerData = { spec, backend, weights: weightsSab, grads: gradsSab, slot };
      return new Peer(`training worker ${slot + 1} of ${n}`, entry, wd);
    });
    const pool = new TrainPool(task, peers, vars, new Float32Array(weightsSab), new Float32Array(gradsSab));
    try {
      const want = JSON.stringify(weightLayout(task.trainable.variables));
      const replies = await Promise.all(peers.map((q) => q.ready));
      replies.forEach((r, i) => {
        if (JSON.stringify(r.layout) !== want) throw new WorkerFailed(`${peers[i]!.label} failed: its model's weights differ from the main thread's`);
      });
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /**
   * The gradient (model.variables order) and logged terms of one step on items `indices`: the
   * same function Trainer.stepMicro computes in-process (micro-batches averaged), including one
   * nextU32 of `rng` as the step's draw seed; `step` is the 0-based optimizer step.
   */
  async gradients(indices: number[], accumulate: number, rng: Rng, step: number): Promise<{ grads: tf.Tensor[]; terms: Record<string, number> }> {
    const n = this.peers.length;
    const seed = rng.nextU32();
    const perWorker: ShardMsg[][] = this.peers.map(() => []);
    const micro = splitBatch(indices, accumulate);
    let first = 0;
    for (const idx of micro) {
      const norm = this.task.trainable.lossNorm(this.task.batch(idx));
      const shards = splitBatch(idx, n);
      if (shards.length !== n) throw new Error(`TrainPool: a micro-batch of ${idx.length} items for ${n} workers`);
      let off = first;
      shards.forEach((s, j) => {
        perWorker[j]!.push({ batch: compact(this.task.batch(s)), seed, first: off, norm });
        off += s.length;
      });
      first += idx.length;
    }
    let off = 0;
    for (const v of this.vars) {
      this.weights.set(v.dataSync() as Float32Array, off);
      off += v.size;
    }
    const replies = await Promise.all(this.peers.map((q, j) => q.request({ type: 'step', step, parts: perWorker[j]!, divisor: micro.length } satisfies StepMsg)));

    const p = this.weights.length;
    const sum = new Float32Array(p);
    if (n === 1) sum.set(this.grads.subarray(0, p));
    else {
      const acc = new Float64Array(p);
      for (let j = 0; j < n; j++) {
        const row = this.grads.subarray(j * p, (j + 1) * p);
        for (let i = 0; i < p; i++) acc[i]! += row[i]!;
      }
      sum.set(acc);
    }
    const grads: tf.Tensor[] = [];
    off = 0;
    for (const v of this.vars) {
      grads.push(tf.tensor(sum.subarray(off, off + v.size), v.shape));
      off += v.size;
    }
    const terms: Record<string, number> = {};
    for (const r of replies as { terms: Record<string, number> }[]) for (const [k, v] of Object.entries(r.terms)) terms[k] = (terms[k] ?? 0) + v;
    this.lastTimes = (replies as { ms: number[] }[]).map((r) => r.ms);
    return { grads, terms };
  }

  /** Test hook: kills worker `j` as a crash would. */
  kill(j: number): Promise<number> {
    return this.peers[j]!.kill();
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map((q) => q.close()));
  }
}
