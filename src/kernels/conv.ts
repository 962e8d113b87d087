/**
 * Conv geometry by tfjs's rules, the output-phase decomposition of strided input gradients (used by
 * conv-gemm.ts), and the one input-gradient case conv-gemm.ts leaves to tf ops (stride 1 with
 * padding ≥ the filter size: a correlation with cropping).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Padding: 'same', 'valid', a symmetric number of zero rows/columns (as tf.conv2d), or explicit
 * [top, bottom, left, right] (as src/model/ops.ts).
 */
export type ConvPad = 'same' | 'valid' | number | readonly [number, number, number, number];

/** Resolved geometry of one conv: x [b, h, w, cin] * filter [kh, kw, cin, cout] → y [b, outH, outW, cout]. */
export interface ConvGeometry {
  b: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  outH: number;
  outW: number;
}

/**
 * Geometry by tfjs's own rules (so 'same' with stride 2 pads like tf.conv2d, i.e. bottom/right
 * first). `pad` may also be explicit [top, bottom, left, right] (src/model/ops.ts's Pad).
 */
export function convGeometry(
  xShape: readonly number[],
  filterShape: readonly number[],
  stride: number | readonly number[],
  pad: ConvPad,
  roundingMode?: 'floor' | 'round' | 'ceil',
): ConvGeometry {
  const p = Array.isArray(pad)
    ? [
        [0, 0],
        [pad[0], pad[1]],
        [pad[2], pad[3]],
        [0, 0],
      ]
    : pad;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    stride as number | [number, number],
    1,
    p as 'same',
    roundingMode,
  );
  return {
    b: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    cin: info.inChannels,
    cout: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    padTop: info.padInfo.top,
    padBottom: info.padInfo.bottom,
    padLeft: info.padInfo.left,
    padRight: info.padInfo.right,
    outH: info.outHeight,
    outW: info.outWidth,
  };
}

/** Zero-pads (positive amounts) or crops (negative amounts) the H and W axes of an NHWC tensor. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [b, h, w, c] = t.shape;
    const ct = Math.max(0, -top),
      cb = Math.max(0, -bottom),
      cl = Math.max(0, -left),
      cr = Math.max(0, -right);
    t = tf.slice(t, [0, ct, cl, 0], [b, h - ct - cb, w - cl - cr, c]);
    top = Math.max(0, top);
    bottom = Math.max(0, bottom);
    left = Math.max(0, left);
    right = Math.max(0, right);
  }
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return t;
  return tf.pad(t, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
}

/** Stride-`s` correlation with explicit (possibly negative = crop) padding. */
function convExplicit(
  x: tf.Tensor4D,
  f: tf.Tensor4D,
  s: number | [number, number],
  top: number,
  bottom: number,
  left: number,
  right: number,
): tf.Tensor4D {
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) {
    return tf.conv2d(x, f, s, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  }
  return tf.conv2d(padOrCrop(x, top, bottom, left, right), f, s, 'valid');
}

export function is1x1(g: ConvGeometry): boolean {
  return (
    g.kh === 1 &&
    g.kw === 1 &&
    g.strideH === 1 &&
    g.strideW === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.padBottom === 0 &&
    g.padRight === 0
  );
}

/** Taps of one spatial axis of a stride-s transposed conv, split into output phases r = y mod s. */
export interface PhaseAxis {
  /** Offset of the first low-resolution tap relative to the output position's phase index. */
  dMin: number;
  /** Number of low-resolution taps covering every phase. */
  len: number;
  /** kIndex[r][j] = filter tap used by phase r at low-res tap j, or −1 when none. */
  kIndex: number[][];
}

export function phaseAxis(k: number, s: number, pad: number): PhaseAxis {
  // dx[s·a + r] = Σ_k dy[a + (r + pad − k)/s] · W[k] over the k with (r + pad − k) divisible by s.
  let dMin = Infinity,
    dMax = -Infinity;
  for (let r = 0; r < s; r++) {
    for (let t = 0; t < k; t++) {
      if ((r + pad - t) % s !== 0) continue;
      const d = (r + pad - t) / s;
      dMin = Math.min(dMin, d);
      dMax = Math.max(dMax, d);
    }
  }
  const len = dMax - dMin + 1;
  const kIndex = [...Array(s)].map((_, r) =>
    [...Array(len)].map((_, j) => {
      const t = r + pad - s * (dMin + j);
      return t >= 0 && t < k ? t : -1;
    }),
  );
  return { dMin, len, kIndex };
}

/**
 * dx = ∂⟨conv(x, f), dy⟩/∂x for stride 1 where conv-gemm.ts's path does not apply (padding ≥ the
 * filter size): full correlation with the flipped filter, the excess padding cropped by tf ops.
 * @param dy [b, outH, outW, cout]; @param f [kh, kw, cin, cout]; @returns [b, h, w, cin]
 */
export function convBackpropInputCropped(dy: tf.Tensor4D, f: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  if (g.strideH !== 1 || g.strideW !== 1) throw new Error('convBackpropInputCropped: stride 1 only');
  return tf.tidy(() => {
    // dx[y] = Σ_i' dy[y + padTop − (kh−1) + i'] · f[kh−1−i']
    const flipped = tf.transpose(tf.reverse(f, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const top = g.kh - 1 - g.padTop,
      left = g.kw - 1 - g.padLeft;
    const bottom = g.h + g.kh - 1 - g.outH - top,
      right = g.w + g.kw - 1 - g.outW - left;
    return convExplicit(dy, flipped, 1, top, bottom, left, right);
  });
}
