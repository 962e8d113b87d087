/**
 * The page's tfjs backend: WebGPU when the browser offers a hardware adapter (navigator.gpu), else wasm with
 * difftts's SIMD kernels (src/kernels/register.ts: the same GEMM convolutions as in Node), else cpu.
 * `want` forces one (the page's ?backend= parameter). The browser's counterpart of src/backend/
 * index.ts, which probes Node-only packages (tfjs-node, Dawn) and is not bundled.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerFastWasmKernels } from '../kernels/register.js';
import { adapterFromInfo, describeAdapter, type AdapterLike } from '../backend/adapter.js';

export type PageBackend = 'webgpu' | 'wasm' | 'cpu';

export interface PageBackendChoice {
  name: PageBackend;
  /** What was tried and why it was not used, and what difftts added. */
  notes: string[];
}

interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** `requested`: ?backend=webgpu, which also takes a software adapter (the automatic pick skips one, as in Node). */
async function tryWebGpu(requested: boolean, notes: string[]): Promise<string | null> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) return 'this browser has no navigator.gpu';
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return `navigator.gpu.requestAdapter failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (!adapter) return 'navigator.gpu offers no adapter';
  const info = adapterFromInfo(
    adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : undefined),
    adapter.isFallbackAdapter === true,
  );
  if (info.software && !requested) return `the adapter is ${describeAdapter(info)}: wasm is faster (?backend=webgpu uses it anyway)`;
  notes.push(`adapter: ${describeAdapter(info)}`);
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
    const { registerWebGpuFixes } = await import('../kernels/webgpu.js');
    if (!(await tf.setBackend('webgpu'))) return 'tfjs webgpu backend failed to initialise';
    registerWebGpuFixes();
    return null;
  } catch (err) {
    return `tfjs webgpu backend failed: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** `wasmDir`: the URL folder holding tfjs-backend-wasm's .wasm files (ends with '/'). */
async function tryWasm(wasmDir: string, notes: string[]): Promise<string | null> {
  try {
    setWasmPaths(wasmDir);
    // difftts's kernels instantiate their modules on wasm's heap, which must not be a shared
    // (threaded) memory; tfjs picks the threaded build only where SharedArrayBuffer is offered.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) return 'tfjs wasm backend failed to initialise';
  } catch (err) {
    return `tfjs wasm backend failed: ${err instanceof Error ? err.message : String(err)}`;
  }
  notes.push(registerFastWasmKernels() ? 'difftts SIMD kernels registered on wasm' : "no WebAssembly SIMD: tfjs's own wasm kernels run");
  return null;
}

/** Initialises the backend (once per page) and says which runs and why. */
export async function initPageBackend(want: PageBackend | 'auto', wasmDir: string): Promise<PageBackendChoice> {
  const notes: string[] = [];
  const order: PageBackend[] = want === 'auto' ? ['webgpu', 'wasm', 'cpu'] : [want];
  for (const name of order) {
    const reason =
      name === 'webgpu'
        ? await tryWebGpu(want === 'webgpu', notes)
        : name === 'wasm'
          ? await tryWasm(wasmDir, notes)
          : (await tf.setBackend('cpu'))
            ? null
            : 'cpu backend failed';
    if (reason === null) return { name, notes };
    if (want !== 'auto') throw new Error(`backend ${name} was requested but is unavailable: ${reason}`);
    notes.push(`not ${name}: ${reason}`);
  }
  throw new Error(`no tfjs backend could be initialised (${notes.join('; ')})`);
}
