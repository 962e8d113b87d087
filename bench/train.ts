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
 * Variants (each in its own node process): `fast` = after registerFastWasmKernels() (src/kernels),
 * which the model picks up unchanged; `model` = src/model/ops.ts's own gradient replacements only.
 * `webgpu` / `tiny-webgpu` run the same two steps on tfjs-backend-webgpu (Dawn) whenever an adapter
 * exists — a software one (lavapipe) included, labelled as such: its times say nothing about a GPU.
 * DIFFTTS_BENCH_WEBGPU=off skips them (lavapipe needs minutes per step on 2 cores).
 * The PyTorch peer (bench/peer/train_step.py: 1 thread with OpenBLAS — the fair peer —, 1 thread
 * with Debian's default reference BLAS, 2 threads with OpenBLAS) runs in between, in the same
 * invocation, so that load from other processes on this shared machine hits both sides alike.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { type BenchRow, aptInstall, ensurePeer, envInt, median, runPeer, timeIt } from './common.js';
import { repoRoot } from '../src/testing/paths.js';
import { MODEL_CONFIGS, type ModelConfig } from '../src/model/configs.js';
import { scoreUNet } from '../src/model/unet.js';
import { ParamStore } from '../src/model/params.js';
import { forwardDiffusion } from '../src/model/diffusion.js';
import { registerFastWasmKernels } from '../src/kernels/register.js';
import { setWinogradMode } from '../src/kernels/winograd.js';
import { capabilities, initBackend } from '../src/backend/index.js';
import { describeAdapter } from '../src/backend/webgpu.js';
import { Rng } from '../src/util/rng.js';
import { BATCH, FRAMES, MELS, benchConfig, workerCounts, workerStep } from './parallel-tasks.js';
import { cores } from '../src/parallel/workers.js';
const REPS = envInt('DIFFTTS_BENCH_REPS', 3, 1);
const WARMUP = 1;
/** Worker rows warm up longer: every worker's wasm tiers up and grows its heap on its own (the first steps take 2–4× longer). */
const WARMUP_WORKERS = envInt('DIFFTTS_BENCH_WARMUP_WORKERS', 10, 0);
/**
 * Rounds of the all-core rows (torch with N threads, the decoder and tiny steps at 1…N workers, the
 * process variants), interleaved: this shared 2-vCPU machine switches between speeds that differ up
 * to 3× for tens of seconds (a fixed integer loop: 0.55 s or 1.7 s), so one pass can time two
 * variants under different conditions. Each row reports the median of its per-round medians, and
 * the scaling rows each round's speed-up.
 */
const ROUNDS = envInt('DIFFTTS_BENCH_ROUNDS', 3, 1);
/** Debian's single-threaded OpenBLAS (package libopenblas0-serial). */
const OPENBLAS_DIR = '/usr/lib/x86_64-linux-gnu/openblas-serial';

/**
 * Forward FLOPs (2·MACs) of the Grad-TTS decoder at batch b, f mels × w frames: convs, transposed
 * convs, linears and the two matmuls of each linear attention (4 heads × 32).
 */
export function decoderForwardFlops(dim: number, mults: number[], b: number, f: number, w: number): number {
  const hidden = 4 * 32;
  let total = 0;
  const conv = (px: number, k: number, cin: number, cout: number) => {
    total += 2 * px * k * k * cin * cout;
  };
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
    if (i < mults.length - 1) {
      px /= 4;
      conv(px, 3, dims[i + 1]!, dims[i + 1]!);
    }
  }
  const mid = dims[dims.length - 1]!;
  resnet(px, mid, mid);
  attn(px, mid);
  resnet(px, mid, mid);
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
export function decoderStep(cfg: ModelConfig): { step: () => Promise<number>; dispose: () => void } {
  const ps = new ParamStore(7);
  const rng = new Rng(11);
  const x0 = tf.tensor3d(rng.normals(BATCH * MELS * FRAMES), [BATCH, MELS, FRAMES]);
  const mu = tf.tensor3d(rng.normals(BATCH * MELS * FRAMES), [BATCH, MELS, FRAMES]);
  const m = new Float32Array(BATCH * FRAMES);
  for (let s = 0; s < BATCH; s++) m.fill(1, s * FRAMES, s * FRAMES + FRAMES - 8 * s);
  const mask = tf.tensor3d(m, [BATCH, 1, FRAMES]);
  const ctx = { ps, training: true, rng: null };
  // create the weights
  tf.tidy(() => {
    scoreUNet(ctx, cfg, x0, mu, mask, tf.tensor1d([0.5, 0.5, 0.5, 0.5]));
  });
  ps.freeze();
  const opt = tf.train.adam(1e-4);
  const vars = [...ps.variables.values()];
  const step = async () => {
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
      return value;
    });
    return readScalar(lossVal);
  };
  return {
    step,
    dispose: () => {
      opt.dispose();
      ps.dispose();
      tf.dispose([x0, mu, mask]);
    },
  };
}

