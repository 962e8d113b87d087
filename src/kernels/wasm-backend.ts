/**
 * The parts of tfjs-backend-wasm 4.22's BackendWasm that difftts's registered wasm kernels use:
 * they read inputs and write outputs directly in the wasm heap (Float32 views), which is what makes
 * them faster than chains of tfjs ops. Not public tfjs API — kept in one place so a tfjs upgrade
 * has one file to check.
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  dataIdMap: { get(id: object): { id: number; memoryOffset: number }; delete(id: object): boolean };
  disposeData(id: object): boolean;
  wasm: { HEAPF32: Float32Array; tfjs: { disposeData(id: number): void }; asm: { memory: WebAssembly.Memory } };
}

/** Index of a tensor's first float in `be.wasm.HEAPF32`. Take heap views only after the last makeOutput (it may grow, and detach, the heap). */
export function heapIndex(be: WasmBackend, t: tf.TensorInfo): number {
  return be.dataIdMap.get(t.dataId).memoryOffset >>> 2;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Swaps wasm's kernel `name` for `kernelFunc`, which receives the original (undefined where wasm
 * has none) as its fallback. The original's setupFunc is kept: it wires up the wasm function that
 * the original kernelFunc calls, even when the backend initialises after this call.
 * @returns the original, for `restoreWasmKernel`.
 */
export function replaceWasmKernel(
  name: string, kernelFunc: (args: KernelArgs, original: tf.KernelConfig | undefined) => tf.TensorInfo | tf.TensorInfo[],
): tf.KernelConfig | undefined {
  const original = tf.getKernel(name, 'wasm');
  if (original) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', setupFunc: original?.setupFunc, kernelFunc: (args) => kernelFunc(args, original) });
  return original;
}

/** Undoes `replaceWasmKernel` (puts the original back, or leaves no kernel where there was none). */
export function restoreWasmKernel(name: string, original: tf.KernelConfig | undefined): void {
  tf.unregisterKernel(name, 'wasm');
  if (original) tf.registerKernel(original);
}
