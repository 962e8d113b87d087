/**
 * Transposed im2col: the patches of an NHWC input laid out so that a weight gradient is ONE plain
 * 2-D matMul (`colT [kh·kw·cin, N] × dy [N, cout]`). On wasm, matMul with a transpose flag runs at
 * ~2 GFLOP/s but the plain form at ~30, so we build the transposed layout directly instead of
 * asking matMul to transpose.
 *
 * On the wasm backend this is a registered kernel that writes straight into the wasm heap (no copy
 * through JS arrays), from a channel-major transpose of x so that every row is memmoves; on any
 * other backend a gather loop runs on `dataSync()` data.
 */
import * as tf from '@tensorflow/tfjs';
import { heapIndex, type WasmBackend } from './wasm-backend.js';

/** Geometry of one im2col: filter size, stride and the zero padding before the first row/column. */
export interface PatchGeometry {
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  /** Zero rows above / columns left of the input (the bottom/right padding follows from outH/outW). */
  padTop: number;
  padLeft: number;
  outH: number;
  outW: number;
}

const KERNEL_NAME = 'DiffttsIm2colT';

/**
 * The loop shared by both paths. `x` is NHWC [b, h, w, c] row-major; `dst` receives
 * colT[(i·kw + j)·c + ch][(bi·outH + oy)·outW + ox] = x[bi, oy·sh + i − padTop, ox·sw + j − padLeft, ch]
 * (zero outside the input). Tiled per output row so the reads stay in cache and every write is a
 * contiguous run of outW floats.
 */
function fillIm2colT(src: Float32Array, dst: Float32Array, shape: readonly number[], g: PatchGeometry): void {
  const [b, h, w, c] = shape as [number, number, number, number];
  const { kh, kw, strideH, strideW, padTop, padLeft, outH, outW } = g;
  const n = b * outH * outW;
  for (let bi = 0; bi < b; bi++) {
    for (let oy = 0; oy < outH; oy++) {
      const col0 = (bi * outH + oy) * outW;
      for (let i = 0; i < kh; i++) {
        const iy = oy * strideH + i - padTop;
        const rowInside = iy >= 0 && iy < h;
        const xRow = (bi * h + iy) * w;
        for (let j = 0; j < kw; j++) {
          // Output columns whose input column lies inside [0, w): ox in [oxLo, oxHi).
          const off = j - padLeft;
          let oxLo = Math.min(outW, off >= 0 ? 0 : Math.ceil(-off / strideW));
          let oxHi = Math.min(outW, Math.floor((w - 1 - off) / strideW) + 1);
          if (!rowInside) { oxLo = 0; oxHi = 0; }
          if (oxHi < oxLo) oxHi = oxLo;
          for (let ch = 0; ch < c; ch++) {
            const base = ((i * kw + j) * c + ch) * n + col0;
            for (let ox = 0; ox < oxLo; ox++) dst[base + ox] = 0;
            let s = (xRow + oxLo * strideW + off) * c + ch;
            const step = strideW * c;
            for (let ox = oxLo; ox < oxHi; ox++, s += step) dst[base + ox] = src[s]!;
            for (let ox = oxHi; ox < outW; ox++) dst[base + ox] = 0;
          }
        }
      }
    }
  }
}


/**
 * Same output as fillIm2colT, from a CHANNEL-MAJOR input xT [c, b, h, w] (one cheap 4-D transpose
 * away from NHWC). Every output row is then a run of contiguous input floats (stride 1), copied
 * with one memmove per output row segment instead of a strided gather per float (~3× faster).
 * `src` and `dst` are offsets (in floats) into the same heap.
 */
function fillIm2colTChannelMajor(heap: Float32Array, src: number, dst: number, shape: readonly number[], g: PatchGeometry): void {
  const [c, b, h, w] = shape as [number, number, number, number];
  const { kh, kw, strideH, strideW, padTop, padLeft, outH, outW } = g;
  const n = b * outH * outW;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const off = j - padLeft;
      const oxLo = Math.min(outW, off >= 0 ? 0 : Math.ceil(-off / strideW));
      const oxHi = Math.max(oxLo, Math.min(outW, Math.floor((w - 1 - off) / strideW) + 1));
      for (let ch = 0; ch < c; ch++) {
        const rowBase = dst + ((i * kw + j) * c + ch) * n;
        for (let bi = 0; bi < b; bi++) {
          for (let oy = 0; oy < outH; oy++) {
            const d = rowBase + (bi * outH + oy) * outW;
            const iy = oy * strideH + i - padTop;
            if (iy < 0 || iy >= h) { heap.fill(0, d, d + outW); continue; }
            if (oxLo > 0) heap.fill(0, d, d + oxLo);
            if (oxHi < outW) heap.fill(0, d + oxHi, d + outW);
            const s0 = src + ((ch * b + bi) * h + iy) * w + oxLo * strideW + off;
            if (strideW === 1) {
              heap.copyWithin(d + oxLo, s0, s0 + (oxHi - oxLo));
            } else {
              for (let ox = oxLo, s1 = s0; ox < oxHi; ox++, s1 += strideW) heap[d + ox] = heap[s1]!;
            }
          }
        }
      }
    }
  }
}


function ensureRegistered(): void {
  if (tf.getKernel(KERNEL_NAME, 'wasm')) return;
  tf.registerKernel({
    kernelName: KERNEL_NAME,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const xT = inputs.xT as tf.TensorInfo; // channel-major [c, b, h, w]
      const g = attrs as unknown as PatchGeometry;
      const be = backend as unknown as WasmBackend;
      const n = xT.shape[1]! * g.outH * g.outW;
      const out = be.makeOutput([g.kh * g.kw * xT.shape[0]!, n], 'float32');
      // The heap view is taken after makeOutput: the allocation may grow (and so detach) the heap.
      fillIm2colTChannelMajor(be.wasm.HEAPF32, heapIndex(be, xT),
        heapIndex(be, out), xT.shape, g);
      return out;
    },
  });
}

/**
 * colT of `x` for geometry `g`.
 * @param x NHWC input [b, h, w, c]
 * @returns [kh·kw·c, b·outH·outW]; row order (i, j, ch) matches a filter [kh, kw, c, cout]
 *   reshaped to [kh·kw·c, cout].
 */
export function im2colT(x: tf.Tensor4D, g: PatchGeometry): tf.Tensor2D {
  const c = x.shape[3];
  const rows = g.kh * g.kw * c;
  const n = x.shape[0] * g.outH * g.outW;
  if (tf.getBackend() === 'wasm') {
    ensureRegistered();
    return tf.tidy(() => tf.engine().runKernel(KERNEL_NAME, { xT: tf.transpose(x, [3, 0, 1, 2]) }, g as unknown as tf.NamedAttrMap) as tf.Tensor2D);
  }
  const dst = new Float32Array(rows * n);
  fillIm2colT(x.dataSync() as Float32Array, dst, x.shape, g);
  return tf.tensor2d(dst, [rows, n]);
}
