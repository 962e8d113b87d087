/**
 * Fixes to tfjs-backend-webgpu 4.22 kernels, registered by initWebGpu (src/backend/webgpu.ts).
 *
 * Every kernel GradTTS needs for training and synthesis exists on webgpu (src/model/webgpu.test.ts
 * compares the loss and all weight gradients with cpu). One is broken for wide inputs:
 * - `AddN` binds all N inputs in one shader, but WebGPU allows only
 *   `limits.maxStorageBuffersPerShaderStage` (8 by default) storage buffers per stage, so
 *   tf.addN of more than 7 tensors fails validation and silently yields zeros (the trainer's
 *   global gradient norm sums ~200 terms). The replacement adds at most `limit − 1` at a time.
 */
import * as tf from '@tensorflow/tfjs';

interface WebGpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: object): void;
}

let originalAddN: tf.KernelFunc | null = null;

/** AddN over inputs [n tensors of one shape] in groups of ≤ limit − 1, then over the partial sums. */
function chunkedAddN(args: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as unknown as WebGpuBackendLike;
  const group = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
  let xs = Object.values(args.inputs) as tf.TensorInfo[];
  const partial: tf.TensorInfo[] = [];
  while (xs.length > group) {
    const next: tf.TensorInfo[] = [];
    for (let i = 0; i < xs.length; i += group) {
      const part = xs.slice(i, i + group);
      if (part.length === 1) next.push(part[0]!);
      else {
        const s = originalAddN!({
          inputs: part as unknown as tf.NamedTensorInfoMap,
          backend: args.backend,
          attrs: args.attrs ?? {},
        }) as tf.TensorInfo;
        partial.push(s);
        next.push(s);
      }
    }
    xs = next;
  }
  const out = originalAddN!({
    inputs: xs as unknown as tf.NamedTensorInfoMap,
    backend: args.backend,
    attrs: args.attrs ?? {},
  }) as tf.TensorInfo;
  for (const p of partial) backend.disposeData(p.dataId);
  return out;
}

/** Registers the replacements on 'webgpu' (idempotent). Returns their names, for `difftts backend`. */
export function registerWebGpuFixes(): string[] {
  if (!originalAddN) {
    const k = tf.getKernel('AddN', 'webgpu');
    if (!k) return [];
    originalAddN = k.kernelFunc;
    tf.unregisterKernel('AddN', 'webgpu');
    tf.registerKernel({ kernelName: 'AddN', backendName: 'webgpu', kernelFunc: chunkedAddN as unknown as tf.KernelFunc });
  }
  return ['AddN (at most maxStorageBuffersPerShaderStage − 1 inputs per shader)'];
}
