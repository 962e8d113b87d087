/**
 * Winograd minimal filtering for stride-1 3×3 convolutions (Lavin & Gray 2016), F(2×2, 3×3) and
 * F(4×4, 3×3), on difftts's wasm GEMM (gemm.ts) — the forward pass, the input gradient (a stride-1
 * 3×3 conv of dy with the flipped, in/out-swapped filter) and the filter gradient.
 *
 * Per block of output tiles (m×m outputs, n×n = (m+2)² inputs each; tile rows sized so the block's
 * operands stay in L2):
 *   forward  V_ξ [tiles, cin] = Bᵀ·d·B (wasm/winograd-module.ts), then n² GEMMs
 *            M_ξ [tiles, cout] = V_ξ · U_ξ with U_ξ = (G·g·Gᵀ)_ξ [cin, cout] packed once, then
 *            y = Aᵀ·M·A written straight into the output (edge tiles clipped);
 *   dW       dU_ξ [cin, cout] += V_ξᵀ · (A·dY·Aᵀ)_ξ — the dy transform writes the GEMM's packed B
 *            directly, the tiles are the GEMM's long inner dimension — then dW = Gᵀ·dU·G.
 * The n² products per tile replace 9·m² multiply-adds: 2.25× fewer for F2, 4× for F4.
 *
 * Which convolutions take which path is `winogradVariant` (measured table below; DIFFTTS_WINOGRAD=0
 * turns Winograd off, =2 / =4 forces a variant wherever it applies). Results differ from the direct
 * kernels by float32 rounding only (F4 more than F2; see winograd.test.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import { gemmOf } from './gemm.js';
import { paddedCopy } from './conv-gemm.js';
import type { ConvGeometry } from './conv.js';
import { byteOffset, instanceOnHeap, scratch, type WasmBackend } from './wasm-backend.js';
import { winogradModuleBytes } from './wasm/winograd-module.js';
import { freeAtScopeEnd, isFrozen } from './frozen.js';

type Fn = (...args: number[]) => void;
type Transforms = Record<`${'in' | 'filter' | 'out' | 'dy' | 'back'}${2 | 4}`, Fn>;

let compiled: WebAssembly.Module | undefined;
function transforms(be: WasmBackend): Transforms {
  compiled ??= new WebAssembly.Module(winogradModuleBytes());
  return instanceOnHeap(be, compiled) as unknown as Transforms;
}

export type Variant = 2 | 4;
export type Pass = 'forward' | 'dx' | 'dw';
export type WinogradMode = 'auto' | 'off' | Variant;

let mode: WinogradMode | undefined;

/** DIFFTTS_WINOGRAD: 0/off = direct kernels only, 2 or 4 = that variant wherever it applies, else the measured choice. */
function currentMode(): WinogradMode {
  if (mode) return mode;
  const v = process.env.DIFFTTS_WINOGRAD;
  mode = v === '0' || v === 'off' ? 'off' : v === '2' ? 2 : v === '4' ? 4 : 'auto';
  return mode;
}

/** Overrides DIFFTTS_WINOGRAD for this process (tests, A/B benchmarks); returns the previous mode. */
export function setWinogradMode(m: WinogradMode): WinogradMode {
  const prev = currentMode();
  mode = m;
  return prev;
}

/** Whether the Winograd kernels can compute this conv: 3×3, stride 1, padding ≤ 2, channels multiples of 4. */
export function winogradApplies(g: ConvGeometry): boolean {
  return (
    g.kh === 3 &&
    g.kw === 3 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.cin % 4 === 0 &&
    g.cout % 4 === 0 &&
    g.padTop >= 0 &&
    g.padTop <= 2 &&
    g.padLeft >= 0 &&
    g.padLeft <= 2 &&
    g.outH > 0 &&
    g.outW > 0 &&
    g.b > 0 &&
    g.cin > 0 &&
    g.cout > 0
  );
}

