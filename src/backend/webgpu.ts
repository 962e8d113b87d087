/**
 * The WebGPU backend in Node: Dawn (npm `webgpu`, a prebuilt dawn.node per platform) provides
 * `navigator.gpu`, and @tensorflow/tfjs-backend-webgpu runs tfjs on it. Vulkan on Linux, Metal on
 * macOS, D3D12 on Windows — no CUDA. Both packages are optional dependencies.
 *
 * An adapter is "software" when it runs on the CPU (Mesa lavapipe/llvmpipe, SwiftShader, WARP):
 * correct but slower than wasm, so the automatic pick skips it and only `--backend webgpu` uses it.
 *
 * Reading a tensor synchronously (dataSync) needs OffscreenCanvas on this backend, which Node lacks,
 * so every read on the training and synthesis paths is async (see `capabilities().syncReads` in index.ts).
 */
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { registerWebGpuFixes } from '../kernels/webgpu.js';
import { adapterFromInfo, describeAdapter, type AdapterInfo, type AdapterLike } from './adapter.js';

export { adapterFromInfo, describeAdapter, type AdapterInfo } from './adapter.js';

interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

let gpu: GpuLike | null = null;

/** Optional packages, named through variables so that tsc does not need them installed to build. */
const DAWN_PKG: string = 'webgpu';
const TFJS_WEBGPU_PKG: string = '@tensorflow/tfjs-backend-webgpu';

/** Installs Dawn's navigator.gpu and WebGPU globals once; throws (with the import error) when `webgpu` is missing. */
async function installDawn(): Promise<GpuLike> {
  if (gpu) return gpu;
  const dawn = (await import(DAWN_PKG)) as unknown as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  const g = dawn.create([]);
  Object.assign(globalThis, dawn.globals);
  const nav = (globalThis as { navigator?: object }).navigator;
  // Node ≥ 21 has its own navigator object: add gpu to it rather than replacing it.
  if (nav) Object.defineProperty(nav, 'gpu', { value: g, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: g }, configurable: true, writable: true });
  gpu = g;
  return g;
}

function missing(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}

/** The adapter Dawn offers (high-performance preference, as tfjs asks), or why there is none. */
export async function probeAdapter(): Promise<{ adapter: AdapterInfo } | { reason: string }> {
  let g: GpuLike;
  try {
    g = await installDawn();
  } catch (err) {
    return {
      reason: missing(err) ? 'the webgpu package (Dawn) is not installed' : `the webgpu package (Dawn) failed to load: ${firstLine(err)}`,
    };
  }
  let a: AdapterLike | null;
  try {
    a = await g.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { reason: `Dawn's requestAdapter failed: ${firstLine(err)}` };
  }
  if (!a) return { reason: NO_ADAPTER };
  const info = a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : undefined);
  return { adapter: adapterFromInfo(info, a.isFallbackAdapter === true) };
}

/**
 * probeAdapter in a child process whose stderr is dropped: Dawn prints Vulkan loader warnings to
 * the process's stderr when there is no driver, which every command would show if the automatic
 * pick probed in-process. Costs one Node start (~0.3 s).
 */
export function probeAdapterQuietly(): { adapter: AdapterInfo } | { reason: string } {
  let url: string;
  try {
    url = import.meta.resolve(DAWN_PKG);
  } catch {
    return { reason: 'the webgpu package (Dawn) is not installed' };
  }
  const script = `const { create } = await import(${JSON.stringify(url)});
const a = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = a && (a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : {}));
process.stdout.write(JSON.stringify(a ? { info: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description }, fallback: a.isFallbackAdapter === true } : null));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 60_000,
  });
  if (r.status !== 0) return { reason: `probing Dawn for an adapter failed (exit ${r.status ?? r.signal})` };
  const out = JSON.parse(r.stdout || 'null') as { info: AdapterLike['info']; fallback: boolean } | null;
  if (!out) return { reason: NO_ADAPTER };
  return { adapter: adapterFromInfo(out.info, out.fallback) };
}

const softwareOnly = (a: AdapterInfo) => `only a software adapter: ${describeAdapter(a)}; used only when asked for (--backend webgpu)`;

const NO_ADAPTER =
  'Dawn found no WebGPU adapter (no Vulkan/Metal/D3D12 driver; on Debian bookworm, Mesa ≥ 25 from bookworm-backports gives the lavapipe software adapter)';

/**
 * Initialises tfjs's webgpu backend. `allowSoftware` false (the automatic pick) refuses a software
 * adapter. Returns the adapter, or the reason webgpu is not used.
 */
export async function initWebGpu(allowSoftware: boolean): Promise<{ adapter: AdapterInfo } | { reason: string }> {
  // quietly first, asked for or not: without a usable driver Dawn prints native warnings to
  // stderr (seen with bookworm's own Mesa 22.3), which would break the one-line error
  const q = probeAdapterQuietly();
  if ('reason' in q) return q;
  if (q.adapter.software && !allowSoftware) return { reason: softwareOnly(q.adapter) };
  const p = await probeAdapter();
  if ('reason' in p) return p;
  if (p.adapter.software && !allowSoftware) return { reason: softwareOnly(p.adapter) };
  try {
    await import(TFJS_WEBGPU_PKG);
  } catch (err) {
    return {
      reason: missing(err)
        ? '@tensorflow/tfjs-backend-webgpu is not installed'
        : `@tensorflow/tfjs-backend-webgpu failed to load: ${firstLine(err)}`,
    };
  }
  if (!(await tf.setBackend('webgpu'))) return { reason: 'tfjs webgpu backend failed to initialise (requestDevice failed?)' };
  registerWebGpuFixes();
  // tfjs requests its adapter from the same navigator.gpu with the same preference: the one probed
  return p;
}

/** GPU memory the webgpu backend holds: bytes in live tensors and in its buffer pool (0 on other backends). */
export function gpuBufferStats(): { bytesInTensors: number; bytesAllocated: number; buffers: number } {
  if (tf.getBackend() !== 'webgpu') return { bytesInTensors: 0, bytesAllocated: 0, buffers: 0 };
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  const bm = (tf.backend() as unknown as { bufferManager?: { numUsedBuffers: number; numFreeBuffers: number } }).bufferManager;
  return {
    bytesInTensors: m.numBytesInGPU ?? 0,
    bytesAllocated: m.numBytesAllocatedInGPU ?? 0,
    buffers: bm ? bm.numUsedBuffers + bm.numFreeBuffers : 0,
  };
}
