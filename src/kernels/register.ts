/**
 * Installs difftts's GEMM-based kernels (gemm.ts, conv-gemm.ts, matmul.ts) as the wasm backend's
 * own, so plain tf.conv2d / tf.conv1d / tf.conv2dTranspose / tf.matMul and their built-in
 * gradients get them with no code changes:
 *
 * - `Conv2D` (XNNPACK, 25–31 GFLOP/s here): implicit GEMM, one call per output row; stride-1 3×3
 *   convs (and their two gradients below) by Winograd F(4×4, 3×3) / F(2×2, 3×3) instead (winograd.ts);
 * - `Conv2DBackpropFilter` (missing in tfjs-backend-wasm 4.22): implicit GEMM over output rows;
 * - `Conv2DBackpropInput` (present but ~2.4 GFLOP/s): flipped-filter implicit GEMM (stride 1) or
 *   one GEMM per output phase writing interleaved rows (stride 2). It is also tf.conv2dTranspose's
 *   forward.
 * - `BatchMatMul` (fast only for one 2-D product without transpose flags): see matmul.ts. Every
 *   matMul gradient uses the flags.
 * - difftts's own Mish / masked GroupNorm kernels (pointwise.ts), which activations.ts then uses;
 * - `Identity` (every tensor saved for a gradient is cloned through it) shares data instead of copying;
 * - `Sum` over leading axes (bias gradients) as one SIMD column-sum pass.
 *
 * After `registerFastWasmKernels()`, `tf.getKernel('Conv2DBackpropFilter', 'wasm')` exists, so
 * code that only substitutes gradients where that kernel is missing (src/model/ops.ts) switches
 * to tfjs's native ops by itself. Inputs outside what the fast paths cover (NCHW, dilation) go to
 * tfjs's original kernel (input grad) or throw as before (filter grad).
 */
import * as tf from '@tensorflow/tfjs';
import { convBackpropInputCropped, convGeometry, type ConvGeometry } from './conv.js';
import { conv2dHeap, convBackpropFilterHeap, convBackpropInputHeap } from './conv-gemm.js';
import { replaceWasmKernel, restoreWasmKernel, type WasmBackend } from './wasm-backend.js';
import { registerFastMatMul, unregisterFastMatMul } from './matmul.js';
import { registerPointwiseKernels, sumLeadingRows, unregisterPointwiseKernels } from './pointwise.js';
import { wasmSimdAvailable } from './gemm.js';
import { conv2dWinograd, convBackpropFilterWinograd, convBackpropInputWinograd, winogradVariant } from './winograd.js';

interface BackpropAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

interface ConvAttrs extends BackpropAttrs {
  dilations: number | [number, number];
}

/** tfjs's own kernels, by name, while ours are installed (undefined: wasm had none). */
const originals = new Map<string, tf.KernelConfig | undefined>();
let installed = false;

function geometryOf(xShape: number[], filterShape: number[], a: BackpropAttrs): ConvGeometry {
  const pad = Array.isArray(a.pad) ? ([a.pad[1]![0]!, a.pad[1]![1]!, a.pad[2]![0]!, a.pad[2]![1]!] as const) : a.pad;
  return convGeometry(xShape, filterShape, a.strides, pad, a.dimRoundingMode);
}

/** Inputs of a registered kernel are the Tensors the op passed in; check rather than assume. */
function asTensor4D(t: tf.TensorInfo): tf.Tensor4D {
  if (!(t instanceof tf.Tensor)) throw new Error('fast wasm conv kernel: expected Tensor inputs');
  return t as tf.Tensor4D;
}

/**
 * Registers the fast kernels on the 'wasm' backend (idempotent). Call once, before or after the
 * wasm backend is initialised (e.g. right after initBackend picked wasm); other backends are
 * untouched. Throws if @tensorflow/tfjs-backend-wasm was never imported. Returns false (and
 * registers nothing) where the runtime lacks WebAssembly SIMD: tfjs's own kernels then run, with
 * src/model/ops.ts's gradient replacements for the missing Conv2DBackpropFilter.
 */