/**
 * The U-Net's 3×3 stride-1 convs with ≥ 4 input channels for base width d (src/model/unet.ts): [level, cin, cout]
 * (Grad-TTS layout, mults 1/2/4: downs d→d, d→2d, 2d→4d; mid 4d; ups 8d→2d, 4d→d; each block's second conv cout→cout).
 */
export function unetConvs(d: number): [number, number, number][] {
  return [
    [0, d, d],
    [1, d, 2 * d],
    [1, 2 * d, 2 * d],
    [1, 4 * d, d],
    [1, d, d],
    [2, 2 * d, 4 * d],
    [2, 4 * d, 4 * d],
    [2, 8 * d, 2 * d],
    [2, 2 * d, 2 * d],
  ];
}

/**
 * The variant for one pass of a conv, or 0 for the direct kernel — from measurements on this
 * machine (Zen 4, 2 shared vCPUs, relaxed-SIMD FMA GEMM; process-CPU ms per call, fastest of 6
 * interleaved repetitions; `node dist/bench/winograd-profile.js 128 4 16,32` and `… 460 1 16`):
 *
 *   geometry (B, H, W, cin → cout)     direct   F2     F4    (forward; dx and dW alike)
 *   4, 80, 128, 16 → 16                 4.82    4.73   4.09
 *   4, 80, 128, 32 → 32                17.64   12.92  10.41   (dW 23.30 / 13.93 / 11.83)
 *   4, 40, 64, 64 → 64                 16.71   10.03   7.39
 *   4, 20, 32, 128 → 128               17.57    9.17   6.85
 *   1, 80, 460, 16 → 16 (synthesis)     4.53    4.23   3.98   (dx 6.58 / 4.56 / 3.82)
 *   4, 1, 128, 32 → 32 (one row)        0.41    0.47   0.77
 *   4, 2, 128, 32 → 32                  0.44    0.46   0.60   (dx 0.45 / 0.41 / 0.65)
 *   4, 3, 128, 32 → 32                  0.79    0.83   0.63
 *   4, 2, 2, 64 → 64                    0.05    0.10   0.25   (dx 0.18 / 0.15 / 0.33)
 *
 * F4 wins on every U-Net geometry of tiny/small/full (1.1–2.6×; docs/PERFORMANCE.md has the whole
 * table); an F4 tile's 4×4 outputs are mostly padding when the image is 1–2 rows or columns, or
 * ≤ 4×4 pixels: there the direct kernel (forward) or F2 (gradients) is as fast or faster.
 */
export function winogradVariant(g: ConvGeometry, pass: Pass): 0 | Variant {
  const m = currentMode();
  if (m === 'off' || !winogradApplies(g)) return 0;
  if (m !== 'auto') return m;
  const small = Math.min(g.outH, g.outW);
  if (small === 1) return 0;
  if (small === 2 || g.outH * g.outW <= 16) return pass === 'forward' ? 0 : 2;
  return 4;
}

/** Byte budget of one block's transformed tiles (V and M, or V and Ṁ): within L2 with room for U. */
const BLOCK_BYTES = 384 * 1024;

/**
 * Extra bytes between the n² planes of a block: plane sizes are often multiples of 4 KB, and the
 * transforms touch all n² planes per tile — at such strides they share L1 sets (in4 15 %, in2 37 %
 * slower in a micro-benchmark).
 */
const PLANE_PAD = 64;

const sizes = (w: Variant) => ({ m: w, n: w + 2, nn: (w + 2) * (w + 2) });

/**
 * U_ξ = (G·g·Gᵀ)_ξ packed per ξ as the GEMM's B: forward [cin, cout] (k = ci), or for the input
 * gradient the flipped filter with in/out swapped, [cout, cin] (k = co).
 * @returns the packed buffer and the byte stride between the ξ.
 */
