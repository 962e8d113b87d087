/**
 * `npm run bench train`: one Grad-TTS decoder training step on tfjs-wasm vs PyTorch on the CPU.
 *
 * Work: the decoder U-Net (src/model/unet.ts scoreUNet, dim 32, mults 1/2/4, groups 8), batch 4,
 * 80 mels × 128 frames, forward diffusion at random t, masked L2 noise-estimation loss, backward,
 * Adam. Timed as the median of REPS steps after WARMUP, on one thread (wasm has no threads in Node).
 *
 * FLOPs (same count for both sides): 2·MACs of every conv / transposed conv / linear / attention
 * matmul of the forward, computed analytically from the layer shapes (`decoderForwardFlops`), ×3
 * for forward + backward (dx and dW each cost one forward's MACs).
 *
 * Variants: `wasm (model ops)` = src/model/ops.ts's own gradient replacements; `wasm (fast
 * kernels)` = after registerFastWasmKernels() (src/kernels), which the model picks up unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { type BenchRow, ensurePeer, median, runPeer, timeIt } from './common.js';
import { repoRoot } from '../src/testing/paths.js';
import { MODEL_CONFIGS, type ModelConfig } from '../src/model/configs.js';
import { scoreUNet } from '../src/model/unet.js';
import { ParamStore } from '../src/model/params.js';
import { forwardDiffusion } from '../src/model/diffusion.js';
import { registerFastWasmKernels, unregisterFastWasmKernels } from '../src/kernels/register.js';
import { Rng } from '../src/util/rng.js';

const BATCH = 4;
const MELS = 80;
const FRAMES = 128;
const REPS = Number(process.env.DIFFTTS_BENCH_REPS ?? 3);
const WARMUP = 1;

/**
 * Forward FLOPs (2·MACs) of the Grad-TTS decoder at batch b, f mels × w frames: convs, transposed
 * convs, linears and the two matmuls of each linear attention (4 heads × 32).
 */
export function decoderForwardFlops(dim: number, mults: number[], b: number, f: number, w: number): number {
  const hidden = 4 * 32;
  let total = 0;
  const conv = (px: number, k: number, cin: number, cout: number) => { total += 2 * px * k * k * cin * cout; };
  const resnet = (px: number, cin: number, cout: number) => {
    conv(px, 3, cin, cout);
    conv(px, 3, cout, cout);
    if (cin !== cout) conv(px, 1, cin, cout);
    total += 2 * b * dim * cout; // time MLP
  };
  const attn = (px: number, c: number) => {
    conv(px, 1, c, 3 * hidden);
    conv(px, 1, hidden, c);
    total += 2 * 2 * px * 32 * hidden; // context (k·vᵀ) and out (context·q), per head 32×32
  };
  total += 2 * b * (dim * 4 * dim + 4 * dim * dim); // time MLP
  const dims = [2, ...mults.map((m) => dim * m)];
  let px = b * f * w;
  const pxs: number[] = [];
  for (let i = 0; i < mults.length; i++) {
    resnet(px, dims[i]!, dims[i + 1]!);
    resnet(px, dims[i + 1]!, dims[i + 1]!);
    attn(px, dims[i + 1]!);
    pxs.push(px);
    if (i < mults.length - 1) { px /= 4; conv(px, 3, dims[i + 1]!, dims[i + 1]!); }
  }
  const mid = dims[dims.length - 1]!;
  resnet(px, mid, mid); attn(px, mid); resnet(px, mid, mid);
  for (let i = mults.length - 2; i >= 0; i--) {
    const c = dims[i + 1]!;
    resnet(px, 2 * dims[i + 2]!, c);
    resnet(px, c, c);
    attn(px, c);
    total += 2 * px * 16 * c * c; // ConvTranspose 4×4 s2: every input pixel × 16 taps
    px *= 4;
  }
  conv(px, 3, dim, dim);
  conv(px, 1, dim, 1);
  return total;
}