/** The value of a scalar (async: webgpu cannot read synchronously), then disposes it. */
async function readScalar(t: tf.Tensor): Promise<number> {
  const v = (await t.data())[0]!;
  t.dispose();
  return v;
}

async function timeDecoder(cfg: ModelConfig, reps = REPS): Promise<{ times: number[]; loss: number }> {
  const { step, dispose } = decoderStep(cfg);
  let loss = NaN;
  const times = await timeIt(
    async () => {
      loss = await step();
    },
    reps,
    WARMUP,
  );
  dispose();
  return { times, loss };
}

/**
 * One full training step of MODEL_CONFIGS.tiny (encoder, duration predictor, MAS, prior and
 * diffusion losses, Adam) on 4 synthetic utterances of 40–55 tokens and 150–210 frames.
 */
async function timeTiny(reps = REPS): Promise<{ times: number[]; loss: number }> {
  const { GradTTS } = await import('../src/model/gradtts.js');
  const { parseLossConfig } = await import('../src/loss/config.js');
  const cfg = MODEL_CONFIGS.tiny;
  const nSymbols = 148;
  const model = GradTTS.create(cfg, nSymbols, 3);
  const rng = new Rng(21);
  const ids = [40, 47, 51, 55].map((n) => Int32Array.from({ length: n }, () => rng.int(nSymbols)));
  const mels = [150, 170, 190, 210].map((frames) => ({ data: rng.normals(cfg.nFeats * frames), nMels: cfg.nFeats, frames }));
  const loss = parseLossConfig({ type: 'l2' }, 'bench');
  const vars = [...model.variables.values()];
  const opt = tf.train.adam(cfg.training.lr);
  let last = NaN;
  const times = await timeIt(
    async () => {
      // webgpu: the MAS alignment is read first, as the trainer does (Trainable.prepare)
      const batch = capabilities().syncReads
        ? { ids, mels }
        : { ids, mels, paths: await model.alignments({ ids, mels }, Rng.fromState(rng.state())) };
      last = await readScalar(
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => model.losses(batch, loss, rng).total, vars);
          opt.applyGradients(grads as tf.NamedTensorMap as never);
          return value;
        }),
      );
    },
    reps,
    WARMUP,
  );
  opt.dispose();
  return { times, loss: last };
}

const VARIANTS = {
  fast: 'wasm + src/kernels (registerFastWasmKernels)',
  'fast-direct': 'wasm + src/kernels with direct 3×3 convs (DIFFTTS_WINOGRAD=0)',
  model: 'wasm + src/model/ops.ts replacements only',
  'tiny-fast': 'full GradTTS tiny step, wasm + src/kernels',
  'tiny-model': 'full GradTTS tiny step, wasm + src/model/ops.ts only',
  webgpu: 'webgpu (Dawn)',
  'tiny-webgpu': 'full GradTTS tiny step, webgpu (Dawn)',
} as const;
type Variant = keyof typeof VARIANTS;

/**
 * `decoder-wN` / `tiny-wN`: the decoder or tiny step with N workers (bench/parallel-tasks.ts), child
 * threads as difftts runs them; `…-process`: child processes instead (DIFFTTS_WORKERS_AS=process).
 */
