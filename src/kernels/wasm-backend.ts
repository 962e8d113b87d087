/**
 * The parts of tfjs-backend-wasm 4.22's BackendWasm that difftts's registered wasm kernels use:
 * they read inputs and write outputs directly in the wasm heap (Float32 views), which is what makes
 * them faster than chains of tfjs ops. Not public tfjs API — kept in one place so a tfjs upgrade
 * has one file to check.
 */
import * as tf from '@tensorflow/tfjs';

export interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  dataIdMap: { get(id: object): { memoryOffset: number } };
  disposeData(id: object): boolean;
  incRef(id: object): void;
  /** HEAPF32 is replaced when the heap grows: take it after the last makeOutput/scratch. */
  wasm: { HEAPF32: Float32Array; asm: { memory: WebAssembly.Memory } };
}

/** Byte offset of a tensor's data in the wasm heap (stable: growing the heap does not move data). */
export function byteOffset(be: WasmBackend, t: tf.TensorInfo): number {
  return be.dataIdMap.get(t.dataId).memoryOffset;
}

/** A heap buffer for intermediate data (a tensor entry with no tfjs Tensor); free with `be.disposeData(t.dataId)`. */
export function scratch(be: WasmBackend, floats: number): tf.TensorInfo {
  return be.makeOutput([Math.max(1, floats)], 'float32');
}

const instances = new WeakMap<WebAssembly.Memory, WeakMap<WebAssembly.Module, WebAssembly.Exports>>();

/** The exports of `module` instantiated on this backend's heap (imported as `env.memory`), once per heap. */
export function instanceOnHeap(be: WasmBackend, module: WebAssembly.Module): WebAssembly.Exports {
  const memory = be.wasm.asm.memory;
  let perModule = instances.get(memory);
  if (!perModule) instances.set(memory, (perModule = new WeakMap()));
  let ex = perModule.get(module);
  if (!ex) perModule.set(module, (ex = new WebAssembly.Instance(module, { env: { memory } }).exports));
  return ex;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * Swaps wasm's kernel `name` for `kernelFunc`, which receives the original (undefined where wasm
 * has none) as its fallback. The original's setupFunc is kept: it wires up the wasm function that
 * the original kernelFunc calls, even when the backend initialises after this call.
 * @returns the original, for `restoreWasmKernel`.
 */
export function replaceWasmKernel(
  name: string,
  kernelFunc: (args: KernelArgs, original: tf.KernelConfig | undefined) => tf.TensorInfo | tf.TensorInfo[],
): tf.KernelConfig | undefined {
  const original = tf.getKernel(name, 'wasm');
  if (original) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: original?.setupFunc,
    kernelFunc: (args) => kernelFunc(args, original),
  });
  return original;
}

/** Undoes `replaceWasmKernel` (puts the original back, or leaves no kernel where there was none). */
export function restoreWasmKernel(name: string, original: tf.KernelConfig | undefined): void {
  tf.unregisterKernel(name, 'wasm');
  if (original) tf.registerKernel(original);
}