/** A decoder-only training step (Adam) on fixed data; returns the step function and a dispose. */
export function decoderStep(cfg: ModelConfig): { step: () => number; dispose: () => void } {
  const ps = new ParamStore(7);
  const rng = new Rng(11);
  const x0 = tf.tensor3d(rng.normals(BATCH * MELS * FRAMES), [BATCH, MELS, FRAMES]);
  const mu = tf.tensor3d(rng.normals(BATCH * MELS * FRAMES), [BATCH, MELS, FRAMES]);
  const m = new Float32Array(BATCH * FRAMES);
  for (let s = 0; s < BATCH; s++) m.fill(1, s * FRAMES, s * FRAMES + FRAMES - 8 * s);
  const mask = tf.tensor3d(m, [BATCH, 1, FRAMES]);
  const ctx = { ps, training: true, rng };
  // create the weights
  tf.tidy(() => { scoreUNet(ctx, cfg, x0, mu, mask, tf.tensor1d([0.5, 0.5, 0.5, 0.5])); });
  ps.freeze();
  const opt = tf.train.adam(1e-4);
  const vars = [...ps.variables.values()];
  const step = () => {
    const t = [...Array(BATCH)].map(() => Math.min(Math.max(rng.uniform(), 1e-5), 1 - 1e-5));
    const lossVal = tf.tidy(() => {
      const z = tf.tensor3d(rng.normals(BATCH * MELS * FRAMES), [BATCH, MELS, FRAMES]);
      const { value, grads } = tf.variableGrads(() => {
        const { xt, sqrtLambda } = forwardDiffusion(x0, mu, mask, t, z, cfg.beta0, cfg.beta1);
        const score = scoreUNet(ctx, cfg, xt, mu, mask, tf.tensor1d(t));
        const r = tf.add(tf.mul(score, sqrtLambda), z);
        return tf.div(tf.sum(tf.mul(tf.square(r), mask)), tf.mul(tf.sum(mask), MELS)) as tf.Scalar;
      }, vars);
      opt.applyGradients(grads as tf.NamedTensorMap as never);
      return value.dataSync()[0]!;
    });
    return lossVal;
  };
  return { step, dispose: () => { opt.dispose(); ps.dispose(); tf.dispose([x0, mu, mask]); } };
}

async function timeDecoder(label: string, cfg: ModelConfig): Promise<{ s: number; times: number[]; loss: number }> {
  const { step, dispose } = decoderStep(cfg);
  let loss = NaN;
  const times = await timeIt(() => { loss = step(); }, REPS, WARMUP);
  dispose();
  process.stderr.write(`bench train: ${label}: ${times.map((x) => x.toFixed(2)).join(', ')} s (loss ${loss.toFixed(3)})\n`);
  return { s: median(times), times, loss };
}

export async function run(): Promise<BenchRow[]> {
  await tf.setBackend('wasm');
  const cfg: ModelConfig = { ...MODEL_CONFIGS.small, decoder: { ...MODEL_CONFIGS.small.decoder, dim: 32 } };
  const { dim, mults } = cfg.decoder;
  const flops = 3 * decoderForwardFlops(dim, mults, BATCH, MELS, FRAMES);
  const rows: BenchRow[] = [];

  const peerWhy = ensurePeer(['torch']);
  const peer = (threads: number): { s: number | null; note: string } => {
    if (peerWhy) return { s: null, note: peerWhy };
    const r = runPeer(join(repoRoot, 'bench', 'peer', 'train_step.py'),
      ['--dim', String(dim), '--batch', String(BATCH), '--frames', String(FRAMES), '--threads', String(threads), '--reps', String(REPS), '--warmup', String(WARMUP)]);
    if (typeof r === 'string') return { s: null, note: r };
    const pf = r.flops_per_step!;
    return { s: r.seconds_per_step!, note: `torch ${threads} thr; peer-counted FLOPs ${(pf / 1e9).toFixed(2)} G` };
  };

  const variants: [string, () => void][] = [
    ['fast kernels', () => registerFastWasmKernels()],
    ['model ops', () => unregisterFastWasmKernels()],
  ];
  for (const [label, setup] of variants) {
    setup();
    const p1 = peer(1);
    const d = await timeDecoder(label, cfg);
    rows.push({
      name: `decoder step dim ${dim} B${BATCH} ${MELS}×${FRAMES} — wasm (${label}) vs torch 1 thr`,
      difftts_s: d.s, peer_s: p1.s, ratio: p1.s ? d.s / p1.s : null, gflops: flops / d.s / 1e9,
      notes: `wasm min ${d.times[0]!.toFixed(2)} max ${d.times[d.times.length - 1]!.toFixed(2)}; ${p1.note}; ${(flops / 1e9).toFixed(1)} GFLOP/step`,
    });
  }
  unregisterFastWasmKernels();
  return rows;
}
