/**
 * Mish and masked GroupNorm (forward and backward) as wasm kernels over the heap, on the SIMD code
 * of wasm/pointwise-module.ts. activations.ts uses them on the wasm backend once
 * `registerPointwiseKernels()` ran (initBackend does, via registerFastWasmKernels); the tfjs-op
 * versions there remain the definition and the path on every other backend.
 *
 * Why: in a decoder training step (dim 32, batch 4, 80 × 128) the GEMMs take ~1.3 s and the
 * element-wise chains of GroupNorm + Mish ~0.5 s: Mish's exp alone runs ~10 ms per 1.3 M floats on
 * wasm, and tf.sum over [1, 2] of an NHWC tensor 3–7 ms. Here each is one or two passes.
 *
 * Kernels (all float32; NHWC x [B, H, W, C] with C a multiple of 4; mask [B, 1, W, 1]):
 *   DiffttsMish {x} → y;  DiffttsMishGrad {x, dy} → dx                                 (any shape)
 *   DiffttsGroupNorm {x, mask, gamma, beta} {groups, eps} → [y, mean [B, C], rstd [B, C]]
 *   DiffttsGroupNormGrad {dy, x, mask, mean, rstd, gamma} {groups} → [dx, dgamma [C], dbeta [C]]
 *   DiffttsGroupNormMishMask {x, mask, gamma, beta, convBias?, bias?, residual?} {groups, eps} → y
 *     y = (Mish(GroupNorm(x + convBias)) + bias)·mask + residual, forward only (norm-mish.ts);
 *     convBias [C], bias [B, C], residual like x
 * mean/rstd are the group statistics repeated per channel. Sums are accumulated per image row in
 * float32, rows in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { pointwiseModuleBytes } from './wasm/pointwise-module.js';
import { byteOffset, instanceOnHeap, scratch, type WasmBackend } from './wasm-backend.js';

type Fn = (...args: number[]) => void;
interface Pointwise {
  mish: Fn;
  mishGrad: Fn;
  rowSum: Fn;
  rowSums2: Fn;
  colSum: Fn;
  affine: Fn;
  affineMasked: Fn;
  normMish: Fn;
}

let compiled: WebAssembly.Module | undefined;

function kernelsOf(be: WasmBackend): Pointwise {
  compiled ??= new WebAssembly.Module(pointwiseModuleBytes());
  return instanceOnHeap(be, compiled) as unknown as Pointwise;
}

const mishScalar = (x: number): number => {
  const n = Math.exp(Math.min(88, Math.max(-87, x)));
  return x - (x * 2) / (n * (n + 2) + 2);
};
const mishGradScalar = (x: number): number => {
  const n = Math.exp(Math.min(88, Math.max(-87, x)));
  const q = 2 / (n * (n + 2) + 2),
    p = 2 / (n + 2 + 2 / n);
  return 1 - q + x * p * (p + q);
};

function mishKernel({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const be = backend as unknown as WasmBackend;
  const x = inputs.x!;
  const out = be.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((a, b) => a * b, 1),
    v = n >> 2;
  const xo = byteOffset(be, x),
    yo = byteOffset(be, out);
  if (v > 0) kernelsOf(be).mish(xo, yo, v);
  const heap = be.wasm.HEAPF32;
  for (let i = 4 * v; i < n; i++) heap[(yo >>> 2) + i] = mishScalar(heap[(xo >>> 2) + i]!);
  return out;
}

function mishGradKernel({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const be = backend as unknown as WasmBackend;
  const x = inputs.x!,
    dy = inputs.dy!;
  const out = be.makeOutput(x.shape, 'float32');
  const n = x.shape.reduce((a, b) => a * b, 1),
    v = n >> 2;
  const xo = byteOffset(be, x),
    dyo = byteOffset(be, dy),
    o = byteOffset(be, out);
  if (v > 0) kernelsOf(be).mishGrad(xo, dyo, o, v);
  const heap = be.wasm.HEAPF32;
  for (let i = 4 * v; i < n; i++) heap[(o >>> 2) + i] = heap[(dyo >>> 2) + i]! * mishGradScalar(heap[(xo >>> 2) + i]!);
  return out;
}

/** Per-(sample, channel) totals over all rows of `pass(row byte offset, mask byte offset, acc…)`, in float64. */
function rowTotals(
  be: WasmBackend,
  b: number,
  h: number,
  w: number,
  c: number,
  accs: number,
  pass: (bi: number, row: number, accOff: number[]) => void,
): Float64Array[] {
  const tmp = scratch(be, accs * c);
  const t0 = byteOffset(be, tmp);
  const offs = [...Array(accs)].map((_, i) => t0 + i * c * 4);
  const totals = [...Array(accs)].map(() => new Float64Array(b * c));
  for (let bi = 0; bi < b; bi++) {
    for (let y = 0; y < h; y++) {
      be.wasm.HEAPF32.fill(0, t0 >>> 2, (t0 >>> 2) + accs * c);
      pass(bi, (bi * h + y) * w * c * 4, offs);
      const heap = be.wasm.HEAPF32;
      for (let a = 0; a < accs; a++) for (let ch = 0; ch < c; ch++) totals[a]![bi * c + ch]! += heap[(offs[a]! >>> 2) + ch]!;
    }
  }
  be.disposeData(tmp.dataId);
  return totals;
}

