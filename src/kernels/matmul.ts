/**
 * A BatchMatMul for the wasm backend that always reaches XNNPACK's fast path.
 *
 * tfjs-backend-wasm 4.22 runs `BatchMatMul` at ~30 GFLOP/s only for ONE 2-D product without
 * transpose flags; with transposeA/transposeB or batch > 1 it falls to a naive loop at 0.7–2
 * GFLOP/s. Every matMul gradient uses the flags (dA = dC·Bᵀ, dB = Aᵀ·dC), and batched matMuls
 * appear in attention, so training hit the slow loop everywhere.
 *
 * This kernel rewrites each product as plain 2-D products: the cheaper side of a transpose is
 * materialised with wasm's 2-D Transpose kernel on a zero-copy view (Aᵀ·B either transposes A, or
 * computes (Bᵀ·A)ᵀ, whichever moves fewer floats counting XNNPACK's packing of the right
 * operand); batches run one 2-D call each on zero-copy views of the operands; a batch-broadcast
 * right operand folds the batch into rows.
 *
 * Uses two internals of tfjs-backend-wasm 4.22 (checked by the tests): `makeOutput(shape, dtype,
 * offset)` registers a tensor over existing heap memory, and such a view is released by
 * `wasm.tfjs.disposeData(id)` + `dataIdMap.delete` instead of disposeData (which would free it).
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm-backend.js';


let original: tf.KernelConfig | undefined;
let transposeKernel: tf.KernelConfig | undefined;

/** A tensor entry that aliases heap memory owned by another tensor (released without free). */
function view(be: WasmBackend, shape: number[], offset: number): tf.TensorInfo {
  return be.makeOutput(shape, 'float32', offset);
}
function releaseView(be: WasmBackend, t: tf.TensorInfo): void {
  const d = be.dataIdMap.get(t.dataId);
  be.wasm.tfjs.disposeData(d.id);
  be.dataIdMap.delete(t.dataId);
}
function offsetOf(be: WasmBackend, t: tf.TensorInfo): number {
  return be.dataIdMap.get(t.dataId).memoryOffset;
}

