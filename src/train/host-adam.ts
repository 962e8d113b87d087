/**
 * Adam over one flat host-side Float32 buffer: the optimizer of the worker pool's main thread,
 * whose gradient arrives as one buffer [P] (the model's variables concatenated in order).
 *
 * tfjs's Adam runs ~10 ops per variable; over `tiny`'s 231 variables that is ~35 ms of kernel
 * launches per step on wasm, serial work that bounded the pool's step (docs/PERFORMANCE.md). One
 * SIMD loop over P floats (src/kernels/flat.ts) does the same arithmetic in ~1 ms. It is tfjs's
 * update op for op, each one IEEE float32 operation, so it gives tfjs Adam's bits on the wasm and
 * cpu backends, and its state is tfjs's: m then v per variable, the step count, and the running
 * products β1^t, β2^t kept as float32 — checkpoints written by either resume on the other.
 */
import type * as tf from '@tensorflow/tfjs';
import { FlatArena } from '../kernels/flat.js';
import { assignData, concatData } from '../util/tensor.js';
import type { Optimizer, OptimizerSnapshot } from './optimizer.js';

const f = Math.fround;

/** One variable's place in the flat buffer. */
export interface FlatSlot {
  name: string;
  shape: number[];
  size: number;
}

export class HostAdam implements Optimizer {
  readonly onHost = true;
  readonly beta1 = 0.9;
  readonly beta2 = 0.999;
  /** tfjs's default: the float32 backends' epsilon(). */
  readonly epsilon = 1e-7;
  /** First and second moments, Float32 [P] each (regions of the arena). */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Where the update runs: m, v and a weight and a gradient region the loop works in. */
  private readonly arena: FlatArena;
  private readonly w: Float32Array;
  private readonly g: Float32Array;
  /** Updates applied so far. */
  iterations = 0;
  /** β1^(t+1), β2^(t+1) as float32 running products (what tfjs keeps in accBeta1/2). */
  accBeta1 = f(0.9);
  accBeta2 = f(0.999);
  readonly size: number;

  constructor(
    readonly slots: FlatSlot[],
    /** Read on every apply; the schedule sets it each step. */
    public learningRate: number,
  ) {
    this.size = slots.reduce((s, x) => s + x.size, 0);
    this.arena = new FlatArena([this.size, this.size, this.size, this.size]);
    this.m = this.arena.f32(this.size);
    this.v = this.arena.f32(this.size);
    this.w = this.arena.f32(this.size);
    this.g = this.arena.f32(this.size);
  }

  /**
   * One update of `w` [P] in place from gradient `g` [P], each gradient first multiplied by
   * `scale` (the global-norm clip; 1 = none) as the tfjs path does.
   */
  applyFlat(w: Float32Array, g: Float32Array, scale = 1): void {
    if (w.length !== this.size || g.length !== this.size)
      throw new Error(`HostAdam.applyFlat: buffers of ${w.length} and ${g.length} floats (expected ${this.size})`);
    // the SIMD loop works in the arena: buffers from elsewhere are copied in (and w back out)
    if (w !== this.w) this.w.set(w);
    if (g !== this.g) this.g.set(g);
    this.arena.adam(this.w, this.g, this.m, this.v, {
      scale: f(scale),
      beta1: f(this.beta1),
      oneMinusBeta1: f(1 - this.beta1),
      beta2: f(this.beta2),
      oneMinusBeta2: f(1 - this.beta2),
      bc1: f(1 - this.accBeta1),
      bc2: f(1 - this.accBeta2),
      eps: f(this.epsilon),
      negLr: f(-this.learningRate),
    });
    if (w !== this.w) w.set(this.w);
    this.accBeta1 = f(this.accBeta1 * f(this.beta1));
    this.accBeta2 = f(this.accBeta2 * f(this.beta2));
    this.iterations++;
  }

  /**
   * The Optimizer update: the variables' weights are read straight into the arena's weight region,
   * updated there in place (no copy in or out) and assigned back; returns that region.
   */
  apply(variables: tf.Variable[], grads: tf.Tensor[] | Float32Array, scale: number): Float32Array {
    if (!(grads instanceof Float32Array)) throw new Error('HostAdam.apply: expected one Float32 gradient buffer');
    const w = concatData(variables, this.w);
    this.applyFlat(w, grads, scale);
    assignData(variables, w);
    return w;
  }

  /** The state in checkpoint.ts's layout (m entries then v entries; none before the first update, as tfjs). */
  async snapshot(): Promise<OptimizerSnapshot> {
    const tensors: OptimizerSnapshot['tensors'] = [];
    if (this.iterations > 0) {
      for (const [buf, tag] of [
        [this.m, 'm'],
        [this.v, 'v'],
      ] as const) {
        let off = 0;
        for (const s of this.slots) {
          tensors.push({ name: `${s.name}/${tag}`, shape: s.shape, data: buf.slice(off, off + s.size) });
          off += s.size;
        }
      }
    }
    return { iterations: this.iterations, accBeta1: this.accBeta1, accBeta2: this.accBeta2, tensors };
  }

  /** Takes a snapshot's state (m and v slots in variable order; none = a fresh optimizer). */
  async restore(s: OptimizerSnapshot): Promise<void> {
    const n = this.slots.length;
    if (s.tensors.length !== 0 && s.tensors.length !== 2 * n)
      throw new Error(`HostAdam.restore: ${s.tensors.length} slots (expected ${2 * n})`);
    this.m.fill(0);
    this.v.fill(0);
    let off = 0;
    this.slots.forEach((slot, i) => {
      if (s.tensors.length) {
        const [tm, tv] = [s.tensors[i]!, s.tensors[n + i]!];
        if (tm.data.length !== slot.size || tv.data.length !== slot.size)
          throw new Error(`HostAdam.restore: slot ${i} holds ${tm.data.length} floats (expected ${slot.size})`);
        this.m.set(tm.data, off);
        this.v.set(tv.data, off);
      }
      off += slot.size;
    });
    this.iterations = s.iterations;
    this.accBeta1 = f(s.accBeta1);
    this.accBeta2 = f(s.accBeta2);
  }

  /** Nothing to release: the arena is garbage-collected with it. */
  dispose(): void {}
}