/** Sums per (sample, group), repeated for each channel of the group, divided by `count[sample]`. */
function groupMean(s: Float64Array, b: number, c: number, groups: number, count: Float64Array): Float64Array {
  const cg = c / groups,
    out = new Float64Array(b * c);
  for (let bi = 0; bi < b; bi++) {
    for (let g = 0; g < groups; g++) {
      let t = 0;
      for (let j = 0; j < cg; j++) t += s[bi * c + g * cg + j]!;
      for (let j = 0; j < cg; j++) out[bi * c + g * cg + j] = t / count[bi]!;
    }
  }
  return out;
}

/** Valid positions per sample in a group: Σ_w mask[b, w] · H · C/groups. */
function validCounts(heap: Float32Array, maskOff: number, b: number, h: number, w: number, cg: number): Float64Array {
  const n = new Float64Array(b);
  for (let bi = 0; bi < b; bi++) {
    let s = 0;
    for (let x = 0; x < w; x++) s += heap[(maskOff >>> 2) + bi * w + x]!;
    n[bi] = s * h * cg;
  }
  return n;
}

/** The first n floats of a tensor's data as float64 (zeros for an absent operand). */
function read(be: WasmBackend, t: tf.TensorInfo | undefined, n: number): Float64Array {
  if (!t) return new Float64Array(n);
  const at = byteOffset(be, t) >>> 2;
  return Float64Array.from(be.wasm.HEAPF32.subarray(at, at + n));
}

/**
 * Masked group statistics of x + convBias (convBias [C], zeros when absent) for GroupNorm:
 * per-channel copies of the group mean `mu` and of 1/√(var + eps) `r` ([B·C] each), and the
 * affine that normalises x itself: y = x·scale + shift with scale = r·γ, shift = β + (cb − μ)·scale.
 * Two passes over x (mean, then squared deviations: no cancellation), sums as rowTotals.
 */
function groupStats(
  be: WasmBackend,
  x: tf.TensorInfo,
  mask: tf.TensorInfo,
  gamma: tf.TensorInfo,
  beta: tf.TensorInfo,
  convBias: tf.TensorInfo | undefined,
  groups: number,
  eps: number,
): { mu: Float64Array; r: Float64Array; scale: Float64Array; shift: Float64Array } {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const cg = c / groups;
  const k = kernelsOf(be);
  const cb = read(be, convBias, c),
    g = read(be, gamma, c),
    bt = read(be, beta, c);
  const centre = scratch(be, b * c);
  const xo = byteOffset(be, x),
    mo = byteOffset(be, mask),
    co = byteOffset(be, centre);
  const count = validCounts(be.wasm.HEAPF32, mo, b, h, w, cg);
  // group means of x + cb: Σ m·(x + cb) = Σ m·x + cb·(valid pixels)
  const [sx] = rowTotals(be, b, h, w, c, 1, (bi, row, [acc]) => k.rowSum(xo + row, mo + bi * w * 4, 0, acc!, w, c, 0));
  const mu = groupMean(
    sx!.map((v, i) => v + (cb[i % c]! * count[Math.floor(i / c)]!) / cg),
    b,
    c,
    groups,
    count,
  );
  // centred sums of squares: x − (μ − cb) = (x + cb) − μ
  fill(
    be,
    centre,
    mu.map((v, i) => v - cb[i % c]!),
  );
  const [sd] = rowTotals(be, b, h, w, c, 1, (bi, row, [acc]) => k.rowSum(xo + row, mo + bi * w * 4, co + bi * c * 4, acc!, w, c, 1));
  be.disposeData(centre.dataId);
  const r = groupMean(sd!, b, c, groups, count).map((v) => 1 / Math.sqrt(v + eps));
  const scale = new Float64Array(b * c),
    shift = new Float64Array(b * c);
  for (let i = 0; i < b * c; i++) {
    scale[i] = r[i]! * g[i % c]!;
    shift[i] = bt[i % c]! + (cb[i % c]! - mu[i]!) * scale[i]!;
  }
  return { mu, r, scale, shift };
}

