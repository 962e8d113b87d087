/**
 * Picks the tfjs backend at run time: tfjs-node-gpu → webgpu (hardware adapter) → tfjs-node → wasm → cpu.
 *
 * The native packages cannot always be installed (their install downloads libtensorflow, and
 * npm 11 only runs install scripts that `allowScripts` approves), so each is probed with a
 * dynamic import inside try/catch and the reason it was not used is recorded for `difftts backend`.
 * Override with `--backend NAME` or the DIFFTTS_BACKEND environment variable. webgpu (src/backend/webgpu.ts)
 * is picked automatically only on a hardware adapter; a software one (lavapipe) only when requested.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import { registerFastWasmKernels } from '../kernels/register.js';
import { gemmUsesFma } from '../kernels/gemm.js';
import { registerWebGpuFixes } from '../kernels/webgpu.js';
import { describeAdapter, initWebGpu, type AdapterInfo } from './webgpu.js';

export const BACKEND_NAMES = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendChoice {
  /** The difftts name of the backend that runs. */
  name: BackendName;
  /** tfjs's own backend id ('tensorflow', 'webgpu', 'wasm' or 'cpu'). */
  tfName: string;
  /** Why it was chosen (requested, or first available). */
  why: string;
  /** For each backend tried before it and not used: why not. */
  skipped: { name: BackendName; reason: string }[];
  /** What difftts added to the backend (e.g. the wasm training kernels). */
  notes: string[];
  /** The WebGPU adapter, when the backend is webgpu. */
  adapter?: AdapterInfo;
}

let current: BackendChoice | null = null;

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  try {
    await import(pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return `${pkg} is not installed`;
    return `${pkg} failed to load: ${firstLine(err)}`;
  }
  if (!tf.findBackend('tensorflow')) {
    return `${pkg} loaded but registered no 'tensorflow' backend with this @tensorflow/tfjs (version mismatch?)`;
  }
  const ok = await tf.setBackend('tensorflow');
  return ok ? null : `${pkg} backend failed to initialise`;
}

/**
 * tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter (every conv weight gradient), slow
 * Conv2DBackpropInput / flagged BatchMatMul, and XNNPACK GEMMs at 25–30 GFLOP/s here; src/kernels
 * supplies its own SIMD GEMM-based kernels (and Mish/GroupNorm), registered here so every entry
 * point (training, synthesis, evaluation, library use) runs the same way.
 * DIFFTTS_WASM_KERNELS=off keeps tfjs's own (for A/B comparisons; training then fails on convs).
 */
/** Whether registerFastWasmKernels() took effect (false without WebAssembly SIMD). */
let kernelsOnWasm = false;

function wasmNote(): string {
  if (!kernelsOnWasm)
    return "difftts wasm kernels not registered (no WebAssembly SIMD in this runtime, or DIFFTTS_WASM_KERNELS=off): tfjs's own kernels run, training is several times slower";
  return `difftts kernels registered on wasm: Conv2D, Conv2DBackpropFilter (missing in tfjs-backend-wasm), Conv2DBackpropInput, BatchMatMul on difftts's SIMD GEMM (${gemmUsesFma() ? 'relaxed-SIMD FMA' : 'mul+add: relaxed SIMD unavailable or DIFFTTS_WASM_FMA=off'}), Mish, GroupNorm, leading-axes Sum, shared Identity (src/kernels)`;
}

async function tryWasm(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    const ok = await tf.setBackend('wasm');
    if (ok && process.env.DIFFTTS_WASM_KERNELS !== 'off') kernelsOnWasm = registerFastWasmKernels();
    return ok ? null : 'wasm backend failed to initialise';
  } catch (err) {
    return `wasm backend failed: ${firstLine(err)}`;
  }
}

async function tryCpu(): Promise<string | null> {
  return (await tf.setBackend('cpu')) ? null : 'cpu backend failed to initialise';
}

let webgpuAdapter: AdapterInfo | undefined;

async function tryWebGpu(requested: boolean): Promise<string | null> {
  const r = await initWebGpu(requested);
  if ('reason' in r) return r.reason;
  webgpuAdapter = r.adapter;
  return null;
}

const probes: Record<BackendName, (requested: boolean) => Promise<string | null>> = {
  'tfjs-node-gpu': () => tryNative('@tensorflow/tfjs-node-gpu'),
  webgpu: tryWebGpu,
  'tfjs-node': () => tryNative('@tensorflow/tfjs-node'),
  wasm: tryWasm,
  cpu: tryCpu,
};