/** One plain [m, k]·[k, n] product by tfjs's own kernel (XNNPACK fully-connected). */
function plain(be: WasmBackend, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return original!.kernelFunc({ inputs: { a, b }, backend: be as unknown as tf.KernelBackend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
}

/**
 * A fresh heap tensor [cols, rows] holding the transpose of `rows × cols` floats at `off`, by
 * wasm's own 2-D Transpose kernel (~5 ms per 1.3 M floats; a JS loop is several times slower).
 */
function transposed(be: WasmBackend, off: number, rows: number, cols: number): tf.TensorInfo {
  const v = view(be, [rows, cols], off);
  const t = transposeKernel!.kernelFunc({ inputs: { x: v }, backend: be as unknown as tf.KernelBackend, attrs: { perm: [1, 0] } }) as tf.TensorInfo;
  releaseView(be, v);
  return t;
}

/**
 * out[m, n] (written at byte offset outOff) = op(A)·op(B) for one batch entry, where A's floats sit
 * at aOff with stored shape [k, m] if tA else [m, k], and B's at bOff, [n, k] if tB else [k, n].
 */
function product(be: WasmBackend, aOff: number, bOff: number, m: number, k: number, n: number, tA: boolean, tB: boolean, outOff: number): void {
  // A long inner dimension (weight gradients Aᵀ·B, attention's k·vᵀ): XNNPACK re-packs B on each
  // call, reading it column by column, which is cache-hostile once B outgrows L2. Chunks of k whose
  // B rows fit in ~1 MB keep the packing in cache (1.7× once on [40960, 32]ᵀ·[40960, 384], but
  // within noise in interleaved reruns on the loaded 2-vCPU machine; setChunking(false) for A/B). B's chunk
  // is contiguous rows; A's is contiguous rows of the stored Aᵀ (then transposed by wasm), or m
  // row segments of A copied with memmove; the partial [m, n] products are summed in JS.
  const kc = Math.max(256, Math.floor(chunkFloats / n));
  // Without tA the chunks of A are copied (m·k floats): only worth it when A is not the wider side.
  if (chunking && !tB && (tA || m <= n) && k >= 2 * kc && k * n > 262144 && m * n <= 1 << 20) {
    const acc = new Float32Array(m * n);
    for (let k0 = 0; k0 < k; k0 += kc) {
      const len = Math.min(kc, k - k0);
      let ac: tf.TensorInfo;
      if (tA) {
        ac = transposed(be, aOff + k0 * m * 4, len, m);
      } else {
        ac = be.makeOutput([m, len], 'float32');
        const heap = be.wasm.HEAPF32;
        const d = offsetOf(be, ac) >>> 2, a0 = (aOff >>> 2) + k0;
        for (let i = 0; i < m; i++) heap.copyWithin(d + i * len, a0 + i * k, a0 + i * k + len);
      }
      const bv = view(be, [len, n], bOff + k0 * n * 4);
      const res = plain(be, ac, bv);
      const heap = be.wasm.HEAPF32;
      const r = offsetOf(be, res) >>> 2;
      for (let i = 0; i < m * n; i++) acc[i]! += heap[r + i]!;
      releaseView(be, bv);
      be.disposeData(ac.dataId);
      be.disposeData(res.dataId);
    }
    be.wasm.HEAPF32.set(acc, outOff >>> 2);
    return;
  }
  const temps: tf.TensorInfo[] = [];
  const views: tf.TensorInfo[] = [];
  let res: tf.TensorInfo;
  let resTransposed = false;
  // Floats moved to make both operands plain, directly or via Cᵀ = op(B)ᵀ·op(A)ᵀ, plus XNNPACK's
  // packing of the right operand (k·n directly, k·m via Cᵀ), which costs about as much as a copy.
  const direct = (tA ? m * k : 0) + (tB ? k * n : 0) + k * n;
  const viaT = (tA ? 0 : m * k) + (tB ? 0 : k * n) + m * n + k * m;
  if (direct <= viaT) {
    const a = tA ? transposed(be, aOff, k, m) : view(be, [m, k], aOff);
    const b = tB ? transposed(be, bOff, n, k) : view(be, [k, n], bOff);
    (tA ? temps : views).push(a);
    (tB ? temps : views).push(b);
    res = plain(be, a, b);
  } else {
    // Cᵀ [n, m] = op(B)ᵀ [n, k] · op(A)ᵀ [k, m]; op(B)ᵀ is B itself when tB, op(A)ᵀ is A when tA.
    const bt = tB ? view(be, [n, k], bOff) : transposed(be, bOff, k, n);
    const at = tA ? view(be, [k, m], aOff) : transposed(be, aOff, m, k);
    (tB ? views : temps).push(bt);
    (tA ? views : temps).push(at);
    res = plain(be, bt, at);
    resTransposed = true;
  }
  if (resTransposed) {
    const back = transposed(be, offsetOf(be, res), n, m);
    temps.push(res);
    res = back;
  }
  const heap = be.wasm.HEAPF32;
  const r = offsetOf(be, res) >>> 2;
  heap.copyWithin(outOff >>> 2, r, r + m * n);
  for (const v of views) releaseView(be, v);
  for (const t of [...temps, res]) be.disposeData(t.dataId);
}

function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const be = args.backend as unknown as WasmBackend;
  const a = args.inputs.a!, b = args.inputs.b!;
  const tA = Boolean(args.attrs.transposeA), tB = Boolean(args.attrs.transposeB);
  const ra = a.shape.length, rb = b.shape.length;
  const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
  const batchA = outerA.reduce((p, q) => p * q, 1), batchB = outerB.reduce((p, q) => p * q, 1);
  const plainAlready = !tA && !tB && batchA === 1 && batchB === 1;
  const simpleBroadcast = batchA === batchB ? outerA.length >= outerB.length : batchB === 1 || batchA === 1;
  if (plainAlready || a.dtype !== 'float32' || b.dtype !== 'float32' || !simpleBroadcast) return original!.kernelFunc(args) as tf.TensorInfo;
  const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const kb = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  if (k !== kb) throw new Error(`Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`);
  const outer = batchA >= batchB ? outerA : outerB;
  const batch = Math.max(batchA, batchB);
  const out = be.makeOutput([...outer, m, n], 'float32');
  if (batch > 0 && m * n > 0) {
    const aOff = offsetOf(be, a), bOff = offsetOf(be, b), oOff = offsetOf(be, out);
    if (batchB === 1 && !tA && batchA > 1) {
      // A [batch, m, k] with a shared B: one product with batch·m rows.
      product(be, aOff, bOff, batchA * m, k, n, false, tB, oOff);
    } else {
      for (let i = 0; i < batch; i++) {
        product(be, aOff + (batchA > 1 ? i * m * k * 4 : 0), bOff + (batchB > 1 ? i * k * n * 4 : 0), m, k, n, tA, tB, oOff + i * m * n * 4);
      }
    }
  } else if (m * n * batch > 0) {
    be.typedArrayFromHeap(out).fill(0);
  }
  if (k === 0) be.typedArrayFromHeap(out).fill(0);
  return out;
}

let installed = false;
/** Experiment switch for profiling the k-chunking (on by default). */
let chunking = true;
let chunkFloats = 262144;
/** A/B switch for the k-chunking of long inner dimensions (`floats`: B-chunk size aimed at). */
export function setChunking(on: boolean, floats = 262144): void {
  chunking = on;
  chunkFloats = floats;
}

/** Replaces wasm's BatchMatMul with the always-fast version (idempotent). */
export function registerFastMatMul(): void {
  if (installed) return;
  original = tf.getKernel('BatchMatMul', 'wasm');
  transposeKernel = tf.getKernel('Transpose', 'wasm');
  if (!original || !transposeKernel) throw new Error('registerFastMatMul: the wasm backend is not loaded (import @tensorflow/tfjs-backend-wasm first)');
  installed = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  // Keep the original's setupFunc: if the backend initialises after this call, it still wires up
  // the wasm function that the original kernelFunc (our plain 2-D path) calls.
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul as unknown as tf.KernelFunc, setupFunc: original.setupFunc });
}

/** Restores tfjs's own wasm BatchMatMul. */
export function unregisterFastMatMul(): void {
  if (!installed || !original) return;
  installed = false;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(original);
}
