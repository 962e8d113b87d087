/**
 * The parts of tfjs-backend-wasm 4.22's BackendWasm that difftts's registered wasm kernels use:
 * they read inputs and write outputs directly in the wasm heap (Float32 views), which is what makes
 * them faster than chains of tfjs ops. Not public tfjs API — kept in one place so a tfjs upgrade
 * has one file to check.
 */
import type * as tf from '@tensorflow/tfjs';

export interface WasmBackend {
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  dataIdMap: { get(id: object): { id: number; memoryOffset: number }; delete(id: object): boolean };
  disposeData(id: object): boolean;
  wasm: { HEAPF32: Float32Array; tfjs: { disposeData(id: number): void } };
}

/** Index of a tensor's first float in `be.wasm.HEAPF32`. Take heap views only after the last makeOutput (it may grow, and detach, the heap). */
export function heapIndex(be: WasmBackend, t: tf.TensorInfo): number {
  return be.dataIdMap.get(t.dataId).memoryOffset >>> 2;
}
