/**
 * The two training steps of bench/train.ts as Tasks that src/parallel's TrainPool can spread over
 * workers: the decoder-only step (fixed x0, μ and masks; items = the 4 batch rows) and the
 * whole GradTTS `tiny` step (4 synthetic utterances). Each module-level `replica` builds a
 * worker's copy; `workerStep` times either with N workers, or in the main thread for N = 1.
 */
import * as tf from '@tensorflow/tfjs';
import { cores } from '../src/parallel/workers.js';
import { TrainPool } from '../src/parallel/train-pool.js';
import type { Replica } from '../src/parallel/replica.js';
import { forwardDiffusion } from '../src/model/diffusion.js';
import { MODEL_CONFIGS, type ModelConfig } from '../src/model/configs.js';
import { ParamStore } from '../src/model/params.js';
import { scoreUNet } from '../src/model/unet.js';
import { GradTTS } from '../src/model/gradtts.js';
import { parseLossConfig } from '../src/loss/config.js';
import { gradTTSTrainable } from '../src/train/gradtts-task.js';
import { Trainer } from '../src/train/loop.js';
import type { Task } from '../src/train/task.js';
import type { Trainable } from '../src/trainable/trainable.js';
import { Rng, type ItemDraws } from '../src/util/rng.js';

export const BATCH = 4;
export const MELS = 80;
export const FRAMES = 128;

/** Grad-TTS's U-Net at dim 32 (MODEL_CONFIGS.small's decoder), as bench/train.ts's decoder rows. */
export function benchConfig(): ModelConfig {
  return { ...MODEL_CONFIGS.small, decoder: { ...MODEL_CONFIGS.small.decoder, dim: 32, mults: [1, 2, 4], groups: 8 } };
}

/** Valid frames of batch row s (the decoder rows' masks: 128, 120, 112, 104). */
const lenOf = (s: number) => FRAMES - 8 * s;

/** The decoder step on rows `batch` (indices 0..3): masked L2 noise estimation at per-row t, z. */
function decoderTrainable(cfg: ModelConfig): Replica<number[]> {
  const ps = new ParamStore(7);
  const rng = new Rng(11);
  const x0All = rng.normals(BATCH * MELS * FRAMES);
  const muAll = rng.normals(BATCH * MELS * FRAMES);
  const rows = (all: Float32Array, idx: number[]) => {
    const out = new Float32Array(idx.length * MELS * FRAMES);
    idx.forEach((s, r) => out.set(all.subarray(s * MELS * FRAMES, (s + 1) * MELS * FRAMES), r * MELS * FRAMES));
    return tf.tensor3d(out, [idx.length, MELS, FRAMES]);
  };
  const maskOf = (idx: number[]) => {
    const m = new Float32Array(idx.length * FRAMES);
    idx.forEach((s, r) => m.fill(1, r * FRAMES, r * FRAMES + lenOf(s)));
    return tf.tensor3d(m, [idx.length, 1, FRAMES]);
  };
  tf.tidy(() => {
    const all = [0, 1, 2, 3];
    scoreUNet({ ps, training: true, rng: null }, cfg, rows(x0All, all), rows(muAll, all), maskOf(all), tf.tensor1d([0.5, 0.5, 0.5, 0.5]));
  });
  ps.freeze();
  const trainable: Trainable<number[]> = {
    variables: ps.variables,
    losses: (idx: number[], draws: ItemDraws, { norm }) => {
      const streams = idx.map((_, k) => draws.rng(k));
      const t = streams.map((r) => Math.min(Math.max(r.uniform(), 1e-5), 1 - 1e-5));
      const z = new Float32Array(idx.length * MELS * FRAMES);
      streams.forEach((r, k) => z.set(r.normals(MELS * FRAMES), k * MELS * FRAMES));
      const mask = maskOf(idx);
      const zt = tf.tensor3d(z, [idx.length, MELS, FRAMES]);
      const mu = rows(muAll, idx);
      const { xt, sqrtLambda } = forwardDiffusion(rows(x0All, idx), mu, mask, t, zt, cfg.beta0, cfg.beta1);
      const score = scoreUNet({ ps, training: true, rng: null }, cfg, xt, mu, mask, tf.tensor1d(t));
      const r = tf.add(tf.mul(score, sqrtLambda), zt);
      const total = tf.div(tf.sum(tf.mul(tf.square(r), mask)), (norm ?? trainable.lossNorm(idx)).cells!) as tf.Scalar;
      return { total };
    },
    lossNorm: (idx) => ({ cells: idx.reduce((s, i) => s + lenOf(i), 0) * MELS }),
    itemCount: (idx) => idx.length,
  };
  return { trainable, dispose: () => ps.dispose() };
}

