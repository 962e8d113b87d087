/**
 * Data-parallel training over workers (child processes by default, see peer.ts; each its own
 * tfjs instance, with difftts's wasm kernels through initBackend).
 *
 * The main thread owns the only optimizer and the weights. Each step it sends every worker the
 * weights (Float32 [P]) and its shards of every micro-batch, with the micro-batch's whole
 * denominators (Trainable.lossNorm) and per-item draw seeds (ItemDraws), so each shard's gradient
 * is its exact share of the whole batch's. The workers reply with their gradients (Float32 [P]);
 * the main thread sums them in worker order (float64, rounded once to float32), so a given worker
 * count gives bitwise identical results run after run, and hands the sum to Trainer.update
 * (clip → Adam) like a gradient computed in-process. Broadcasting the weights (instead of every
 * replica repeating the update) keeps the replicas identical whatever the update does (schedules,
 * EMA, resume) at the cost of one P-float message each way per worker per step (~3 MB for `tiny`).
 */
import * as tf from '@tensorflow/tfjs';
import type { Task } from '../train/task.js';
import { splitBatch } from '../train/trainable.js';
import type { Rng } from '../util/rng.js';
import { compact, Peer, WorkerFailed, type Transport } from './peer.js';
import { weightLayout, type ReplicaSpec } from './replica.js';
import type { ShardMsg, StepMsg, StepReply, TrainWorkerData } from './train-worker.js';

export class TrainPool<B> {
  private constructor(
    private readonly task: Task<B>,
    private readonly peers: Peer[],
    private readonly vars: tf.Variable[],
    private readonly p: number,
  ) {}

  /** Per worker, the last step's milliseconds loading weights, computing gradients, gathering them. */
  lastTimes: number[][] = [];
  /** CPU seconds the last step took in worker processes (0 for threads: they count in this process). */
  lastWorkerCpu = 0;
  /** Σ peak RSS of the worker processes, MB (0 for threads: they count in this process). */
  lastWorkerRss = 0;

  /** How the workers run: child processes or threads (peer.ts). */
  get transport(): Transport {
    return this.peers[0]!.transport;
  }

  get size(): number {
    return this.peers.length;
  }

  /** Starts `n` workers building `spec` on backend `backend`; resolves when all are ready. */
  static async start<B>(task: Task<B>, spec: ReplicaSpec, n: number, backend: string): Promise<TrainPool<B>> {
    const vars = [...task.trainable.variables.values()];
    const p = vars.reduce((s, v) => s + v.size, 0);
    const entry = new URL('./train-worker.js', import.meta.url);
    const peers = Array.from({ length: n }, (_, slot) => {
      const wd: TrainWorkerData = { spec, backend };
      return new Peer(`training worker ${slot + 1} of ${n}`, entry, wd);
    });
    const pool = new TrainPool(task, peers, vars, p);
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
    const weights = new Float32Array(this.p);
    let off = 0;
    for (const v of this.vars) {
      weights.set(v.dataSync() as Float32Array, off);
      off += v.size;
    }
    const replies = (await Promise.all(this.peers.map((q, j) => q.request({ type: 'step', step, weights, parts: perWorker[j]!, divisor: micro.length } satisfies StepMsg)))) as StepReply[];

    const p = this.p;
    for (const [j, r] of replies.entries()) {
      if (!(r.grads instanceof Float32Array) || r.grads.length !== p) throw new WorkerFailed(`${this.peers[j]!.label} failed: it replied with ${r.grads?.length ?? 'no'} gradient values (expected ${p})`);
    }
    let sum: Float32Array;
    if (n === 1) sum = replies[0]!.grads;
    else {
      const acc = new Float64Array(p);
      for (const r of replies) {
        const row = r.grads;
        for (let i = 0; i < p; i++) acc[i]! += row[i]!;
      }
      sum = Float32Array.from(acc);
    }
    const grads: tf.Tensor[] = [];
    off = 0;
    for (const v of this.vars) {
      grads.push(tf.tensor(sum.subarray(off, off + v.size), v.shape));
      off += v.size;
    }
    const terms: Record<string, number> = {};
    for (const r of replies) for (const [k, v] of Object.entries(r.terms)) terms[k] = (terms[k] ?? 0) + v;
    this.lastTimes = replies.map((r) => r.ms);
    const procs = this.transport === 'process';
    this.lastWorkerCpu = procs ? replies.reduce((s, r) => s + r.cpuS, 0) : 0;
    this.lastWorkerRss = procs ? replies.reduce((s, r) => s + r.rssMb, 0) : 0;
    return { grads, terms };
  }

  /** The workers' process ids (tests check that none outlives its parent). */
  get pids(): number[] {
    return this.peers.map((q) => q.pid);
  }

  /** Test hook: kills worker `j` as a crash would. */
  kill(j: number): Promise<void> {
    return this.peers[j]!.kill();
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map((q) => q.close()));
  }
}
