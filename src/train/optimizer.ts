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