/** The bench tiny step's 4 utterances of 40–55 tokens and 150–210 frames (as bench/train.ts's timeTiny). */
function tinyItems(): { ids: Int32Array; mel: { data: Float32Array; nMels: number; frames: number } }[] {
  const rng = new Rng(21);
  const cfg = MODEL_CONFIGS.tiny;
  const ids = [40, 47, 51, 55].map((n) => Int32Array.from({ length: n }, () => rng.int(148)));
  return [150, 170, 190, 210].map((frames, i) => ({
    ids: ids[i]!,
    mel: { data: rng.normals(cfg.nFeats * frames), nMels: cfg.nFeats, frames },
  }));
}

type Kind = 'decoder' | 'tiny';

/** A worker's copy (src/parallel/replica.ts). */
export async function replica(args: unknown): Promise<Replica<unknown>> {
  const kind = (args as { kind: Kind }).kind;
  if (kind === 'decoder') return decoderTrainable(benchConfig()) as Replica<unknown>;
  const model = GradTTS.create(MODEL_CONFIGS.tiny, 148, 3);
  return {
    trainable: gradTTSTrainable(model, parseLossConfig({ type: 'l2' }, 'bench'), 0),
    dispose: () => model.dispose(),
  } as Replica<unknown>;
}

async function taskOf(kind: Kind): Promise<Task<unknown>> {
  const rep = await replica({ kind });
  const items = kind === 'tiny' ? tinyItems() : null;
  return {
    trainable: rep.trainable,
    nItems: BATCH,
    batch: (idx) => (items ? { ids: idx.map((i) => items[i]!.ids), mels: idx.map((i) => items[i]!.mel) } : idx),
    meta: { model: { kind, config: null }, nSymbols: null, textConfig: null, melConfig: null },
    replica: { module: import.meta.url, args: { kind } },
    dispose: rep.dispose,
  };
}

/**
 * One Adam step of `kind` on the whole batch, with `n` workers (peer.ts's transport: threads
 * unless DIFFTTS_WORKERS_AS=process; n = 1: Trainer.stepMicro in this thread, no pool). Returns the
 * step and a close.
 */
export async function workerStep(
  kind: Kind,
  n: number,
): Promise<{
  step: () => Promise<number>;
  close: () => Promise<void>;
  workerMs: () => number[][];
  workerCpu: () => number;
  workerRss: () => number;
}> {
  const task = await taskOf(kind);
  const trainer = new Trainer(task.trainable, {
    lr: kind === 'tiny' ? MODEL_CONFIGS.tiny.training.lr : 1e-4,
    gradClip: 0,
    maxBadSteps: 5,
    host: n > 1,
  });
  const pool = n > 1 ? await TrainPool.start(task, task.replica, n, 'wasm') : null;
  const rng = new Rng(5);
  const idx = [0, 1, 2, 3];
  const step = async () => {
    if (!pool) return (await trainer.stepMicro([task.batch(idx)], rng)).terms.total!;
    const g = await pool.gradients(idx, 1, rng, 0);
    return (await trainer.update(g.grads, g.terms)).terms.total!;
  };
  return {
    step,
    close: async () => {
      await pool?.close();
      trainer.dispose();
      task.dispose();
    },
    workerMs: () => pool?.lastTimes ?? [],
    workerCpu: () => pool?.lastWorkerCpu ?? 0,
    workerRss: () => pool?.lastWorkerRss ?? 0,
  };
}

/** Worker counts of the scaling table: 1, 2, … up to the cores, at most the batch of 4. */
export function workerCounts(): number[] {
  return Array.from({ length: Math.min(cores(), BATCH) }, (_, i) => i + 1);
}