export function registerFastWasmKernels(): boolean {
  if (installed) return true;
  if (!wasmSimdAvailable()) return false;
  registerFastMatMul(); // throws when @tensorflow/tfjs-backend-wasm was never imported
  registerPointwiseKernels();
  installed = true;
  originals.set(
    'Conv2D',
    replaceWasmKernel('Conv2D', (args, original) => {
      const a = args.attrs as unknown as ConvAttrs;
      const x = args.inputs.x!,
        filter = args.inputs.filter!;
      const dilated = Array.isArray(a.dilations) ? a.dilations[0] !== 1 || a.dilations[1] !== 1 : a.dilations !== 1;
      if ((a.dataFormat === 'NCHW' || dilated || x.dtype !== 'float32') && original) return original.kernelFunc(args);
      const be = args.backend as unknown as WasmBackend,
        g = geometryOf(x.shape, filter.shape, a);
      const w = winogradVariant(g, 'forward');
      return w ? conv2dWinograd(be, x, filter, g, w) : conv2dHeap(be, x, filter, g);
    }),
  );
  originals.set(
    'Conv2DBackpropInput',
    replaceWasmKernel('Conv2DBackpropInput', (args, original) => {
      const a = args.attrs as unknown as BackpropAttrs;
      const unequal = Array.isArray(a.strides) && a.strides[0] !== a.strides[1];
      if ((a.dataFormat === 'NCHW' || unequal) && original) return original.kernelFunc(args);
      const dy = asTensor4D(args.inputs.dy!);
      const filter = asTensor4D(args.inputs.filter!);
      const g = geometryOf(a.inputShape!, filter.shape, a);
      const be = args.backend as unknown as WasmBackend,
        w = winogradVariant(g, 'dx');
      if (w) return convBackpropInputWinograd(be, dy, filter, g, w);
      return convBackpropInputHeap(be, dy, filter, g) ?? convBackpropInputCropped(dy, filter, g);
    }),
  );
  // tfjs-core clones every tensor it saves for a gradient through Identity, which wasm implements
  // as a copy (~1 ms per 1.3 M floats; ~860 copies per decoder training step). tfjs tensors are
  // immutable and wasm's dataIds are reference-counted (its Reshape already shares data), so a
  // shared reference is a correct clone — what the cpu backend's Identity does.
  originals.set(
    'Identity',
    replaceWasmKernel('Identity', (args, original) => {
      const x = args.inputs.x!;
      if (x.dtype === 'string' && original) return original.kernelFunc(args);
      (args.backend as unknown as WasmBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }),
  );
  // Sums over leading axes (every bias gradient: Σ over [B, H, W] of an NHWC tensor): wasm's Sum
  // transposes the reduced axes innermost first (3–7 ms per 1.3 M floats); a column sum is one pass.
  originals.set(
    'Sum',
    replaceWasmKernel('Sum', (args, original) => {
      const x = args.inputs.x!;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const r = x.shape.length;
      const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)).sort((p, q) => p - q);
      const leading = axes.length > 0 && axes.length < r && axes.every((a, i) => a === i);
      const c = x.shape.slice(axes.length).reduce((p, q) => p * q, 1);
      if (!leading || x.dtype !== 'float32' || c % 4 !== 0) return original!.kernelFunc(args);
      const be = args.backend as unknown as WasmBackend;
      const rest = x.shape.slice(axes.length);
      const out = be.makeOutput(keepDims ? [...axes.map(() => 1), ...rest] : rest, 'float32');
      sumLeadingRows(
        be,
        x,
        x.shape.slice(0, axes.length).reduce((p, q) => p * q, 1),
        c,
        out,
      );
      return out;
    }),
  );
  originals.set(
    'Conv2DBackpropFilter',
    replaceWasmKernel('Conv2DBackpropFilter', (args) => {
      const a = args.attrs as unknown as BackpropAttrs;
      if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (difftts wasm kernel): only NHWC is supported');
      const x = args.inputs.x!,
        dy = args.inputs.dy!;
      const be = args.backend as unknown as WasmBackend,
        g = geometryOf(x.shape, a.filterShape!, a);
      const w = winogradVariant(g, 'dw');
      return w ? convBackpropFilterWinograd(be, x, dy, g, w) : convBackpropFilterHeap(be, x, dy, g);
    }),
  );
  return true;
}

/** Puts tfjs's original wasm kernels back (for tests and A/B benchmarks). */
export function unregisterFastWasmKernels(): void {
  if (!installed) return;
  installed = false;
  unregisterFastMatMul();
  unregisterPointwiseKernels();
  for (const [name, original] of originals) restoreWasmKernel(name, original);
  originals.clear();
}

/** Whether registerFastWasmKernels() is in effect. */
export function fastWasmKernelsInstalled(): boolean {
  return installed;
}