function packedFilter(
  be: WasmBackend,
  f: tf.TensorInfo,
  cin: number,
  cout: number,
  w: Variant,
  flipped: boolean,
): { buf: tf.TensorInfo; xi: number } {
  const { n, nn } = sizes(w);
  const S = cin * cout * 4;
  const u = scratch(be, nn * cin * cout);
  const uOff = byteOffset(be, u),
    fOff = byteOffset(be, f);
  // Ũ[ξ][ci][co] (vectors over co; tiles = ci); the flip walks the taps backwards
  const src = flipped ? fOff + 8 * S : fOff,
    sRow = flipped ? -3 * S : 3 * S,
    sCol = flipped ? -S : S;
  transforms(be)[`filter${w}`](src, sRow, sCol, cout * 4, uOff, n * S, S, cout * 4, 64, cin, cout, n, n);
  const [k, nCols] = flipped ? [cout, cin] : [cin, cout];
  const xi = Math.ceil(nCols / 16) * 16 * k * 4;
  const out = scratch(be, (nn * xi) / 4);
  const oOff = byteOffset(be, out),
    g = gemmOf(be);
  for (let x = 0; x < nn; x++) {
    if (flipped) g.packB(uOff + x * S, 4, cout * 4, k, nCols, oOff + x * xi);
    else g.packB(uOff + x * S, cout * 4, 4, k, nCols, oOff + x * xi);
  }
  be.disposeData(u.dataId);
  return { buf: out, xi };
}

type Packed = { buf: tf.TensorInfo; xi: number };
/** Packed transforms of frozen filters (frozen.ts), by filter data, then variant and flip. */
const keptFilters = new WeakMap<object, Map<string, Packed>>();

/**
 * packedFilter, kept while `f` is a frozen weight (a synthesis' decoder: the same filters every
 * step); `release` frees the result unless it is kept.
 */
function filterFor(
  be: WasmBackend,
  f: tf.TensorInfo,
  cin: number,
  cout: number,
  w: Variant,
  flipped: boolean,
): { u: Packed; release: () => void } {
  if (!isFrozen(f.dataId)) {
    const u = packedFilter(be, f, cin, cout, w, flipped);
    return { u, release: () => be.disposeData(u.buf.dataId) };
  }
  let perFilter = keptFilters.get(f.dataId);
  if (!perFilter) keptFilters.set(f.dataId, (perFilter = new Map()));
  const key = `${w}${flipped ? 'f' : ''}`;
  let u = perFilter.get(key);
  if (!u) {
    const made = packedFilter(be, f, cin, cout, w, flipped);
    perFilter.set(key, made);
    const map = perFilter;
    freeAtScopeEnd(() => {
      be.disposeData(made.buf.dataId);
      map.delete(key);
    });
    u = made;
  }
  return { u, release: () => {} };
}

/**
 * Core of forward and input gradient: y [b, outH, outW, cout] at byte offset `y` from a padded
 * input (b images of `rows` × `cols` pixels × cin at `src`, output pixel (oy, ox)'s window at row
 * oy, column ox) and the packed transformed filter.
 */
