/**
 * Measures direct vs Winograd F(2×2, 3×3) vs F(4×4, 3×3) for every stride-1 3×3 conv geometry of
 * the tiny/small/full U-Nets (src/model/configs.ts: levels 80 × W, 40 × W/2, 20 × W/4), each pass
 * (forward, dx, dW) through plain tf ops on wasm with difftts's kernels, the three variants
 * interleaved per repetition (shared machine), the fastest repetition's CPU ms per call. The table in winograd.ts's
 * chooseMeasured comes from this output.
 *
 *   node dist/bench/winograd-profile.js [W=128] [B=4] [dims=16,32,64]   (timing only, not a test)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmKernels } from '../src/kernels/register.js';
import { setWinogradMode, unetConvs, type WinogradMode } from '../src/kernels/winograd.js';

const REPS = Number(process.env.DIFFTTS_PROFILE_REPS ?? 5);

/**
 * Process CPU ms per call of fn, over enough calls to take ≥ 40 ms (Linux charges CPU time in
 * scheduler ticks). CPU, not wall time: this machine is shared by several sessions, and a process
 * gets ~⅓ of a core at load 11.
 */
function timeMs(fn: () => void, calls: number): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) tf.tidy(fn);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / calls;
}

/** Calls of fn that take ≥ 40 ms. */
function callsFor(fn: () => void): number {
  const t0 = performance.now();
  tf.tidy(fn);
  return Math.max(1, Math.ceil(40 / Math.max(0.05, performance.now() - t0)));
}

export interface WinoRow {
  d: number;
  shape: string;
  pass: string;
  mflop: number;
  ms: Record<string, number>;
}

export function profileWinograd(W: number, B: number, dims: number[]): WinoRow[] {
  const modes: WinogradMode[] = ['off', 2, 4];
  const rows: WinoRow[] = [];
  for (const d of dims) {
    for (const [lv, ci, co] of unetConvs(d)) {
      const h = 80 >> lv,
        w = W >> lv;
      const x = tf.randomNormal([B, h, w, ci]) as tf.Tensor4D;
      const f = tf.randomNormal([3, 3, ci, co]) as tf.Tensor4D;
      const dy = tf.randomNormal([B, h, w, co]) as tf.Tensor4D;
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: f.shape } as unknown as tf.NamedAttrMap;
      const passes: [string, () => unknown][] = [
        ['forward', () => tf.conv2d(x, f, 1, 'same')],
        ['dx', () => tf.conv2dTranspose(dy, f, [B, h, w, ci], 1, 'same')],
        ['dw', () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs)],
      ];
      for (const [pass, fn] of passes) {
        const t: Record<string, number[]> = { off: [], 2: [], 4: [] };
        setWinogradMode('off');
        const calls = callsFor(() => {
          fn();
        });
        for (let i = 0; i <= REPS; i++) {
          for (const m of modes) {
            setWinogradMode(m);
            const ms = timeMs(() => {
              fn();
            }, calls);
            if (i > 0) t[String(m)]!.push(ms);
          }
        }
        // the fastest repetition: the one least slowed by the other sessions (cache, the SMT sibling)
        const best = (a: number[]) => Math.min(...a);
        rows.push({
          d,
          shape: `[${B},${h},${w},${ci}]→${co}`,
          pass,
          mflop: (2 * B * h * w * 9 * ci * co) / 1e6,
          ms: { off: best(t.off!), 2: best(t[2]!), 4: best(t[4]!) },
        });
      }
      tf.dispose([x, f, dy]);
    }
  }
  setWinogradMode('auto');
  return rows;
}

export function formatWinograd(rows: WinoRow[]): string {
  const out = [
    '| dim | shape | pass | MFLOP | direct ms | F2 ms | F4 ms | best | F4 eff. GFLOP/s |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const best = (['off', '2', '4'] as const).reduce((a, b) => (r.ms[b]! < r.ms[a]! ? b : a));
    out.push(
      `| ${r.d} | ${r.shape} | ${r.pass} | ${r.mflop.toFixed(0)} | ${r.ms.off!.toFixed(2)} | ${r.ms[2]!.toFixed(2)} | ${r.ms[4]!.toFixed(2)} | ${best === 'off' ? 'direct' : 'F' + best} | ${(r.mflop / r.ms[4]!).toFixed(1)} |`,
    );
  }
  return out.join('\n');
}

const W = Number(process.argv[2] ?? 128),
  B = Number(process.argv[3] ?? 4);
const dims = (process.argv[4] ?? '16,32,64').split(',').map(Number);
await tf.setBackend('wasm');
registerFastWasmKernels();
console.log(formatWinograd(profileWinograd(W, B, dims)));
