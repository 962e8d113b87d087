/**
 * difftts's own GEMM on the wasm backend's heap (kernel code: wasm/gemm-module.ts).
 *
 * Why: every matMul and convolution of training and synthesis ends in a GEMM, and tfjs-wasm's
 * (XNNPACK) runs 25–30 GFLOP/s here, and only for plain 2-D products. The generated kernel runs
 * ~45–49 GFLOP/s with relaxed-SIMD FMA (~41 without), takes any A strides (so Aᵀ costs nothing),
 * packs B from any strides, and sums over conv taps itself (implicit GEMM, no im2col).
 *
 * The module imports tfjs-wasm's own WebAssembly.Memory, so it reads and writes tensors in place.
 * Relaxed SIMD is standard from Node 22 (V8 11.4); on Node 20 it sits behind a V8 flag that is
 * switched on here before compiling (it only enables the instructions; nothing else changes).
 * `DIFFTTS_WASM_FMA=off` keeps the mul+add build.
 */
import v8 from 'node:v8';
import type * as tf from '@tensorflow/tfjs';
import { gemmModuleBytes, PANEL } from './wasm/gemm-module.js';
import { byteOffset, instanceOnHeap, scratch, type WasmBackend } from './wasm-backend.js';

type Fn = (...args: number[]) => void;

export interface GemmInstance {
  gemm: Fn;
  packB: Fn;
}

let compiled: { module: WebAssembly.Module; fma: boolean } | undefined;

function compile(): { module: WebAssembly.Module; fma: boolean } {
  if (compiled) return compiled;
  if (process.env.DIFFTTS_WASM_FMA !== 'off') {
    const bytes = gemmModuleBytes(true);
    if (!WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    if (WebAssembly.validate(bytes)) return (compiled = { module: new WebAssembly.Module(bytes), fma: true });
  }
  return (compiled = { module: new WebAssembly.Module(gemmModuleBytes(false)), fma: false });
}

/** The GEMM functions bound to this backend's heap. */
export function gemmOf(be: WasmBackend): GemmInstance {
  return instanceOnHeap(be, compile().module) as unknown as GemmInstance;
}

/**
 * Whether this runtime has WebAssembly SIMD (every difftts wasm kernel needs it; Node ≥ 16.4 on
 * x86-64/ARM64 does). Without it the kernels are not registered and tfjs's own run.
 */
export function wasmSimdAvailable(): boolean {
  return WebAssembly.validate(gemmModuleBytes(false));
}

/** Whether the kernel compiles with FMA on this runtime (compiles it once). */
export function gemmUsesFma(): boolean {
  return compile().fma;
}

/** An operand in the heap: element (i, k) of A, or (k, n) of B, at off + i·s0 + k·s1 bytes. */
export interface Strided {
  off: number;
  /** Byte stride of the first index (A: row m; B: row k). */
  s0: number;
  /** Byte stride of the second index (A: k; B: column n). */
  s1: number;
}

/** B packed into 16-column panels (see gemm-module.ts), kept in a scratch buffer. */
export interface PackedB {
  buf: tf.TensorInfo;
  off: number;
  /** Rows (K, or taps·K for a conv filter) and columns. */
  k: number;
  n: number;
}

/** Packs B(k, n) (k < K, n < N) for `gemm`; dispose with `releasePacked`. */
export function packB(be: WasmBackend, b: Strided, k: number, n: number): PackedB {
  const panels = Math.ceil(n / PANEL);
  const buf = scratch(be, panels * k * PANEL);
  const off = byteOffset(be, buf);
  if (k > 0 && n > 0) gemmOf(be).packB(b.off, b.s0, b.s1, k, n, off);
  return { buf, off, k, n };
}

export function releasePacked(be: WasmBackend, p: PackedB): void {
  be.disposeData(p.buf.dataId);
}

/**
 * Inner-dimension block such that one block of packed B (all panels) stays in L2 (~1 MB here)
 * while every row pair of A streams past it — and, when A is stored column-major (a transposed
 * operand: each k step of a row pair touches a new cache line for 8 useful bytes), so that A's
 * block stays there too for the next row pairs.
 */
function kBlock(a: Strided, m: number, n: number): number {
  const budgetFloats = 128 * 1024; // 512 KB
  const bBlock = Math.floor(budgetFloats / (Math.ceil(n / PANEL) * PANEL));
  const aBlock = a.s0 < a.s1 ? Math.floor(budgetFloats / m) : Infinity;
  return Math.max(64, Math.min(bBlock, aBlock));
}

/**
 * C [m, n] (row-major, `ldc` bytes per row, at byte offset `c`) = A(m, K) · B(K, n) with B packed.
 * Long inner dimensions are cut in L2-sized blocks, accumulated in C.
 */
export function gemmPacked(be: WasmBackend, a: Strided, bp: PackedB, m: number, c: number, ldc: number): void {
  const { k, n } = bp;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    for (let i = 0; i < m; i++) be.wasm.HEAPF32.fill(0, (c + i * ldc) >>> 2, ((c + i * ldc) >>> 2) + n);
    return;
  }
  const g = gemmOf(be);
  const kc = kBlock(a, m, n);
  const panelBytes = k * PANEL * 4;
  for (let k0 = 0; k0 < k; k0 += kc) {
    const len = Math.min(kc, k - k0);
    g.gemm(a.off + k0 * a.s1, a.s0, a.s1, 0, 0, 1, 1, bp.off + k0 * PANEL * 4, panelBytes, c, ldc, m, n, len, k0 > 0 ? 1 : 0);
  }
}

/**
 * C [m, n] = A(m, k) · B(k, n) for strided A and B, C row-major at byte offset `c`.
 * Packing B costs a pass over k·n floats; when A is much the smaller operand (weight gradients
 * Aᵀ·dC with a wide dC: k·n = 40960·384 vs k·m = 40960·32) it computes Cᵀ = Bᵀ·Aᵀ instead, packing
 * A, and transposes the small [n, m] result into place.
 */
export function matmulInto(be: WasmBackend, a: Strided, b: Strided, m: number, k: number, n: number, c: number): void {
  if (k * m + m * n < k * n) {
    const t = scratch(be, m * n);
    const tOff = byteOffset(be, t);
    const ap = packB(be, { off: a.off, s0: a.s1, s1: a.s0 }, k, m);
    gemmPacked(be, { off: b.off, s0: b.s1, s1: b.s0 }, ap, n, tOff, m * 4);
    releasePacked(be, ap);
    const heap = be.wasm.HEAPF32,
      src = tOff >>> 2,
      dst = c >>> 2;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) heap[dst + i * n + j] = heap[src + j * m + i]!;
    be.disposeData(t.dataId);
    return;
  }
  const bp = packB(be, b, k, n);
  gemmPacked(be, a, bp, m, c, n * 4);
  releasePacked(be, bp);
}
