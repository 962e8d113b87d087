/**
 * The conv computations behind the wasm kernels that src/kernels/register.ts installs (NHWC,
 * geometry as tf.conv2d's), using only the operations that are fast on the wasm backend:
 *
 * - forward conv (the registered Conv2D): implicit GEMM on difftts's wasm GEMM (gemm.ts), one call
 *   per output row summing over the kh×kw taps of a zero-padded copy of x (~40–47 GFLOP/s here;
 *   XNNPACK's Conv2D runs 25–31);
 * - input gradient, stride 1: a forward conv of dy with the flipped, in/out-swapped filter (the
 *   native Conv2DBackpropInput runs at ~2.4 GFLOP/s);
 * - input gradient / transposed conv, stride 2: polyphase — one stride-1 conv on the low-resolution
 *   grid producing s²·cin channels, then depthToSpace (no zero-stuffed input);
 * - filter gradient (missing in wasm): transposed im2col + ONE plain 2-D matMul (~30 GFLOP/s);
 * - 1×1 convs: plain 2-D matMuls.
 *
 * tfjs's own tf.conv2d / tf.conv1d / tf.conv2dTranspose and their gradients reach these through the
 * registered Conv2DBackpropInput / Conv2DBackpropFilter kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { im2colT } from './im2col.js';
import { depthToSpaceCrop } from './depth_to_space.js';
import { byteOffset, gemmOf, gemmPacked, packB, releasePacked, scratch } from './gemm.js';
import type { WasmBackend } from './wasm-backend.js';


/**
 * Padding: 'same', 'valid', a symmetric number of zero rows/columns (as tf.conv2d), or explicit
 * [top, bottom, left, right] (as src/model/ops.ts).
 */
export type ConvPad = 'same' | 'valid' | number | readonly [number, number, number, number];

/** Resolved geometry of one conv: x [b, h, w, cin] * filter [kh, kw, cin, cout] → y [b, outH, outW, cout]. */
export interface ConvGeometry {
  b: number; h: number; w: number; cin: number; cout: number;
  kh: number; kw: number; strideH: number; strideW: number;
  padTop: number; padBottom: number; padLeft: number; padRight: number;
  outH: number; outW: number;
}

/**
 * Geometry by tfjs's own rules (so 'same' with stride 2 pads like tf.conv2d, i.e. bottom/right
 * first). `pad` may also be explicit [top, bottom, left, right] (src/model/ops.ts's Pad).
 */
export function convGeometry(
  xShape: readonly number[], filterShape: readonly number[], stride: number | readonly number[], pad: ConvPad,
  roundingMode?: 'floor' | 'round' | 'ceil',
): ConvGeometry {
  const p = Array.isArray(pad) ? [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]] : pad;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number], filterShape as [number, number, number, number],
    stride as number | [number, number], 1, p as 'same', roundingMode);
  return {
    b: info.batchSize, h: info.inHeight, w: info.inWidth, cin: info.inChannels, cout: info.outChannels,
    kh: info.filterHeight, kw: info.filterWidth, strideH: info.strideHeight, strideW: info.strideWidth,
    padTop: info.padInfo.top, padBottom: info.padInfo.bottom, padLeft: info.padInfo.left, padRight: info.padInfo.right,
    outH: info.outHeight, outW: info.outWidth,
  };
}

/** Zero-pads (positive amounts) or crops (negative amounts) the H and W axes of an NHWC tensor. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = t.shape;
    const ct = Math.max(0, -top), cb = Math.max(0, -bottom), cl = Math.max(0, -left), cr = Math.max(0, -right);
    t = tf.slice(t, [0, ct, cl, 0], [b, h - ct - cb, w - cl - cr, c]);
    top = Math.max(0, top); bottom = Math.max(0, bottom); left = Math.max(0, left); right = Math.max(0, right);
  }
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return t;
  return tf.pad(t, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

/** Stride-`s` correlation with explicit (possibly negative = crop) padding. */
function convExplicit(x: tf.Tensor4D, f: tf.Tensor4D, s: number | [number, number], top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) {
    return tf.conv2d(x, f, s, [[0, 0], [top, bottom], [left, right], [0, 0]]);
  }
  return tf.conv2d(padOrCrop(x, top, bottom, left, right), f, s, 'valid');
}

/**
 * The registered wasm Conv2D: y = conv(x, f) for geometry g, written into a new heap tensor.
 * @param x [b, h, w, cin] (NHWC, float32, in the heap); @param f [kh, kw, cin, cout]
 * @returns [b, outH, outW, cout]
 */
