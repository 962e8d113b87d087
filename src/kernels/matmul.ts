/**
 * BatchMatMul for the wasm backend on difftts's GEMM (gemm.ts).
 *
 * tfjs-backend-wasm 4.22 runs `BatchMatMul` through XNNPACK only for ONE 2-D product without
 * transpose flags (25–30 GFLOP/s); with transposeA/transposeB or batch > 1 it falls to a naive loop
 * at 0.7–2 GFLOP/s — and every matMul gradient uses the flags (dA = dC·Bᵀ, dB = Aᵀ·dC). The GEMM
 * here reads A through strides (Aᵀ is free), packs B from any strides, and runs 40–49 GFLOP/s, so
 * every form is one call per batch entry with nothing transposed in memory. A batch-broadcast right
 * operand is packed once and, without transposeA, the batch folds into rows.
 */
import * as tf from '@tensorflow/tfjs';
import { byteOffset, replaceWasmKernel, restoreWasmKernel, type WasmBackend } from './wasm-backend.js';
import { gemmPacked, matmulInto, packB, releasePacked, type Strided } from './gemm.js';

let original: tf.KernelConfig | undefined;

function batchMatMul(args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const be = args.backend as unknown as WasmBackend;
  const attrs = args.attrs ?? {};
  const a = args.inputs.a!,
    b = args.inputs.b!;
  const tA = Boolean(attrs.transposeA),
    tB = Boolean(attrs.transposeB);
  const ra = a.shape.length,
    rb = b.shape.length;
  const outerA = a.shape.slice(0, -2),
    outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((p, q) => p * q, 1),
    batchB = outerB.reduce((p, q) => p * q, 1);
  const simpleBroadcast = batchA === batchB ? outerA.length >= outerB.length : batchB === 1 || batchA === 1;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !simpleBroadcast) return original!.kernelFunc(args) as tf.TensorInfo;
  const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const kb = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  if (k !== kb)
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`,
    );
  const outer = batchA >= batchB ? outerA : outerB;
  const batch = Math.max(batchA, batchB);
  const out = be.makeOutput([...outer, m, n], 'float32');
  if (batch * m * n === 0) return out;
  const aOff = byteOffset(be, a),
    bOff = byteOffset(be, b),
    oOff = byteOffset(be, out);
  // A stored [m, k] (or [k, m] when tA), B stored [k, n] (or [n, k] when tB), row-major per entry.
  const aAt = (i: number): Strided => ({ off: aOff + (batchA > 1 ? i : 0) * m * k * 4, s0: tA ? 4 : k * 4, s1: tA ? m * 4 : 4 });
  const bAt = (i: number): Strided => ({ off: bOff + (batchB > 1 ? i : 0) * k * n * 4, s0: tB ? 4 : n * 4, s1: tB ? k * 4 : 4 });
  if (batch === 1) {
    matmulInto(be, aAt(0), bAt(0), m, k, n, oOff);
  } else if (batchB === 1) {
    const bp = packB(be, bAt(0), k, n);
    if (!tA && batchA > 1) gemmPacked(be, aAt(0), bp, batchA * m, oOff, n * 4);
    else for (let i = 0; i < batch; i++) gemmPacked(be, aAt(i), bp, m, oOff + i * m * n * 4, n * 4);
    releasePacked(be, bp);
  } else {
    for (let i = 0; i < batch; i++) matmulInto(be, aAt(i), bAt(i), m, k, n, oOff + i * m * n * 4);
  }
  return out;
}

let installed = false;

/** Replaces wasm's BatchMatMul with the GEMM-based one (idempotent). */
export function registerFastMatMul(): void {
  if (installed) return;
  if (!tf.getKernel('BatchMatMul', 'wasm'))
    throw new Error('registerFastMatMul: the wasm backend is not loaded (import @tensorflow/tfjs-backend-wasm first)');
  installed = true;
  original = replaceWasmKernel('BatchMatMul', batchMatMul);
}

/** Restores tfjs's own wasm BatchMatMul. */
export function unregisterFastMatMul(): void {
  if (!installed || !original) return;
  installed = false;
  restoreWasmKernel('BatchMatMul', original);
}