function convTiles(
  be: WasmBackend,
  src: number,
  rows: number,
  cols: number,
  b: number,
  cin: number,
  cout: number,
  outH: number,
  outW: number,
  u: { buf: tf.TensorInfo; xi: number },
  y: number,
  w: Variant,
): void {
  const { m, n, nn } = sizes(w);
  const tH = Math.ceil(outH / m),
    tW = Math.ceil(outW / m);
  const perRow = Math.max(1, Math.floor(BLOCK_BYTES / (nn * tW * (cin + cout) * 4)));
  const blockRows = Math.min(perRow, b * tH);
  const vBuf = scratch(be, nn * (blockRows * tW * cin + PLANE_PAD / 4)),
    mBuf = scratch(be, nn * (blockRows * tW * cout + PLANE_PAD / 4));
  const V = byteOffset(be, vBuf),
    M = byteOffset(be, mBuf),
    U = byteOffset(be, u.buf);
  const tr = transforms(be),
    tin = tr[`in${w}`],
    tout = tr[`out${w}`],
    gemm = gemmOf(be).gemm;
  const pix = cin * 4,
    rowBytes = cols * pix,
    yRow = outW * cout * 4;
  const fullW = outW % m === 0 ? tW : tW - 1,
    edgeW = outW - (tW - 1) * m;
  for (let g0 = 0; g0 < b * tH; g0 += blockRows) {
    const nr = Math.min(blockRows, b * tH - g0),
      nt = nr * tW;
    const vXi = nt * cin * 4 + PLANE_PAD,
      mXi = nt * cout * 4 + PLANE_PAD;
    for (let r = 0; r < nr; r++) {
      const bi = Math.floor((g0 + r) / tH),
        ty = (g0 + r) % tH;
      tin(src + (bi * rows + ty * m) * rowBytes, rowBytes, pix, m * pix, V + r * tW * cin * 4, n * vXi, vXi, cin * 4, 64, tW, cin, n, n);
    }
    for (let x = 0; x < nn; x++) gemm(V + x * vXi, cin * 4, 4, 0, 0, 1, 1, U + x * u.xi, cin * 64, M + x * mXi, cout * 4, nt, cout, cin, 0);
    for (let r = 0; r < nr; r++) {
      const bi = Math.floor((g0 + r) / tH),
        ty = (g0 + r) % tH;
      const wr = Math.min(m, outH - ty * m);
      const s = M + r * tW * cout * 4,
        d = y + (bi * outH + ty * m) * yRow;
      if (fullW > 0) tout(s, n * mXi, mXi, cout * 4, d, yRow, cout * 4, m * cout * 4, 64, fullW, cout, wr, m);
      if (fullW < tW)
        tout(s + fullW * cout * 4, n * mXi, mXi, cout * 4, d + fullW * m * cout * 4, yRow, cout * 4, 0, 64, 1, cout, wr, edgeW);
    }
  }
  be.disposeData(vBuf.dataId);
  be.disposeData(mBuf.dataId);
}

/** x padded for a tile grid over geometry g's output: (tH·m + 2) × (tW·m + 2) pixels, x at (padTop, padLeft). */
function paddedInput(be: WasmBackend, x: tf.TensorInfo, g: ConvGeometry, m: number): { buf: tf.TensorInfo; rows: number; cols: number } {
  const rows = Math.ceil(g.outH / m) * m + 2,
    cols = Math.ceil(g.outW / m) * m + 2;
  return { buf: paddedCopy(be, x, g.b, g.h, g.w, g.cin, g.padTop, g.padLeft, rows, cols), rows, cols };
}

/** Conv2D by Winograd: x [b, h, w, cin], f [3, 3, cin, cout] → [b, outH, outW, cout]. */
export function conv2dWinograd(be: WasmBackend, x: tf.TensorInfo, f: tf.TensorInfo, g: ConvGeometry, w: Variant): tf.TensorInfo {
  const out = be.makeOutput([g.b, g.outH, g.outW, g.cout], 'float32');
  const { u, release } = filterFor(be, f, g.cin, g.cout, w, false);
  const xp = paddedInput(be, x, g, w);
  convTiles(be, byteOffset(be, xp.buf), xp.rows, xp.cols, g.b, g.cin, g.cout, g.outH, g.outW, u, byteOffset(be, out), w);
  be.disposeData(xp.buf.dataId);
  release();
  return out;
}

/**
 * Conv2DBackpropInput (stride 1) by Winograd: a stride-1 3×3 conv of dy with the flipped filter,
 * in/out swapped, padded by 2 − pad. dy [b, outH, outW, cout] → dx [b, h, w, cin].
 */