export function conv2dHeap(be: WasmBackend, x: tf.TensorInfo, f: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { b, h, w, cin, cout, kh, kw, strideH: sh, strideW: sw, padTop, padLeft, outH, outW } = g;
  const out = be.makeOutput([b, outH, outW, cout], 'float32');
  if (b * outH * outW * cout === 0) return out;
  const oOff = byteOffset(be, out);
  const bp = packB(be, { off: byteOffset(be, f), s0: cout * 4, s1: 4 }, kh * kw * cin, cout);
  if (is1x1(g)) {
    gemmPacked(be, { off: byteOffset(be, x), s0: cin * 4, s1: 4 }, bp, b * h * w, oOff, cout * 4);
    releasePacked(be, bp);
    return out;
  }
  // The rows/columns the taps touch, [hp, wp]; padded (or, for 'valid' remainders, cut) copy if needed.
  const hp = (outH - 1) * sh + kh, wp = (outW - 1) * sw + kw;
  let src = byteOffset(be, x);
  let rowsW = w;
  let padded: tf.TensorInfo | undefined;
  if (padTop > 0 || padLeft > 0 || hp > h || wp > w) {
    padded = scratch(be, b * hp * wp * cin);
    const heap = be.wasm.HEAPF32; // after the allocation, which may grow the heap
    const d0 = byteOffset(be, padded) >>> 2, s0 = src >>> 2;
    heap.fill(0, d0, d0 + b * hp * wp * cin);
    const xLo = Math.max(0, -padLeft), xHi = Math.min(w, wp - padLeft); // input columns that land inside
    for (let bi = 0; bi < b && xHi > xLo; bi++) {
      for (let y = Math.max(0, -padTop); y < Math.min(h, hp - padTop); y++) {
        const s = s0 + ((bi * h + y) * w + xLo) * cin;
        heap.copyWithin(d0 + ((bi * hp + y + padTop) * wp + xLo + padLeft) * cin, s, s + (xHi - xLo) * cin);
      }
    }
    src = byteOffset(be, padded);
    rowsW = wp;
  }
  const rows = padded ? hp : h;
  const gemm = gemmOf(be).gemm;
  const pix = cin * 4, rowBytes = rowsW * pix, panel = kh * kw * cin * 64;
  for (let bi = 0; bi < b; bi++) {
    for (let oy = 0; oy < outH; oy++) {
      const a = src + (bi * rows + oy * sh) * rowBytes;
      gemm(a, sw * pix, 4, rowBytes, pix, kh, kw, bp.off, panel, oOff + (bi * outH + oy) * outW * cout * 4, cout * 4, outW, cout, cin, 0);
    }
  }
  if (padded) be.disposeData(padded.dataId);
  releasePacked(be, bp);
  return out;
}

/** y = conv(x, f) for geometry g; 1×1 stride-1 unpadded convs are a plain 2-D matMul. */
export function convForward(x: tf.Tensor4D, f: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    if (is1x1(g)) {
      const y = tf.matMul(tf.reshape(x, [-1, g.cin]), tf.reshape(f, [g.cin, g.cout]));
      return tf.reshape(y, [g.b, g.h, g.w, g.cout]);
    }
    return convExplicit(x, f, [g.strideH, g.strideW], g.padTop, g.padBottom, g.padLeft, g.padRight);
  });
}

function is1x1(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 && g.padLeft === 0 && g.padBottom === 0 && g.padRight === 0;
}

/** Taps of one spatial axis of a stride-s transposed conv, split into output phases r = y mod s. */
interface PhaseAxis {
  /** Offset of the first low-resolution tap relative to the output position's phase index. */
  dMin: number;
  /** Number of low-resolution taps covering every phase. */
  len: number;
  /** kIndex[r][j] = filter tap used by phase r at low-res tap j, or −1 when none. */
  kIndex: number[][];
}

function phaseAxis(k: number, s: number, pad: number): PhaseAxis {
  // dx[s·a + r] = Σ_k dy[a + (r + pad − k)/s] · W[k] over the k with (r + pad − k) divisible by s.
  let dMin = Infinity, dMax = -Infinity;
  for (let r = 0; r < s; r++) {
    for (let t = 0; t < k; t++) {
      if ((r + pad - t) % s !== 0) continue;
      const d = (r + pad - t) / s;
      dMin = Math.min(dMin, d);
      dMax = Math.max(dMax, d);
    }
  }
  const len = dMax - dMin + 1;
  const kIndex = [...Array(s)].map((_, r) => [...Array(len)].map((_, j) => {
    const t = r + pad - s * (dMin + j);
    return t >= 0 && t < k ? t : -1;
  }));
  return { dMin, len, kIndex };
}

