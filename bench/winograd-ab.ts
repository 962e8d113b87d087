/**
 * A/B of the 3×3 conv kernels inside whole steps, interleaved in one process: the bench's decoder
 * training step (dim 32, batch 4, 80 × 128, Adam; bench/train.ts decoderStep) and a tiny-voice
 * synthesis of one sentence (10 steps), each with Winograd off / F2 / F4 / the measured choice
 * (src/kernels/winograd.ts). Reports wall and process-CPU seconds (median, fastest): on a shared
 * machine CPU seconds are the steadier of the two.
 *
 *   node dist/bench/winograd-ab.js [reps=6] [modes=off,auto] [what=train,synth]
 *   DIFFTTS_WASM_FMA=off node dist/bench/winograd-ab.js …   (the GEMM without relaxed-SIMD FMA)
 *   node dist/bench/winograd-ab.js 2 off,auto profile      (tf.profile of one decoder step per mode: kernel ms by name)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmKernels } from '../src/kernels/register.js';
import { setWinogradMode, type WinogradMode } from '../src/kernels/winograd.js';
import { gemmUsesFma } from '../src/kernels/gemm.js';
import { decoderStep } from './train.js';
import { benchConfig } from './parallel-tasks.js';
import { GradTTS, MODEL_CONFIGS } from '../src/model/index.js';
import { DEFAULT_TEXT, symbolCount, textToIds } from '../src/text/index.js';
import { Rng } from '../src/util/rng.js';

const reps = Number(process.argv[2] ?? 6);
const modes = (process.argv[3] ?? 'off,auto').split(',').map((m) => (m === '2' || m === '4' ? Number(m) : m) as WinogradMode);
const what = (process.argv[4] ?? 'train,synth').split(',');

await tf.setBackend('wasm');
registerFastWasmKernels();

async function ab(label: string, fn: () => Promise<unknown>): Promise<void> {
  const wall: Record<string, number[]> = {},
    cpu: Record<string, number[]> = {};
  for (let i = 0; i <= reps; i++) {
    for (const m of modes) {
      setWinogradMode(m);
      const c0 = process.cpuUsage(),
        t0 = performance.now();
      await fn();
      const c = process.cpuUsage(c0),
        dt = (performance.now() - t0) / 1000;
      if (i === 0) continue; // warm-up
      (wall[m] ??= []).push(dt);
      (cpu[m] ??= []).push((c.user + c.system) / 1e6);
    }
  }
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
  for (const m of modes) {
    const k = String(m);
    console.log(
      `${label} | winograd ${k} | fma ${gemmUsesFma()} | wall median ${med(wall[k]!).toFixed(3)} s, fastest ${Math.min(...wall[k]!).toFixed(3)} | CPU median ${med(cpu[k]!).toFixed(3)} s, fastest ${Math.min(...cpu[k]!).toFixed(3)}`,
    );
  }
  setWinogradMode('auto');
}

if (what.includes('train')) {
  const { step, dispose } = decoderStep(benchConfig());
  await ab('decoder train step dim 32 B4 80×128', step);
  dispose();
}
if (what.includes('profile')) {
  const { step, dispose } = decoderStep(benchConfig());
  await step();
  for (let i = 0; i < reps; i++) {
    for (const m of modes) {
      setWinogradMode(m);
      const p = await tf.profile(async () => {
        await step();
      });
      const byName = new Map<string, [number, number]>();
      for (const k of p.kernels) {
        const e = byName.get(k.name) ?? [0, 0];
        byName.set(k.name, [e[0] + 1, e[1] + (k.kernelTimeMs as number)]);
      }
      const total = [...byName.values()].reduce((a, [, ms]) => a + ms, 0);
      const top = [...byName]
        .sort((a, b) => b[1][1] - a[1][1])
        .slice(0, 8)
        .map(([n, [c, ms]]) => `${n} ${c}× ${ms.toFixed(0)} ms`);
      console.log(`profile | winograd ${String(m)} | kernels ${total.toFixed(0)} ms | ${top.join('; ')}`);
    }
  }
  setWinogradMode('auto');
  dispose();
}
if (what.includes('synth')) {
  const model = GradTTS.create(MODEL_CONFIGS.tiny, symbolCount(DEFAULT_TEXT), 1);
  const ids = textToIds('Please enter your password, followed by the pound key.', DEFAULT_TEXT).ids;
  await ab('tiny synthesis mel, 10 steps, lengthScale 4', () =>
    model.synthesize(ids, { steps: 10, temperature: 1.5, lengthScale: 4, stochastic: false, rng: new Rng(1) }),
  );
  model.dispose();
}
