/**
 * Data-parallel training over N workers: this process computes the first shard itself and N − 1
 * helpers (worker threads by default, child processes with DIFFTTS_WORKERS_AS=process, see
 * peer.ts; each its own tfjs instance, with difftts's wasm kernels through initBackend) compute
 * the others.
 *
 * The main thread owns the only optimizer and the weights. Each step it sends every helper the
 * weights (Float32 [P]) and its shards of every micro-batch, with the micro-batch's whole
 * denominators (Trainable.lossNorm) and per-item draw seeds (ItemDraws), so each shard's gradient
 * is its exact share of the whole batch's; then it computes its own shard while they compute
 * theirs. The helpers reply with their gradients (Float32 [P] of the trained weights: the frozen
 * ones, TrainingItems.frozen, get none); the main thread sums all shards in
 * worker order (float64, rounded once to float32), so a given worker count gives bitwise identical
 * results run after run, and hands the one buffer to Trainer.update (host mode: norm, clip, Adam
 * and the moving average as loops over it). Broadcasting the weights (instead of every replica
 * repeating the update) keeps the replicas identical whatever the update does (schedules, EMA,
 * resume) at the cost of one P-float message each way per helper per step (~3 MB for `tiny`).
 */
import * as tf from '@tensorflow/tfjs';
import { gradientsOf } from '../trainable/gradients.js';
import { splitBatch, type TrainingItems } from '../trainable/trainable.js';
import { ItemDraws, type Rng } from '../util/rng.js';
import { concatData } from '../util/tensor.js';
import { FlatArena } from '../kernels/flat.js';
import { compact, firstLine, Peer, WorkerFailed, type Transport } from './peer.js';
import { weightLayout, type ReplicaSpec } from './replica.js';
import type { ShardMsg, StepMsg, StepReply, TrainWorkerData } from './train-worker.js';

export class TrainPool<B> {
  private constructor(
    private readonly task: TrainingItems<B>,
    private readonly peers: Peer[],
    /** Every weight (broadcast each step) and the trained ones (whose gradient comes back: all but task.frozen). */
    private readonly vars: tf.Variable[],
    private readonly trained: tf.Variable[],
    private readonly p: number,
  ) {
    const arena = new FlatArena([p], [p]);
    this.sum = { arena, acc: arena.f64(p), src: arena.f32(p) };
  }

  /** Where the shards' gradients are summed: float64 [P] and one float32 [P] source at a time. */
  private readonly sum: { arena: FlatArena; acc: Float64Array; src: Float32Array };

  /** Per worker (this process first), the last step's milliseconds loading weights, computing gradients, gathering them. */
  lastTimes: number[][] = [];
  /** CPU seconds the last step took in helper processes (0 for threads: they count in this process). */
  lastWorkerCpu = 0;
  /** Σ peak RSS of the helper processes, MB (0 for threads: they count in this process). */
  lastWorkerRss = 0;

  /** How the helpers run: threads (the default) or child processes (DIFFTTS_WORKERS_AS=process; peer.ts). */
  get transport(): Transport {
    return this.peers[0]!.transport;
  }

  /** Workers, this process included. */
  get size(): number {
    return this.peers.length + 1;
  }