/**
 * Builds the polyphase filter P [lenH, lenW, cout, s·s·cin] from W [kh, kw, cin, cout]:
 * P[jh, jw, co, (rh·s + rw)·cin + ci] = W[kIndexH[rh][jh], kIndexW[rw][jw], ci, co] (0 where no tap).
 * Filters are small (≤ 0.6 M values here), so this runs in JS on a downloaded copy.
 */
function polyphaseFilter(wData: Float32Array, g: ConvGeometry, ah: PhaseAxis, aw: PhaseAxis): tf.Tensor4D {
  const s = g.strideH, cin = g.cin, cout = g.cout;
  const outC = s * s * cin;
  const p = new Float32Array(ah.len * aw.len * cout * outC);
  for (let jh = 0; jh < ah.len; jh++) for (let jw = 0; jw < aw.len; jw++) {
    for (let rh = 0; rh < s; rh++) for (let rw = 0; rw < s; rw++) {
      const th = ah.kIndex[rh]![jh]!, tw = aw.kIndex[rw]![jw]!;
      if (th < 0 || tw < 0) continue;
      for (let ci = 0; ci < cin; ci++) {
        const src = ((th * g.kw + tw) * cin + ci) * cout;
        const dst = ((jh * aw.len + jw) * cout) * outC + (rh * s + rw) * cin + ci;
        for (let co = 0; co < cout; co++) p[dst + co * outC] = wData[src + co]!;
      }
    }
  }
  return tf.tensor4d(p, [ah.len, aw.len, cout, outC]);
}

/**
 * dx = ∂⟨conv(x, f), dy⟩/∂x for geometry g (equivalently conv2dTranspose(dy, f)).
 * @param dy [b, outH, outW, cout]; @param f [kh, kw, cin, cout]; @returns [b, h, w, cin]
 */
export function convBackpropInput(dy: tf.Tensor4D, f: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    if (is1x1(g)) {
      const fT = tf.transpose(tf.reshape(f, [g.cin, g.cout])); // tiny
      return tf.reshape(tf.matMul(tf.reshape(dy, [-1, g.cout]), fT), [g.b, g.h, g.w, g.cin]);
    }
    if (g.strideH === 1 && g.strideW === 1) {
      // Full correlation with the flipped filter: dx[y] = Σ_i' dy[y + padTop − (kh−1) + i'] · f[kh−1−i'].
      const flipped = tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
      const top = g.kh - 1 - g.padTop, left = g.kw - 1 - g.padLeft;
      const bottom = g.h + g.kh - 1 - g.outH - top, right = g.w + g.kw - 1 - g.outW - left;
      return convExplicit(dy, flipped, 1, top, bottom, left, right);
    }
    if (g.strideH !== g.strideW) {
      // Not used by the model; tfjs's own kernel is correct (just slow on wasm).
      return tf.conv2dTranspose(dy, f, [g.b, g.h, g.w, g.cin], [g.strideH, g.strideW], [[0, 0], [g.padTop, g.padBottom], [g.padLeft, g.padRight], [0, 0]] as never);
    }
    const s = g.strideH;
    const ah = phaseAxis(g.kh, s, g.padTop), aw = phaseAxis(g.kw, s, g.padLeft);
    const aH = Math.ceil(g.h / s), aW = Math.ceil(g.w / s);
    const p = polyphaseFilter(f.dataSync() as Float32Array, g, ah, aw);
    // Low-res taps a + dMin + j for a in [0, aH), j in [0, len): pad (or crop) dy to exactly that range.
    const z = convExplicit(dy, p, 1,
      -ah.dMin, aH - 1 + ah.dMin + ah.len - 1 - (g.outH - 1),
      -aw.dMin, aW - 1 + aw.dMin + aw.len - 1 - (g.outW - 1));
    return depthToSpaceCrop(z, s, g.h, g.w);
  });
}

/**
 * dW = ∂⟨conv(x, f), dy⟩/∂f for geometry g: colT(x) [kh·kw·cin, N] × dy [N, cout], one plain matMul.
 * @param x [b, h, w, cin]; @param dy [b, outH, outW, cout]; @returns [kh, kw, cin, cout]
 */
export function convBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  return tf.tidy(() => {
    const dy2 = tf.reshape(dy, [-1, g.cout]);
    const colT = is1x1(g)
      ? tf.transpose(tf.reshape(x, [-1, g.cin]))
      : im2colT(x, { kh: g.kh, kw: g.kw, strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft, outH: g.outH, outW: g.outW });
    return tf.reshape(tf.matMul(colT, dy2), [g.kh, g.kw, g.cin, g.cout]);
  });
}