export function convBackpropInputWinograd(
  be: WasmBackend,
  dy: tf.TensorInfo,
  f: tf.TensorInfo,
  g: ConvGeometry,
  w: Variant,
): tf.TensorInfo {
  const out = be.makeOutput([g.b, g.h, g.w, g.cin], 'float32');
  const { u, release } = filterFor(be, f, g.cin, g.cout, w, true);
  const rows = Math.ceil(g.h / w) * w + 2,
    cols = Math.ceil(g.w / w) * w + 2;
  const dyp = paddedCopy(be, dy, g.b, g.outH, g.outW, g.cout, 2 - g.padTop, 2 - g.padLeft, rows, cols);
  convTiles(be, byteOffset(be, dyp), rows, cols, g.b, g.cout, g.cin, g.h, g.w, u, byteOffset(be, out), w);
  be.disposeData(dyp.dataId);
  release();
  return out;
}

/** Conv2DBackpropFilter by Winograd: x [b, h, w, cin], dy [b, outH, outW, cout] → dW [3, 3, cin, cout]. */
export function convBackpropFilterWinograd(
  be: WasmBackend,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
  w: Variant,
): tf.TensorInfo {
  const { m, n, nn } = sizes(w);
  const { b, cin, cout, outH, outW } = g;
  const out = be.makeOutput([3, 3, cin, cout], 'float32');
  const tH = Math.ceil(outH / m),
    tW = Math.ceil(outW / m);
  const xp = paddedInput(be, x, g, m);
  const dyp = paddedCopy(be, dy, b, outH, outW, cout, 0, 0, tH * m, tW * m);
  const panels = Math.ceil(cout / 16);
  const perRow = Math.max(1, Math.floor(BLOCK_BYTES / (nn * tW * (cin + panels * 16) * 4)));
  const blockRows = Math.min(perRow, b * tH);
  const dFloats = nn * (blockRows * tW * panels * 16 + PLANE_PAD / 4);
  const vBuf = scratch(be, nn * (blockRows * tW * cin + PLANE_PAD / 4)),
    dBuf = scratch(be, dFloats);
  const duBuf = scratch(be, nn * cin * cout);
  const heap = be.wasm.HEAPF32;
  const V = byteOffset(be, vBuf),
    D = byteOffset(be, dBuf),
    dU = byteOffset(be, duBuf);
  // packed columns past cout are read by the GEMM (never stored): keep them finite
  if (cout % 16 !== 0) heap.fill(0, D >>> 2, (D >>> 2) + dFloats);
  const tr = transforms(be),
    tin = tr[`in${w}`],
    tdy = tr[`dy${w}`],
    gemm = gemmOf(be).gemm;
  const X = byteOffset(be, xp.buf),
    DY = byteOffset(be, dyp);
  const pix = cin * 4,
    rowBytes = xp.cols * pix,
    dyRow = tW * m * cout * 4;
  for (let g0 = 0; g0 < b * tH; g0 += blockRows) {
    const nr = Math.min(blockRows, b * tH - g0),
      nt = nr * tW;
    const vXi = nt * cin * 4 + PLANE_PAD,
      dXi = panels * nt * 64 + PLANE_PAD;
    for (let r = 0; r < nr; r++) {
      const bi = Math.floor((g0 + r) / tH),
        ty = (g0 + r) % tH;
      tin(X + (bi * xp.rows + ty * m) * rowBytes, rowBytes, pix, m * pix, V + r * tW * cin * 4, n * vXi, vXi, cin * 4, 64, tW, cin, n, n);
      tdy(DY + (bi * tH + ty) * m * dyRow, dyRow, cout * 4, m * cout * 4, D + r * tW * 64, n * dXi, dXi, 64, nt * 64, tW, cout, n, n);
    }
    for (let x = 0; x < nn; x++)
      gemm(V + x * vXi, 4, cin * 4, 0, 0, 1, 1, D + x * dXi, nt * 64, dU + x * cin * cout * 4, cout * 4, cin, cout, nt, g0 > 0 ? 1 : 0);
  }
  const S = cin * cout * 4;
  tr[`back${w}`](dU, n * S, S, cout * 4, byteOffset(be, out), 3 * S, S, cout * 4, 64, cin, cout, 3, 3);
  for (const t of [xp.buf, dyp, vBuf, dBuf, duBuf]) be.disposeData(t.dataId);
  return out;
}
