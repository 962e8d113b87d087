/**
 * Eight complex FFTs of one size at a time on WebAssembly SIMD in float32 (src/kernels/wasm/
 * fft-module.ts): ~4× faster per transform than fft.js's float64 radix-4 here (issue #24). Signal
 * s (0–7) is written to `input` as [re, im] pairs from 2n·s, `transform()` runs all eight, and its
 * spectrum is read from `output` in the same layout (X_k = Σ_j x_j e^{−2πi jk/n}). `input` is not
 * changed by a transform: entries a caller never writes keep their value.
 * `createBatchFft` returns null where WebAssembly SIMD is missing (callers keep fft.js).
 * Griffin-Lim runs the same fft8 kernel inside its own module (griffinlim-wasm.ts), which also
 * does the packing around it; this plain interface is where fft8 is tested against a DFT.
 */
import { simdModuleOrNull } from '../kernels/wasm/emit.js';
import { fftModuleBytes } from '../kernels/wasm/fft-module.js';

export interface BatchFft {
  readonly n: number;
  /** Signal s's sample j: input[2(n·s + j)] (re), input[2(n·s + j) + 1] (im). */
  readonly input: Float32Array;
  /** Signal s's bin k after `transform`: output[2(n·s + k)] (re), output[2(n·s + k) + 1] (im). */
  readonly output: Float32Array;
  transform(): void;
}

type Exports = {
  fft8(x: number, tw: number, n: number): void;
  gather(src: number, x: number, rev: number, n: number): void;
  scatter(x: number, dst: number, n: number): void;
};

const fftModule = simdModuleOrNull(fftModuleBytes);

/** A batch FFT of size n (a power of two ≥ 2) with its own memory, or null without WebAssembly SIMD. */
export function createBatchFft(n: number): BatchFft | null {
  if (!(n >= 2 && (n & (n - 1)) === 0)) throw new Error(`FFT size must be a power of two ≥ 2, got ${n}`);
  const mod = fftModule();
  if (!mod) return null;
  // [work 64n][input 64n][output 64n][twiddles 8n][bit reversal 4n] bytes
  const block = 64 * n;
  const [work, inp, out, twAt, revAt] = [0, block, 2 * block, 3 * block, 3 * block + 8 * n];
  const memory = new WebAssembly.Memory({ initial: Math.ceil((revAt + 4 * n) / 65536) });
  const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as Exports;
  writeFftTables(memory.buffer, twAt, revAt, n);
  return {
    n,
    input: new Float32Array(memory.buffer, inp, 16 * n),
    output: new Float32Array(memory.buffer, out, 16 * n),
    transform: () => {
      ex.gather(inp, work, revAt, n);
      ex.fft8(work, twAt, n);
      ex.scatter(work, out, n);
    },
  };
}

/**
 * fft8's tables for size n into `buffer`: the twiddles (2n f32 at byte twAt; see fft-module.ts) and
 * the bit reversal (n i32 at byte revAt, rev[j] = j with its log2(n) bits reversed).
 */
export function writeFftTables(buffer: ArrayBuffer, twAt: number, revAt: number, n: number): void {
  const tw = new Float32Array(buffer, twAt, 2 * n);
  for (let h = 1; h < n; h *= 2)
    for (let j = 0; j < h; j++) {
      // float64 angles rounded once to float32
      tw[2 * (h - 1 + j)] = Math.cos((Math.PI * j) / h);
      tw[2 * (h - 1 + j) + 1] = -Math.sin((Math.PI * j) / h);
    }
  const bits = Math.log2(n);
  const rev = new Int32Array(buffer, revAt, n);
  for (let j = 0; j < n; j++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((j >> b) & 1) << (bits - 1 - b);
    rev[j] = r;
  }
}
