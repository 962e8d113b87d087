/**
 * The convolutions of the registered wasm kernels as implicit GEMMs on difftts's wasm GEMM
 * (gemm.ts), reading the NHWC input in place — no im2col, no transposes:
 *
 * - forward (`Conv2D`): one GEMM call per output row, summing over the kh×kw taps of a zero-padded
 *   copy of x: A(ox, ty, tx, ci) = xp[oy·sh + ty, ox·sw + tx, ci], B = the filter [taps·cin, cout].
 * - input gradient, stride 1 (`Conv2DBackpropInput`): the same with dy as input and the filter
 *   flipped and in/out-swapped while it is packed (no Reverse/Transpose kernels).
 * - input gradient, stride s > 1 (also tf.conv2dTranspose's forward): per output phase (y mod s,
 *   x mod s) only the filter taps of that phase, one GEMM call per output row writing every s-th
 *   pixel (ldc = s·cin floats) — the phases interleave in place, no zero-stuffing, no depthToSpace.
 * - filter gradient (`Conv2DBackpropFilter`): per filter row ty, dW[ty] [kw·cin, cout] = Σ over
 *   output pixels of A(tx·cin + ci, pixel) · dy[pixel, co]: for a fixed input row the (tx, ci) pairs
 *   are contiguous floats, so A is x itself with stride 4 along M; output rows are blocked so that
 *   the A rows in use stay in L1/L2.
 *
 * All shapes NHWC / [kh, kw, cin, cout] float32 in the wasm heap; geometry as conv.ts's.
 */
import type * as tf from '@tensorflow/tfjs';
import { gemmOf, gemmPacked, matmulInto, packB, releasePacked, type PackedB } from './gemm.js';
import { is1x1, phaseAxis, type ConvGeometry } from './conv.js';
import { byteOffset, scratch, type WasmBackend } from './wasm-backend.js';

/** x as the taps see it: rows × rowsW pixels per image at byte offset `off` (a padded copy in `buf` if one was needed). */
interface Rows {
  off: number;
  rows: number;
  rowsW: number;
  buf?: tf.TensorInfo;
}

/**
 * A zero-filled scratch copy of x [b, h, w, c] as [b, hp, wp, c] with x's pixel (y, x) at
 * (y + top, x + left); rows and columns that land outside are dropped (negative offsets crop).
 */
export function paddedCopy(
  be: WasmBackend,
  x: tf.TensorInfo,
  b: number,
  h: number,
  w: number,
  c: number,
  top: number,
  left: number,
  hp: number,
  wp: number,
): tf.TensorInfo {
  const buf = scratch(be, b * hp * wp * c);
  const heap = be.wasm.HEAPF32; // after the allocation, which may grow the heap
  const d0 = byteOffset(be, buf) >>> 2,
    s0 = byteOffset(be, x) >>> 2;
  heap.fill(0, d0, d0 + b * hp * wp * c);
  const xLo = Math.max(0, -left),
    xHi = Math.min(w, wp - left); // input columns that land inside
  for (let bi = 0; bi < b && xHi > xLo; bi++) {
    for (let y = Math.max(0, -top); y < Math.min(h, hp - top); y++) {
      const s = s0 + ((bi * h + y) * w + xLo) * c;
      heap.copyWithin(d0 + ((bi * hp + y + top) * wp + xLo + left) * c, s, s + (xHi - xLo) * c);
    }
  }
  return buf;
}

/** The input region the taps of geometry g touch, zero-padded into a scratch copy when padding (or a partial 'valid' window) requires it. */
function tapRows(be: WasmBackend, x: tf.TensorInfo, g: ConvGeometry): Rows {
  const { b, h, w, cin, kh, kw, strideH: sh, strideW: sw, padTop, padLeft, outH, outW } = g;
  const hp = (outH - 1) * sh + kh,
    wp = (outW - 1) * sw + kw;
  if (padTop === 0 && padLeft === 0 && hp <= h && wp <= w) return { off: byteOffset(be, x), rows: h, rowsW: w };
  const buf = paddedCopy(be, x, b, h, w, cin, padTop, padLeft, hp, wp);
  return { off: byteOffset(be, buf), rows: hp, rowsW: wp, buf };
}