type WorkerVariant = `${'decoder' | 'tiny'}-w${number}` | `${'decoder' | 'tiny'}-w${number}-process`;
const isWorkerVariant = (v: string): v is WorkerVariant => /^(decoder|tiny)-w[1-9]\d*(-process)?$/.test(v);

/** Child-process entry: times one variant in a fresh wasm heap and prints JSON on the last line (peak RSS in MB too). */
async function child(variant: Variant | WorkerVariant): Promise<void> {
  let adapter: string | undefined;
  let reps = REPS;
  if (variant.endsWith('webgpu')) {
    const c = await initBackend('webgpu');
    adapter = c.adapter ? describeAdapter(c.adapter) : 'adapter unknown';
    if (c.adapter?.software) reps = 1; // lavapipe: over a minute per step on 2 cores
  } else {
    await tf.setBackend('wasm');
    if (variant.endsWith('fast') || variant === 'fast-direct' || isWorkerVariant(variant)) registerFastWasmKernels();
    if (variant === 'fast-direct') setWinogradMode('off');
  }
  let r: { times: number[]; loss: number };
  let cpuPerStep: number | null = null;
  let workerRssMb = 0;
  if (isWorkerVariant(variant)) {
    const [kind, rest] = variant.split('-w') as ['decoder' | 'tiny', string];
    process.env.DIFFTTS_WORKERS_AS = variant.endsWith('-process') ? 'process' : 'thread';
    const { step, close, workerCpu, workerRss } = await workerStep(kind, parseInt(rest, 10));
    let loss = NaN;
    // CPU seconds of all threads and worker processes per timed step: how much work a step is, whatever share of the cores the load left us
    let cpu = 0;
    let calls = 0;
    r = {
      times: await timeIt(
        async () => {
          const c0 = process.cpuUsage();
          loss = await step();
          const c = process.cpuUsage(c0);
          if (calls++ >= WARMUP_WORKERS) cpu += (c.user + c.system) / 1e6 + workerCpu();
        },
        REPS,
        WARMUP_WORKERS,
      ),
      loss,
    };
    r.loss = loss;
    cpuPerStep = cpu / REPS;
    workerRssMb = workerRss();
    await close();
  } else r = variant.startsWith('tiny') ? await timeTiny(reps) : await timeDecoder(benchConfig(), reps);
  console.log(
    JSON.stringify({
      seconds_per_step: median(r.times),
      times: r.times,
      loss: r.loss,
      adapter,
      rss_mb: process.resourceUsage().maxRSS / 1024 + workerRssMb,
      cpu_per_step: cpuPerStep,
    }),
  );
}

/** Runs `variant` in its own node process (a fresh 4 GB wasm heap each; heaps never shrink). */
function runChild(
  variant: Variant | WorkerVariant,
): { s: number; times: number[]; adapter?: string; rss: number; cpu: number | null } | string {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', variant], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(last) as {
      seconds_per_step: number;
      times: number[];
      adapter?: string;
      rss_mb: number;
      cpu_per_step: number | null;
    };
    return { s: j.seconds_per_step, times: j.times, adapter: j.adapter, rss: j.rss_mb, cpu: j.cpu_per_step };
  } catch {
    return `${variant} failed: ${(r.stderr || last).trim().split('\n').slice(-3).join(' | ').slice(0, 200)}`;
  }
}

/** Whether the webgpu rows run: an adapter exists (probed quietly) and DIFFTTS_BENCH_WEBGPU is not 'off'. */
async function webgpuPlan(): Promise<string | null> {
  if (process.env.DIFFTTS_BENCH_WEBGPU === 'off') return 'DIFFTTS_BENCH_WEBGPU=off';
  const { probeAdapterQuietly } = await import('../src/backend/webgpu.js');
  const p = probeAdapterQuietly();
  return 'reason' in p ? p.reason : null;
}