/** Normalises user spellings ('gpu', 'node', 'tensorflow') to a BackendName, or throws UserError. */
export function parseBackendName(s: string, source: string): BackendName {
  const aliases: Record<string, BackendName> = { gpu: 'tfjs-node-gpu', node: 'tfjs-node', tensorflow: 'tfjs-node', dawn: 'webgpu' };
  const name = (aliases[s] ?? s) as BackendName;
  if (!BACKEND_NAMES.includes(name)) {
    throw new UserError(`${source}: unknown backend '${s}' (expected one of ${BACKEND_NAMES.join(', ')})`);
  }
  return name;
}

/**
 * Initialises and returns the backend. `requested` (flag) wins over DIFFTTS_BACKEND; with neither,
 * the first backend that works is taken. A requested backend that fails is a UserError — we do not
 * silently fall back when the user asked for something specific.
 */
export async function initBackend(requested?: string): Promise<BackendChoice> {
  if (current) return current;
  const fromEnv = process.env.DIFFTTS_BACKEND;
  const req = requested ? parseBackendName(requested, '--backend') : fromEnv ? parseBackendName(fromEnv, 'DIFFTTS_BACKEND') : null;
  const skipped: BackendChoice['skipped'] = [];
  if (req) {
    const reason = await probes[req](true);
    if (reason)
      throw new UserError(`backend '${req}' was requested (${requested ? '--backend' : 'DIFFTTS_BACKEND'}) but is unavailable: ${reason}`);
    for (const n of BACKEND_NAMES)
      if (n !== req) skipped.push({ name: n, reason: `not requested (${requested ? '--backend' : 'DIFFTTS_BACKEND'}=${req})` });
    current = withAdapter({
      name: req,
      tfName: tf.getBackend(),
      why: `requested by ${requested ? '--backend' : 'DIFFTTS_BACKEND'}`,
      skipped,
      notes: notesFor(req),
    });
  } else {
    for (const n of BACKEND_NAMES) {
      const reason = await probes[n](false);
      if (reason === null) {
        current = withAdapter({
          name: n,
          tfName: tf.getBackend(),
          why: `first available in the order ${BACKEND_NAMES.join(' → ')} (webgpu: hardware adapters only)`,
          skipped,
          notes: notesFor(n),
        });
        break;
      }
      skipped.push({ name: n, reason });
    }
    if (!current) throw new UserError('no tfjs backend could be initialised');
  }
  return current;
}

function notesFor(name: BackendName): string[] {
  if (name === 'wasm') return [wasmNote()];
  if (name === 'webgpu')
    return [
      `tfjs-backend-webgpu's kernels (all the model needs, gradients included), with difftts's fix for ${registerWebGpuFixes().join(', ')} (src/kernels/webgpu.ts); tensors are read asynchronously`,
    ];
  return [];
}

function withAdapter(c: BackendChoice): BackendChoice {
  return c.name === 'webgpu' && webgpuAdapter ? { ...c, adapter: webgpuAdapter } : c;
}

/** What the active backend can do: the one answer to every question callers ask of it (see `capabilities`). */
export interface Capabilities {
  /** The backend workers start: difftts's name of the one initBackend chose, else tfjs's id (a caller's tf.setBackend). */
  name: string;
  /** tfjs's own id of the active backend: 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  tfName: string;
  /** tfjs's native TensorFlow binding (tfjs-node or tfjs-node-gpu), which has every gradient kernel. */
  native: boolean;
  /**
   * The backend spreads each op over the machine itself (tfjs-node's threads, a GPU through webgpu),
   * so difftts's workers would only compete with it: "auto" workers = 1.
   */
  parallelisesOps: boolean;
  /**
   * `dataSync()` works. False on webgpu (it needs OffscreenCanvas, missing in Node): callers read with
   * `await data()`, and training reads MAS's input before the gradient tape (`Trainable.prepare`).
   */
  syncReads: boolean;
}

/**
 * The active backend's capabilities, read now (tests and benchmarks switch backends with tf.setBackend).
 * Two per-kernel checks stay with the code they switch, since the web page bundles it and this module
 * is Node's: model/ops.ts (replacement gradients where a kernel is missing) and kernels/pointwise.ts.
 */
export function capabilities(): Capabilities {
  const tfName = tf.getBackend();
  const native = tfName === 'tensorflow';
  return { name: current?.name ?? tfName, tfName, native, parallelisesOps: native || tfName === 'webgpu', syncReads: tfName !== 'webgpu' };
}

/** One paragraph for humans: which backend runs and why the others did not. */
export function describeBackend(c: BackendChoice): string {
  const lines = [`backend: ${c.name} (tfjs '${c.tfName}') — ${c.why}`];
  if (c.adapter) lines.push(`  adapter: ${describeAdapter(c.adapter)}`);
  for (const s of c.skipped) lines.push(`  not ${s.name}: ${s.reason}`);
  for (const n of c.notes) lines.push(`  ${n}`);
  return lines.join('\n');
}