/** y [b, outH, outW, cout] at byte offset `out` = conv of x with the packed filter (rows (ty, tx, ci)). */
function convRows(be: WasmBackend, x: tf.TensorInfo, bp: PackedB, g: ConvGeometry, out: number): void {
  const { b, h, w, cin, cout, kh, kw, strideH: sh, strideW: sw, outH, outW } = g;
  if (is1x1(g)) {
    gemmPacked(be, { off: byteOffset(be, x), s0: cin * 4, s1: 4 }, bp, b * h * w, out, cout * 4);
    return;
  }
  const src = tapRows(be, x, g);
  const gemm = gemmOf(be).gemm;
  const pix = cin * 4,
    rowBytes = src.rowsW * pix,
    panel = kh * kw * cin * 64;
  for (let bi = 0; bi < b; bi++) {
    for (let oy = 0; oy < outH; oy++) {
      const a = src.off + (bi * src.rows + oy * sh) * rowBytes;
      gemm(a, sw * pix, 4, rowBytes, pix, kh, kw, bp.off, panel, out + (bi * outH + oy) * outW * cout * 4, cout * 4, outW, cout, cin, 0);
    }
  }
  if (src.buf) be.disposeData(src.buf.dataId);
}

/**
 * Conv2D: y = conv(x, f).
 * @param x [b, h, w, cin]; @param f [kh, kw, cin, cout]; @returns [b, outH, outW, cout]
 */
export function conv2dHeap(be: WasmBackend, x: tf.TensorInfo, f: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const out = be.makeOutput([g.b, g.outH, g.outW, g.cout], 'float32');
  if (out.shape.some((d) => d === 0)) return out;
  const bp = packB(be, { off: byteOffset(be, f), s0: g.cout * 4, s1: 4 }, g.kh * g.kw * g.cin, g.cout);
  convRows(be, x, bp, g, byteOffset(be, out));
  releasePacked(be, bp);
  return out;
}

/**
 * Conv2DBackpropInput: dx = ∂⟨conv(x, f), dy⟩/∂x (= conv2dTranspose(dy, f)). Returns null where
 * neither path applies (unequal strides; stride 1 with padding ≥ the filter size), left to the
 * caller's path.
 * @param dy [b, outH, outW, cout]; @param f [kh, kw, cin, cout]; @returns [b, h, w, cin]
 */