/** Writes float64 values into the heap at a tensor's data (as float32). */
function fill(be: WasmBackend, t: tf.TensorInfo, values: ArrayLike<number>, at = 0): void {
  be.wasm.HEAPF32.set(values, (byteOffset(be, t) >>> 2) + at);
}

function groupNormKernel({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const be = backend as unknown as WasmBackend;
  const { x, mask, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { groups, eps } = attrs as unknown as { groups: number; eps: number };
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const k = kernelsOf(be);
  const y = be.makeOutput(x!.shape, 'float32');
  const mean = be.makeOutput([b, c], 'float32'),
    rstd = be.makeOutput([b, c], 'float32');
  const st = scratch(be, 2 * b * c); // per-sample scale and shift rows
  const { mu, r, scale, shift } = groupStats(be, x!, mask!, gamma!, beta!, undefined, groups, eps);
  fill(be, mean, mu);
  fill(be, rstd, r);
  fill(be, st, scale);
  fill(be, st, shift, b * c);
  const xo = byteOffset(be, x!),
    so = byteOffset(be, st),
    yo = byteOffset(be, y);
  for (let bi = 0; bi < b; bi++) {
    k.affine(xo + bi * h * w * c * 4, so + bi * c * 4, so + (b + bi) * c * 4, yo + bi * h * w * c * 4, h * w, c);
  }
  be.disposeData(st.dataId);
  return [y, mean, rstd];
}

function groupNormGradKernel({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo[] {
  const be = backend as unknown as WasmBackend;
  const { dy, x, mask, mean, rstd, gamma } = inputs as Record<string, tf.TensorInfo>;
  const { groups } = attrs as unknown as { groups: number };
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const k = kernelsOf(be);
  const dx = be.makeOutput(x!.shape, 'float32');
  const dgamma = be.makeOutput([c], 'float32'),
    dbeta = be.makeOutput([c], 'float32');
  const uvt = scratch(be, 3 * b * c);
  const dyo = byteOffset(be, dy!),
    xo = byteOffset(be, x!),
    mo = byteOffset(be, mask!);
  const count = validCounts(be.wasm.HEAPF32, mo, b, h, w, c / groups);
  const [sDy, sDyX] = rowTotals(be, b, h, w, c, 2, (_bi, row, [a1, a2]) => k.rowSums2(dyo + row, xo + row, a1!, a2!, w, c));
  const rs = read(be, rstd, b * c),
    mus = read(be, mean, b * c),
    gs = read(be, gamma, c);
  const db = new Float64Array(c),
    dg = new Float64Array(c);
  const gDy = new Float64Array(b * c),
    gDyXh = new Float64Array(b * c);
  for (let i = 0; i < b * c; i++) {
    const r = rs[i]!,
      mu = mus[i]!,
      gm = gs[i % c]!;
    const sxh = r * (sDyX![i]! - mu * sDy![i]!); // Σ dy·x̂
    db[i % c] += sDy![i]!;
    dg[i % c] += sxh;
    gDy[i] = sDy![i]! * gm;
    gDyXh[i] = sxh * gm;
  }
  const s1 = groupMean(gDy, b, c, groups, count),
    s2 = groupMean(gDyXh, b, c, groups, count);
  const u = new Float64Array(b * c),
    v = new Float64Array(b * c),
    t = new Float64Array(b * c);
  for (let i = 0; i < b * c; i++) {
    const r = rs[i]!,
      mu = mus[i]!,
      gm = gs[i % c]!;
    u[i] = r * gm;
    v[i] = -r * r * s2[i]!;
    t[i] = -(r * s1[i]! - mu * r * r * s2[i]!);
  }
  fill(be, uvt, u);
  fill(be, uvt, v, b * c);
  fill(be, uvt, t, 2 * b * c);
  fill(be, dgamma, dg);
  fill(be, dbeta, db);
  const po = byteOffset(be, uvt),
    o = byteOffset(be, dx);
  for (let bi = 0; bi < b; bi++) {
    for (let y = 0; y < h; y++) {
      const row = (bi * h + y) * w * c * 4;
      k.affineMasked(
        dyo + row,
        xo + row,
        mo + bi * w * 4,
        po + bi * c * 4,
        po + (b + bi) * c * 4,
        po + (2 * b + bi) * c * 4,
        o + row,
        w,
        c,
      );
    }
  }
  be.disposeData(uvt.dataId);
  return [dx, dgamma, dbeta];
}

/**
 * Σ over the leading `rows` of x viewed as [rows, c] (c a multiple of 4): blocks of 256 rows in
 * float32, blocks added in float64. Written into `out` ([c] floats at its data).
 */
export function sumLeadingRows(be: WasmBackend, x: tf.TensorInfo, rows: number, c: number, out: tf.TensorInfo): void {
  const k = kernelsOf(be);
  const acc = scratch(be, c);
  const a0 = byteOffset(be, acc),
    x0 = byteOffset(be, x);
  const total = new Float64Array(c);
  for (let r = 0; r < rows; r += 256) {
    be.wasm.HEAPF32.fill(0, a0 >>> 2, (a0 >>> 2) + c);
    k.colSum(x0 + r * c * 4, a0, Math.min(256, rows - r), c);
    const heap = be.wasm.HEAPF32;
    for (let ch = 0; ch < c; ch++) total[ch] += heap[(a0 >>> 2) + ch]!;
  }
  be.disposeData(acc.dataId);
  fill(be, out, total);
}

function groupNormMishKernel({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const be = backend as unknown as WasmBackend;
  const { x, mask, gamma, beta, convBias, bias, residual } = inputs as Record<string, tf.TensorInfo | undefined>;
  const { groups, eps } = attrs as unknown as { groups: number; eps: number };
  const [b, h, w, c] = x!.shape as [number, number, number, number];
  const k = kernelsOf(be);
  const y = be.makeOutput(x!.shape, 'float32');
  const st = scratch(be, 2 * b * c + c); // scale rows, shift rows, a zero bias row
  const xo = byteOffset(be, x!),
    mo = byteOffset(be, mask!),
    so = byteOffset(be, st);
  const { scale, shift } = groupStats(be, x!, mask!, gamma!, beta!, convBias, groups, eps);
  fill(be, st, scale);
  fill(be, st, shift, b * c);
  fill(be, st, new Float64Array(c), 2 * b * c);
  const yo = byteOffset(be, y),
    bo = bias ? byteOffset(be, bias) : 0,
    ro = residual ? byteOffset(be, residual) : 0;
  for (let bi = 0; bi < b; bi++) {
    const biasRow = bias ? bo + bi * c * 4 : so + 2 * b * c * 4;
    for (let yy = 0; yy < h; yy++) {
      const row = (bi * h + yy) * w * c * 4;
      k.normMish(xo + row, so + bi * c * 4, so + (b + bi) * c * 4, biasRow, mo + bi * w * 4, ro + row, yo + row, w, c, residual ? 1 : 0);
    }
  }
  be.disposeData(st.dataId);
  return y;
}

const KERNELS: [string, (args: Parameters<tf.KernelFunc>[0]) => tf.TensorInfo | tf.TensorInfo[]][] = [
  ['DiffttsMish', mishKernel],
  ['DiffttsMishGrad', mishGradKernel],
  ['DiffttsGroupNorm', groupNormKernel],
  ['DiffttsGroupNormGrad', groupNormGradKernel],
  ['DiffttsGroupNormMishMask', groupNormMishKernel],
];

export function registerPointwiseKernels(): void {
  for (const [name, kernelFunc] of KERNELS)
    if (!tf.getKernel(name, 'wasm')) tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

export function unregisterPointwiseKernels(): void {
  for (const [name] of KERNELS) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
}

/** Whether activations.ts should use these kernels now (wasm active and registered). */
export function pointwiseActive(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel('DiffttsMish', 'wasm') !== undefined;
}

/** Whether the GroupNorm kernels take these operands (float32, C a multiple of 4, mask [B, 1, W, 1]). */
export function groupNormFits(x: tf.Tensor4D, mask: tf.Tensor): boolean {
  const [b, , w, c] = x.shape;
  const m = mask.shape;
  return (
    x.dtype === 'float32' &&
    mask.dtype === 'float32' &&
    c % 4 === 0 &&
    m.length === 4 &&
    m[0] === b &&
    m[1] === 1 &&
    m[2] === w &&
    m[3] === 1
  );
}