  /** Starts `n` − 1 helpers (n ≥ 2) building `spec` on backend `backend`; resolves when all are ready. */
  static async start<B>(task: TrainingItems<B>, spec: ReplicaSpec, n: number, backend: string): Promise<TrainPool<B>> {
    if (!(Number.isInteger(n) && n >= 2))
      throw new Error(`TrainPool.start: ${n} workers (expected an integer ≥ 2; 1 trains without a pool)`);
    const vars = [...task.trainable.variables.values()];
    const frozen = new Set(task.frozen ?? []);
    const trained = [...task.trainable.variables].filter(([name]) => !frozen.has(name)).map(([, v]) => v);
    const p = trained.reduce((s, v) => s + v.size, 0);
    const entry = new URL('./train-worker.js', import.meta.url);
    // worker 1 is this process
    const peers = Array.from({ length: n - 1 }, (_, slot) => {
      const wd: TrainWorkerData = { spec, backend, frozen: [...frozen] };
      return new Peer(`training worker ${slot + 2} of ${n}`, entry, wd);
    });
    const pool = new TrainPool(task, peers, vars, trained, p);
    try {
      const want = JSON.stringify(weightLayout(task.trainable.variables));
      const replies = await Promise.all(peers.map((q) => q.ready));
      replies.forEach((r, i) => {
        if (JSON.stringify(r.layout) !== want)
          throw new WorkerFailed(`${peers[i]!.label} failed: its model's weights differ from the main thread's`);
      });
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /**
   * The gradient (the trained model.variables concatenated, Float32 [P]) and logged terms of one step on items
   * `indices`: the same function Trainer.stepMicro computes in-process (micro-batches averaged),
   * including one nextU32 of `rng` as the step's draw seed; `step` is the 0-based optimizer step.
   */
  async gradients(
    indices: number[],
    accumulate: number,
    rng: Rng,
    step: number,
  ): Promise<{ grads: Float32Array; terms: Record<string, number> }> {
    const n = this.size;
    const seed = rng.nextU32();
    const perWorker: (Omit<ShardMsg, 'batch'> & { batch: B })[][] = Array.from({ length: n }, () => []);
    const micro = splitBatch(indices, accumulate);
    let first = 0;
    for (const idx of micro) {
      const norm = this.task.trainable.lossNorm(this.task.batch(idx));
      // consecutive runs of equal count: most of an item's cost is the U-Net's fixed segment, and
      // shards balanced on frames instead ran slower (docs/PERFORMANCE.md)
      const shards = splitBatch(idx, n);
      if (shards.length !== n) throw new Error(`TrainPool: a micro-batch of ${idx.length} items for ${n} workers`);
      let off = first;
      shards.forEach((s, j) => {
        perWorker[j]!.push({ batch: this.task.batch(s), seed, first: off, norm });
        off += s.length;
      });
      first += idx.length;
    }
    const weights = concatData(this.vars);
    const asked = Promise.all(
      this.peers.map((q, j) =>
        q.request({
          type: 'step',
          step,
          weights,
          parts: perWorker[j + 1]!.map((s) => ({ ...s, batch: compact(s.batch) })),
          divisor: micro.length,
        } satisfies StepMsg),
      ),
    ) as Promise<StepReply[]>;
    asked.catch(() => {}); // awaited below; this process's own shard may throw first
    await Promise.all(this.peers.map((q) => q.sent)); // the helpers start before this process computes
    const t1 = performance.now();
    let own: Awaited<ReturnType<typeof gradientsOf>>;
    try {
      own = await gradientsOf(
        this.task.trainable,
        this.trained,
        perWorker[0]!.map((s) => ({ batch: s.batch, draws: new ItemDraws(s.seed, s.first), norm: s.norm })),
        micro.length,
        step,
      );
    } catch (err) {
      await asked.catch(() => {}); // the helpers finish theirs, so the pool can take the next request
      // one line naming the worker, as a helper's failure reads
      throw new WorkerFailed(`training worker 1 of ${n} (this process) failed: ${firstLine(err)}`);
    }
    const t2 = performance.now();
    const { arena, acc, src } = this.sum;
    concatData(own.grads, src);
    tf.dispose(own.grads);
    arena.accumulate(acc, src, true);
    const t3 = performance.now();
    const replies = await asked;

    const p = this.p;
    for (const [j, r] of replies.entries()) {
      if (!(r.grads instanceof Float32Array) || r.grads.length !== p)
        throw new WorkerFailed(
          `${this.peers[j]!.label} failed: it replied with ${r.grads?.length ?? 'no'} gradient values (expected ${p})`,
        );
    }
    for (const r of replies) {
      src.set(r.grads);
      arena.accumulate(acc, src, false);
    }
    arena.round(src, acc);
    const grads = src.slice(); // the arena's region is next step's
    const terms: Record<string, number> = { ...own.terms };
    for (const r of replies) for (const [k, v] of Object.entries(r.terms)) terms[k] = (terms[k] ?? 0) + v;
    this.lastTimes = [[0, t2 - t1, t3 - t2], ...replies.map((r) => r.ms)];
    const procs = this.transport === 'process';
    this.lastWorkerCpu = procs ? replies.reduce((s, r) => s + r.cpuS, 0) : 0;
    this.lastWorkerRss = procs ? replies.reduce((s, r) => s + r.rssMb, 0) : 0;
    return { grads, terms };
  }

  /** The helpers' process ids (tests check that none outlives its parent). */
  get pids(): number[] {
    return this.peers.map((q) => q.pid);
  }

  /** Test hook: kills helper `j` (worker j + 2) as a crash would. */
  kill(j: number): Promise<void> {
    return this.peers[j]!.kill();
  }

  async close(): Promise<void> {
    await Promise.all(this.peers.map((q) => q.close()));
  }
}