export function convBackpropInputHeap(be: WasmBackend, dy: tf.TensorInfo, f: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo | null {
  if (g.strideH !== g.strideW) return null;
  if (g.strideH > 1) return stridedBackpropInput(be, dy, f, g);
  const top = g.kh - 1 - g.padTop,
    left = g.kw - 1 - g.padLeft;
  if (top < 0 || left < 0) return null;
  const gT: ConvGeometry = {
    b: g.b,
    h: g.outH,
    w: g.outW,
    cin: g.cout,
    cout: g.cin,
    kh: g.kh,
    kw: g.kw,
    strideH: 1,
    strideW: 1,
    padTop: top,
    padLeft: left,
    padBottom: g.h + g.kh - 1 - g.outH - top,
    padRight: g.w + g.kw - 1 - g.outW - left,
    outH: g.h,
    outW: g.w,
  };
  const out = be.makeOutput([g.b, g.h, g.w, g.cin], 'float32');
  if (out.shape.some((d) => d === 0)) return out;
  // Flipped, in/out-swapped filter F[ty, tx, co, ci] = f[kh−1−ty, kw−1−tx, ci, co], packed tap by tap.
  const taps = g.kh * g.kw,
    tapBytes = g.cin * g.cout * 4;
  const flipped = scratch(be, taps * g.cin * g.cout);
  const fo = byteOffset(be, flipped) >>> 2,
    so = byteOffset(be, f) >>> 2;
  const heap = be.wasm.HEAPF32;
  for (let t = 0; t < taps; t++) {
    const src = so + (taps - 1 - t) * (tapBytes >>> 2),
      dst = fo + t * (tapBytes >>> 2);
    for (let ci = 0; ci < g.cin; ci++) for (let co = 0; co < g.cout; co++) heap[dst + co * g.cin + ci] = heap[src + ci * g.cout + co]!;
  }
  const bp = packB(be, { off: fo * 4, s0: g.cin * 4, s1: 4 }, taps * g.cout, g.cin);
  be.disposeData(flipped.dataId);
  convRows(be, dy, bp, gT, byteOffset(be, out));
  releasePacked(be, bp);
  return out;
}

/**
 * Stride-s input gradient by output phases. dx[s·a + rh, s·c + rw] = Σ_{jh, jw, co}
 * dy[a + dMinH + jh, c + dMinW + jw, co] · f[kIndexH[rh][jh], kIndexW[rw][jw], ci, co] (phaseAxis in
 * conv.ts): per phase the taps with a filter index form one contiguous range of (jh, jw).
 */
function stridedBackpropInput(be: WasmBackend, dy: tf.TensorInfo, f: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { b, h, w, cin, cout, kh, kw } = g;
  const s = g.strideH;
  const ah = phaseAxis(kh, s, g.padTop),
    aw = phaseAxis(kw, s, g.padLeft);
  const aH = Math.ceil(h / s),
    aW = Math.ceil(w / s);
  const out = be.makeOutput([b, h, w, cin], 'float32');
  if (out.shape.some((d) => d === 0)) return out;
  const o = byteOffset(be, out);
  const taps = (ax: typeof ah, r: number): [number, number] => {
    const js = ax.kIndex[r]!.map((t, j) => (t >= 0 ? j : -1)).filter((j) => j >= 0);
    return js.length ? [js[0]!, js[js.length - 1]! - js[0]! + 1] : [0, 0];
  };
  // A phase without taps leaves zeros.
  if ([...Array(s)].some((_, r) => taps(ah, r)[1] === 0 || taps(aw, r)[1] === 0))
    be.wasm.HEAPF32.fill(0, o >>> 2, (o >>> 2) + b * h * w * cin);
  // dy padded so that padded row a + jh holds dy row a + dMinH + jh (and the same for columns).
  const src = tapRows(be, dy, {
    b,
    h: g.outH,
    w: g.outW,
    cin: cout,
    cout: cin,
    kh: ah.len,
    kw: aw.len,
    strideH: 1,
    strideW: 1,
    padTop: -ah.dMin,
    padLeft: -aw.dMin,
    padBottom: 0,
    padRight: 0,
    outH: aH,
    outW: aW,
  });
  const gemm = gemmOf(be).gemm;
  const pix = cout * 4,
    rowBytes = src.rowsW * pix;
  const fd = be.wasm.HEAPF32,
    fo = byteOffset(be, f) >>> 2;
  for (let rh = 0; rh < s; rh++) {
    const [jh0, nh] = taps(ah, rh);
    for (let rw = 0; rw < s; rw++) {
      const [jw0, nw] = taps(aw, rw);
      const rows = Math.ceil((h - rh) / s),
        cols = Math.ceil((w - rw) / s);
      if (nh === 0 || nw === 0 || rows <= 0 || cols <= 0) continue;
      // this phase's filter, rows (jh, jw, co) × columns ci
      const ph = new Float32Array(nh * nw * cout * cin);
      for (let jh = 0; jh < nh; jh++)
        for (let jw = 0; jw < nw; jw++) {
          const t = (ah.kIndex[rh]![jh0 + jh]! * kw + aw.kIndex[rw]![jw0 + jw]!) * cin * cout;
          for (let ci = 0; ci < cin; ci++)
            for (let co = 0; co < cout; co++) ph[((jh * nw + jw) * cout + co) * cin + ci] = fd[fo + t + ci * cout + co]!;
        }
      const tmp = scratch(be, ph.length);
      be.wasm.HEAPF32.set(ph, byteOffset(be, tmp) >>> 2);
      const bp = packB(be, { off: byteOffset(be, tmp), s0: cin * 4, s1: 4 }, nh * nw * cout, cin);
      be.disposeData(tmp.dataId);
      for (let bi = 0; bi < b; bi++) {
        for (let a = 0; a < rows; a++) {
          const aPtr = src.off + ((bi * src.rows + a + jh0) * src.rowsW + jw0) * pix;
          const cPtr = o + ((bi * h + s * a + rh) * w + rw) * cin * 4;
          gemm(aPtr, pix, 4, rowBytes, pix, nh, nw, bp.off, nh * nw * cout * 64, cPtr, s * cin * 4, cols, cin, cout, 0);
        }
      }
      releasePacked(be, bp);
    }
  }
  if (src.buf) be.disposeData(src.buf.dataId);
  return out;
}

/**
 * Conv2DBackpropFilter: dW = ∂⟨conv(x, W), dy⟩/∂W.
 * @param x [b, h, w, cin]; @param dy [b, outH, outW, cout]; @returns [kh, kw, cin, cout]
 */
export function convBackpropFilterHeap(be: WasmBackend, x: tf.TensorInfo, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const { b, cin, cout, kh, kw, strideH: sh, strideW: sw, outH, outW } = g;
  const out = be.makeOutput([kh, kw, cin, cout], 'float32');
  const oOff = byteOffset(be, out);
  be.wasm.HEAPF32.fill(0, oOff >>> 2, (oOff >>> 2) + kh * kw * cin * cout);
  const pixels = b * outH * outW;
  if (pixels === 0 || out.shape.some((d) => d === 0)) return out;
  if (is1x1(g)) {
    // dW [cin, cout] = xᵀ·dy over all pixels: one product
    matmulInto(
      be,
      { off: byteOffset(be, x), s0: 4, s1: cin * 4 },
      { off: byteOffset(be, dy), s0: cout * 4, s1: 4 },
      cin,
      pixels,
      cout,
      oOff,
    );
    return out;
  }
  const bp = packB(be, { off: byteOffset(be, dy), s0: cout * 4, s1: 4 }, pixels, cout);
  const src = tapRows(be, x, g);
  const gemm = gemmOf(be).gemm;
  const pix = cin * 4,
    rowBytes = src.rowsW * pix;
  // Output rows per call: the A rows they read (≈ rowsW·cin floats each) stay within ~128 KB.
  const chunk = Math.max(1, Math.min(outH, Math.floor(32768 / (src.rowsW * cin))));
  for (let bi = 0; bi < b; bi++) {
    for (let oy = 0; oy < outH; oy += chunk) {
      const rows = Math.min(chunk, outH - oy);
      const bOff = bp.off + (bi * outH + oy) * outW * 64;
      for (let ty = 0; ty < kh; ty++) {
        // M = kw·cin (tx, ci) contiguous at the row's first tap; K = outW pixels; the kernel's tap
        // loop walks the `rows` output rows (A down sh input rows, B on through the packed dy rows).
        const a = src.off + (bi * src.rows + oy * sh + ty) * rowBytes;
        gemm(
          a,
          4,
          sw * pix,
          sh * rowBytes,
          0,
          rows,
          1,
          bOff,
          pixels * 64,
          oOff + ty * kw * cin * cout * 4,
          cout * 4,
          kw * cin,
          cout,
          outW,
          1,
        );
      }
    }
  }
  if (src.buf) be.disposeData(src.buf.dataId);
  releasePacked(be, bp);
  return out;
}
