/**
 * The training loop's optimizer: Adam, either tfjs's (`TfAdam`, gradients as tensors) or the same
 * update over one host buffer (`HostAdam`, src/train/host-adam.ts: the worker pool's flat
 * gradient). The Trainer and checkpoints use only this interface: apply an update, take a snapshot
 * of the state, restore one. Both keep tfjs Adam's state layout, so a run resumes with either.
 */
import * as tf from '@tensorflow/tfjs';

/** Adam's state as checkpoints store it (optimizer.bin/.json). */
export interface OptimizerSnapshot {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
  /** m entries then v entries, as tfjs Adam's getWeights() lists them (none before the first update). */
  tensors: { name: string; shape: number[]; data: Float32Array }[];
}

export interface Optimizer {
  /** The rate of the next updates (the schedule sets it each step). */
  learningRate: number;
  /** Whether `apply` takes the gradient as one Float32 [P] host buffer (else tensors in variable order). */
  readonly onHost: boolean;
  /**
   * One update of `variables` from their gradients, each first multiplied by `scale` (the
   * global-norm clip; 1 = none). Returns the new weights as one Float32 [P] when it holds them on
   * the host (the moving average then reads them there), else null. The gradients stay the caller's.
   */
  apply(variables: tf.Variable[], grads: tf.Tensor[] | Float32Array, scale: number): Float32Array | null;
  snapshot(): Promise<OptimizerSnapshot>;
  /** Takes a snapshot's state (into a freshly created optimizer). */
  restore(s: OptimizerSnapshot): Promise<void>;
  dispose(): void;
}

/** Adam's private bias-correction accumulators: tfjs recomputes them as pow(β, t+1) in
 * setWeights, which differs in the last bit from the running product it keeps while training,
 * so we save and restore the exact values to make a resumed run bit-identical. */
interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

/** tfjs's Adam behind the Optimizer interface. */
export class TfAdam implements Optimizer {
  readonly onHost = false;
  readonly adam: tf.AdamOptimizer;

  constructor(learningRate: number) {
    this.adam = tf.train.adam(learningRate);
  }

  get learningRate(): number {
    return (this.adam as unknown as { learningRate: number }).learningRate;
  }

  set learningRate(lr: number) {
    // tfjs's Adam reads this plain number on every applyGradients.
    (this.adam as unknown as { learningRate: number }).learningRate = lr;
  }

  apply(variables: tf.Variable[], grads: tf.Tensor[] | Float32Array, scale: number): null {
    if (grads instanceof Float32Array) throw new Error('TfAdam.apply: expected gradient tensors');
    tf.tidy(() => {
      // The array form fixes the order Adam stores m/v in, which checkpoints rely on.
      const named = variables.map((v, i) => ({ name: v.name, tensor: scale === 1 ? grads[i]! : tf.mul(grads[i]!, scale) }));
      this.adam.applyGradients(named);
    });
    return null;
  }

  async snapshot(): Promise<OptimizerSnapshot> {
    const ws = await this.adam.getWeights();
    const iterations = (await ws[0]!.tensor.data())[0]!;
    ws[0]!.tensor.dispose(); // getWeights makes a fresh scalar for the step count each call
    const tensors = [];
    for (const w of ws.slice(1)) tensors.push({ name: w.name, shape: w.tensor.shape, data: (await w.tensor.data()) as Float32Array });
    const ad = this.adam as unknown as AdamInternals;
    return { iterations, accBeta1: (await ad.accBeta1.data())[0]!, accBeta2: (await ad.accBeta2.data())[0]!, tensors };
  }

  async restore(s: OptimizerSnapshot): Promise<void> {
    const named = [{ name: 'iter', tensor: tf.scalar(s.iterations, 'int32') as tf.Tensor }].concat(
      s.tensors.map((t) => ({ name: t.name, tensor: tf.tensor(t.data, t.shape, 'float32') })),
    );
    await this.adam.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
    const ad = this.adam as unknown as AdamInternals;
    tf.tidy(() => {
      ad.accBeta1.assign(tf.scalar(s.accBeta1));
      ad.accBeta2.assign(tf.scalar(s.accBeta2));
    });
  }

  dispose(): void {
    this.adam.dispose();
  }
}

/** A variable's name and shape, for the checkpoint layout. */
export interface SlotShape {
  name: string;
  shape: number[];
}

/**
 * An optimizer over some of a model's variables (recipe train.freeze): `apply` updates the trained
 * ones through `inner` (which holds their state alone), while snapshot and restore use the layout
 * of every variable — m then v, in model order — so a checkpoint's optimizer state does not depend
 * on what was frozen and resume and --init read it as any other. A frozen variable's m and v are
 * what the restored snapshot held for it (kept unchanged), else zeros.
 */
export class SubsetOptimizer implements Optimizer {
  /** The frozen variables' slots as last restored. */
  private readonly held = new Map<string, { m: Float32Array; v: Float32Array }>();

  constructor(
    readonly inner: Optimizer,
    /** Every variable of the model, in model order. */
    private readonly all: SlotShape[],
    /** The names of those `inner` updates (in model order, as its slots are). */
    private readonly trained: ReadonlySet<string>,
  ) {}

  get onHost(): boolean {
    return this.inner.onHost;
  }

  get learningRate(): number {
    return this.inner.learningRate;
  }

  set learningRate(lr: number) {
    this.inner.learningRate = lr;
  }

  /** `variables` and `grads` are the trained variables' (frozen ones get no gradient). */
  apply(variables: tf.Variable[], grads: tf.Tensor[] | Float32Array, scale: number): Float32Array | null {
    return this.inner.apply(variables, grads, scale);
  }

  async snapshot(): Promise<OptimizerSnapshot> {
    const s = await this.inner.snapshot();
    if (s.tensors.length === 0) return s; // before the first update, as tfjs
    const k = this.trained.size;
    const tensors: OptimizerSnapshot['tensors'] = [];
    for (const tag of ['m', 'v'] as const) {
      let i = 0;
      for (const { name, shape } of this.all) {
        const data = this.trained.has(name)
          ? s.tensors[(tag === 'm' ? 0 : k) + i++]!.data
          : (this.held.get(name)?.[tag] ?? new Float32Array(shape.reduce((a, b) => a * b, 1)));
        tensors.push({ name: `${name}/${tag}`, shape, data });
      }
    }
    return { ...s, tensors };
  }

  async restore(s: OptimizerSnapshot): Promise<void> {
    this.held.clear();
    if (s.tensors.length === 0) return this.inner.restore(s);
    const n = this.all.length;
    if (s.tensors.length !== 2 * n) throw new Error(`SubsetOptimizer.restore: ${s.tensors.length} slots (expected ${2 * n})`);
    const m: OptimizerSnapshot['tensors'] = [];
    const v: OptimizerSnapshot['tensors'] = [];
    this.all.forEach(({ name }, i) => {
      const [tm, tv] = [s.tensors[i]!, s.tensors[n + i]!];
      if (this.trained.has(name)) {
        m.push(tm);
        v.push(tv);
      } else this.held.set(name, { m: tm.data, v: tv.data });
    });
    return this.inner.restore({ ...s, tensors: [...m, ...v] });
  }

  dispose(): void {
    this.inner.dispose();
  }
}