export async function run(): Promise<BenchRow[]> {
  const cfg = benchConfig();
  const { dim, mults } = cfg.decoder;
  const flops = 3 * decoderForwardFlops(dim, mults, BATCH, MELS, FRAMES);
  const rows: BenchRow[] = [];
  const peerWhy = ensurePeer(['torch']);
  /**
   * Debian's python3-torch calls BLAS through libblas.so.3, which defaults to the netlib reference
   * BLAS (its convs fall back to im2col + that BLAS: ~9 GFLOP/s). With OpenBLAS (Debian's
   * libopenblas0-serial, single-threaded) the same torch runs ~4× faster, so that is the peer we
   * compare against; it is loaded for the peer process only (LD_LIBRARY_PATH), leaving the
   * system's BLAS alternative alone.
   */
  const hasOpenblas = () => existsSync(join(OPENBLAS_DIR, 'libblas.so.3'));
  const openblas = hasOpenblas() || (!peerWhy && aptInstall(['libopenblas0-serial']) && hasOpenblas()) ? OPENBLAS_DIR : null;
  /** One torch run: its median step, fastest step, and a note (`label` + seconds, or why it did not run). */
  type PeerResult = { s: number | null; min: number | null; note: string; label: string; rounds?: number[] };
  const peer = (threads: number, useOpenblas: boolean): PeerResult => {
    const label = `torch ${threads} thr ${useOpenblas ? 'OpenBLAS' : 'reference BLAS'}`;
    if (peerWhy) return { s: null, min: null, note: peerWhy, label };
    if (useOpenblas && !openblas)
      return { s: null, min: null, note: `no OpenBLAS at ${OPENBLAS_DIR} (apt-get install libopenblas0-serial)`, label };
    const saved = process.env.LD_LIBRARY_PATH;
    if (useOpenblas) process.env.LD_LIBRARY_PATH = openblas! + (saved ? `:${saved}` : '');
    try {
      const r = runPeer(join(repoRoot, 'bench', 'peer', 'train_step.py'), [
        '--dim',
        String(dim),
        '--batch',
        String(BATCH),
        '--frames',
        String(FRAMES),
        '--threads',
        String(threads),
        '--reps',
        String(REPS),
        '--warmup',
        String(WARMUP),
      ]);
      if (typeof r === 'string') return { s: null, min: null, note: r, label };
      const pf = r.flops_per_step!;
      const times = (r as unknown as { times: number[] }).times;
      if (Math.abs(pf - flops) > 1e-6 * flops) process.stderr.write(`bench train: FLOP counts differ: ours ${flops}, peer's hooks ${pf}\n`);
      return { s: r.seconds_per_step!, min: Math.min(...times), note: `${label} ${r.seconds_per_step!.toFixed(2)} s`, label };
    } finally {
      if (useOpenblas) {
        if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
        else process.env.LD_LIBRARY_PATH = saved;
      }
    }
  };
  const fmtTimes = (t: number[]) => t.map((x) => x.toFixed(2)).join('/');
  // Peer and difftts alternate so that load from other processes hits both alike.
  const bar = new cliProgress.SingleBar(
    { format: 'bench train [{bar}] {value}/{total} {what}', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  type PeerKey = 'torch1-openblas' | 'torch1-ref' | 'torch2-openblas' | 'torchN-openblas';
  const noWebgpu = await webgpuPlan();
  // N = the cores, at most the batch: the decoder at N workers next to torch with N threads, then the tiny scaling table
  const nAll = Math.min(cores(), BATCH);
  const tinyPlan: WorkerVariant[] = workerCounts().map((n) => `tiny-w${n}` as WorkerVariant);
  // the same all-core step with worker processes (the default until 2026-12-02): the reason for threads
  const procPlan: WorkerVariant[] = nAll > 1 ? [`tiny-w${nAll}-process`, `decoder-w${nAll}-process`] : [];
  const once: (Variant | PeerKey)[] = [
    'torch1-openblas',
    'fast',
    'fast-direct',
    'torch1-ref',
    'model',
    'torch2-openblas',
    'tiny-fast',
    'tiny-model',
    ...(noWebgpu ? [] : (['webgpu', 'tiny-webgpu'] as const)),
  ];
  const perRound: (PeerKey | WorkerVariant)[] = ['torchN-openblas', `decoder-w${nAll}`, ...tinyPlan, ...procPlan];
  const plan = [...once, ...Array.from({ length: ROUNDS }, () => perRound).flat()];
  bar.start(plan.length, 0, { what: '' });
  type OurResult = { s: number; times: number[]; adapter?: string; rss: number; cpu: number | null; rounds?: number[] };
  const peerRuns: Partial<Record<PeerKey, PeerResult[]>> = {};
  const ourRuns: Partial<Record<Variant | WorkerVariant, (OurResult | string)[]>> = {};
  for (const p of plan) {
    bar.update({ what: p });
    if (p === 'torch1-openblas') (peerRuns[p] ??= []).push(peer(1, true));
    else if (p === 'torch1-ref') (peerRuns[p] ??= []).push(peer(1, false));
    else if (p === 'torch2-openblas') (peerRuns[p] ??= []).push(peer(2, true));
    else if (p === 'torchN-openblas') (peerRuns[p] ??= []).push(peer(nAll, true));
    else (ourRuns[p] ??= []).push(runChild(p));
    bar.increment();
  }
  bar.stop();
  // rounds → one result each: the median of the round medians (a failed round fails the row)
  const peers: Partial<Record<PeerKey, PeerResult>> = {};
  for (const [k, rs] of Object.entries(peerRuns) as [PeerKey, PeerResult[]][]) {
    const ok = rs.every((r) => r.s !== null);
    peers[k] =
      !ok || rs.length === 1
        ? (rs.find((r) => r.s === null) ?? rs[0]!)
        : {
            s: median(rs.map((r) => r.s!)),
            min: Math.min(...rs.map((r) => r.min!)),
            rounds: rs.map((r) => r.s!),
            label: rs[0]!.label,
            note: `${rs[0]!.label} ${median(rs.map((r) => r.s!)).toFixed(2)} s (round medians ${rs.map((r) => r.s!.toFixed(2)).join('/')})`,
          };
  }
  const ours: Partial<Record<Variant | WorkerVariant, OurResult | string>> = {};
  for (const [k, rs] of Object.entries(ourRuns) as [Variant | WorkerVariant, (OurResult | string)[]][]) {
    const bad = rs.find((r): r is string => typeof r === 'string');
    const good = rs as OurResult[];
    ours[k] =
      bad ??
      (good.length === 1
        ? good[0]!
        : {
            s: median(good.map((r) => r.s)),
            times: good.flatMap((r) => r.times).sort((a, b) => a - b),
            rss: Math.max(...good.map((r) => r.rss)),
            cpu: good.every((r) => r.cpu !== null) ? good.reduce((a, r) => a + r.cpu!, 0) / good.length : null,
            rounds: good.map((r) => r.s),
          });
  }
  const roundsNote = (o: OurResult) => (o.rounds ? `; round medians ${fmtTimes(o.rounds)} s` : '');
  const p1 = peers['torch1-openblas']!,
    pr = peers['torch1-ref']!,
    p2 = peers['torch2-openblas']!;
  const ratioTo = (s: number, p: { s: number | null }) => (p.s ? (s / p.s).toFixed(2) : '—');
  for (const v of ['fast', 'fast-direct', 'model'] as const) {
    const o = ours[v]!;
    if (typeof o === 'string') {
      rows.push({ name: `decoder train step — ${VARIANTS[v]}`, difftts_s: NaN, peer_s: p1.s, ratio: null, gflops: null, notes: o });
      continue;
    }
    rows.push({
      name: `decoder train step dim ${dim} B${BATCH} ${MELS}×${FRAMES} Adam — ${VARIANTS[v]} vs torch 1 thread + OpenBLAS`,
      difftts_s: o.s,
      peer_s: p1.s,
      ratio: p1.s ? o.s / p1.s : null,
      gflops: flops / o.s / 1e9,
      notes:
        `wasm steps ${fmtTimes(o.times)} s; torch ${p1.s ? (flops / p1.s / 1e9).toFixed(1) : '—'} GFLOP/s; ` +
        `ratio of fastest steps (least load-affected) ${p1.min ? (o.times[0]! / p1.min).toFixed(2) : '—'}; ` +
        `vs ${pr.note}: ratio ${ratioTo(o.s, pr)}; vs ${p2.note}: ratio ${ratioTo(o.s, p2)}; ${(flops / 1e9).toFixed(1)} GFLOP/step (3 × 2·MACs fwd)`,
    });
  }
  const fd = ours['fast-direct'],
    ff = ours.fast;
  if (typeof fd === 'object' && typeof ff === 'object') {
    rows.push({
      name: `decoder train step dim ${dim} B${BATCH} ${MELS}×${FRAMES} Adam — Winograd 3×3 convs (default) vs direct (DIFFTTS_WINOGRAD=0)`,
      difftts_s: ff.s,
      peer_s: fd.s,
      ratio: ff.s / fd.s,
      gflops: flops / ff.s / 1e9,
      notes: `"peer" column = the direct kernels; effective GFLOP/s = direct-convolution FLOPs ÷ time (Winograd does fewer); direct ${(flops / fd.s / 1e9).toFixed(1)} GFLOP/s; fastest steps ${(ff.times[0]! / fd.times[0]!).toFixed(2)}`,
    });
  }
  const tf1 = ours['tiny-fast']!,
    tm = ours['tiny-model']!;
  if (typeof tf1 !== 'string' && typeof tm !== 'string') {
    rows.push({
      name: 'GradTTS tiny full training step B4 (encoder+MAS+decoder seg 64, Adam) — wasm + src/kernels vs wasm + model ops only',
      difftts_s: tf1.s,
      peer_s: tm.s,
      ratio: tf1.s / tm.s,
      gflops: null,
      notes: `"peer" column here = the same step without src/kernels; steps ${fmtTimes(tf1.times)} vs ${fmtTimes(tm.times)} s`,
    });
  } else {
    rows.push({
      name: 'GradTTS tiny full training step',
      difftts_s: NaN,
      peer_s: null,
      ratio: null,
      gflops: null,
      notes: [tf1, tm].filter((x) => typeof x === 'string').join('; '),
    });
  }
  if (noWebgpu) process.stderr.write(`bench train: no webgpu rows (${noWebgpu})\n`);
  const wd = ours.webgpu,
    wt = ours['tiny-webgpu'];
  if (wd) {
    rows.push(
      typeof wd === 'string'
        ? { name: 'decoder train step — webgpu', difftts_s: NaN, peer_s: null, ratio: null, gflops: null, notes: wd }
        : {
            name: `decoder train step dim ${dim} B${BATCH} ${MELS}×${FRAMES} Adam — webgpu vs wasm + src/kernels`,
            difftts_s: wd.s,
            peer_s: typeof ours.fast === 'object' ? ours.fast.s : null,
            ratio: typeof ours.fast === 'object' ? wd.s / ours.fast.s : null,
            gflops: flops / wd.s / 1e9,
            notes: `"peer" column = wasm + src/kernels; adapter ${wd.adapter}; steps ${fmtTimes(wd.times)} s`,
          },
    );
  }
  if (wt) {
    rows.push(
      typeof wt === 'string'
        ? { name: 'GradTTS tiny full training step — webgpu', difftts_s: NaN, peer_s: null, ratio: null, gflops: null, notes: wt }
        : {
            name: 'GradTTS tiny full training step B4 — webgpu vs wasm + src/kernels',
            difftts_s: wt.s,
            peer_s: typeof tf1 === 'object' ? tf1.s : null,
            ratio: typeof tf1 === 'object' ? wt.s / tf1.s : null,
            gflops: null,
            notes: `"peer" column = wasm + src/kernels; adapter ${wt.adapter}; steps ${fmtTimes(wt.times)} s`,
          },
    );
  }
  const pN = peers['torchN-openblas']!;
  const dw = ours[`decoder-w${nAll}`]!;
  const one = ours.fast;
  rows.push(
    typeof dw === 'string'
      ? { name: `decoder train step with ${nAll} workers`, difftts_s: NaN, peer_s: pN.s, ratio: null, gflops: null, notes: dw }
      : {
          name: `decoder train step dim ${dim} B${BATCH} ${MELS}×${FRAMES} Adam — ${nAll} workers (src/parallel, all cores) vs torch ${nAll} threads + OpenBLAS`,
          difftts_s: dw.s,
          peer_s: pN.s,
          ratio: pN.s ? dw.s / pN.s : null,
          gflops: flops / dw.s / 1e9,
          notes:
            `steps ${fmtTimes(dw.times)} s${roundsNote(dw)}; ${pN.note}; ratio of fastest steps ${pN.min ? (dw.times[0]! / pN.min).toFixed(2) : '—'}; ` +
            `speed-up over 1 thread ${typeof one === 'object' ? (one.s / dw.s).toFixed(2) : '—'}×; CPU ${dw.cpu?.toFixed(2)} s/step over all processes; peak RSS ${dw.rss.toFixed(0)} MB (all processes)`,
        },
  );
  // scaling table: the whole tiny step at 1…N workers
  const base = ours[tinyPlan[0]!];
  for (const v of tinyPlan) {
    const o = ours[v]!;
    const n = Number(v.split('-w')[1]);
    if (typeof o === 'string') {
      rows.push({
        name: `GradTTS tiny step, ${n} worker${n > 1 ? 's' : ''}`,
        difftts_s: NaN,
        peer_s: null,
        ratio: null,
        gflops: null,
        notes: o,
      });
      continue;
    }
    const b = typeof base === 'object' ? base : null;
    rows.push({
      name: `GradTTS tiny full training step B4 — ${n} worker${n > 1 ? 's' : ' (main thread)'} (src/parallel) vs 1`,
      difftts_s: o.s,
      peer_s: b?.s ?? null,
      ratio: b ? o.s / b.s : null,
      gflops: null,
      notes:
        `"peer" column = the same step in the main thread; speed-up ${b ? (b.s / o.s).toFixed(2) : '—'}× (fastest steps ${b ? (b.times[0]! / o.times[0]!).toFixed(2) : '—'}×${b?.rounds && o.rounds ? `; per round ${o.rounds.map((x, i) => (b.rounds![i]! / x).toFixed(2)).join('/')}×` : ''}); steps ${fmtTimes(o.times)} s${roundsNote(o)}; ` +
        `CPU ${o.cpu?.toFixed(2)} s/step over all processes (${o.cpu ? (o.cpu / o.s).toFixed(2) : '—'} cores busy on average); peak RSS ${o.rss.toFixed(0)} MB (all processes)`,
    });
  }
  for (const v of procPlan) {
    const o = ours[v]!;
    const kind = v.startsWith('tiny') ? 'tiny' : 'decoder';
    const what = kind === 'tiny' ? 'GradTTS tiny full training step B4' : `decoder train step dim ${dim} B${BATCH} ${MELS}×${FRAMES} Adam`;
    const thr = ours[`${kind}-w${nAll}`];
    if (typeof o === 'string') {
      rows.push({ name: `${what}, ${nAll} worker processes`, difftts_s: NaN, peer_s: null, ratio: null, gflops: null, notes: o });
      continue;
    }
    const t = typeof thr === 'object' ? thr : null;
    rows.push({
      name: `${what} — ${nAll} workers as threads (src/parallel, the default) vs as processes`,
      difftts_s: t?.s ?? NaN,
      peer_s: o.s,
      ratio: t ? t.s / o.s : null,
      gflops: null,
      notes: `"peer" column = the same ${nAll} workers as child processes (DIFFTTS_WORKERS_AS=process); process steps ${fmtTimes(o.times)} s${roundsNote(o)}, CPU ${o.cpu?.toFixed(2)} s/step; peak RSS ${o.rss.toFixed(0)} MB`,
    });
  }
  return rows;
}

if (process.argv[2] === '--child' && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const v = process.argv[3] as Variant;
  if (!(v in VARIANTS) && !isWorkerVariant(v)) {
    console.error(`bench/train: unknown variant '${v}'`);
    process.exit(2);
  }
  await child(v);
}
