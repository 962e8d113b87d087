/**
 * Convolution and embedding wrappers whose gradients run on every tfjs backend.
 *
 * The wasm backend has no `Conv2DBackpropFilter` (weight gradient of conv2d / conv1d /
 * conv2dTranspose) and no `UnsortedSegmentSum` (gradient of gather). Where the active backend lacks
 * them we use `tf.customGrad` with gradients built from kernels wasm does have:
 *   - dW: patch extraction by strided slices + one plain 2-D matMul (im2col);
 *   - dx: zero-insertion (for stride > 1) + a stride-1 conv with the flipped, channel-swapped
 *     filter, which TFJS-NOTES.md measured ~10× faster on wasm than its Conv2DBackpropInput;
 *   - embedding: one-hot × matMul instead of gather.
 * Backends that have the kernels (cpu, tfjs-node, tfjs-node-gpu) use tfjs's own ops unchanged.
 *
 * Layout is channels-last throughout: images NHWC [B, H, W, C], sequences NWC [B, T, C];
 * filters [kh, kw, Cin, Cout] (conv2d) and [kh, kw, Cout, Cin] (conv2dTranspose, as tfjs).
 */
import * as tf from '@tensorflow/tfjs';

/** Padding: 'same' / 'valid' as tfjs, or explicit [top, bottom, left, right]. */
export type Pad = 'same' | 'valid' | [number, number, number, number];

let forced: boolean | null = null;

/** Test hook: force (true/false) or un-force (null) the replacement gradients. */
export function forceReplacementGrads(v: boolean | null): void {
  forced = v;
}

/** True when the active backend lacks Conv2DBackpropFilter, so our gradient replacements are used. */
export function usesReplacementGrads(): boolean {
  if (forced !== null) return forced;
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined;
}

function usesOneHotEmbedding(): boolean {
  if (forced !== null) return forced;
  return tf.getKernel('UnsortedSegmentSum', tf.getBackend()) === undefined;
}

/** Explicit [top, bottom, left, right] for a conv2d of input H×W, kernel kh×kw, stride sh×sw. */
export function resolvePad(
  pad: Pad,
  h: number,
  w: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
): [number, number, number, number] {
  if (Array.isArray(pad)) return pad;
  if (pad === 'valid') return [0, 0, 0, 0];
  const oh = Math.ceil(h / sh);
  const ow = Math.ceil(w / sw);
  const ph = Math.max((oh - 1) * sh + kh - h, 0);
  const pw = Math.max((ow - 1) * sw + kw - w, 0);
  return [Math.floor(ph / 2), ph - Math.floor(ph / 2), Math.floor(pw / 2), pw - Math.floor(pw / 2)];
}

function padHW(x: tf.Tensor4D, p: [number, number, number, number]): tf.Tensor4D {
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0) return x;
  // Negative "padding" (possible for the dx of a strided 'valid' conv) is a crop.
  if (p.some((v) => v < 0)) {
    const [b, h, w, c] = x.shape;
    const cropped = tf.slice(
      x,
      [0, Math.max(0, -p[0]), Math.max(0, -p[2]), 0],
      [b, h - Math.max(0, -p[0]) - Math.max(0, -p[1]), w - Math.max(0, -p[2]) - Math.max(0, -p[3]), c],
    );
    return padHW(cropped, [Math.max(0, p[0]), Math.max(0, p[1]), Math.max(0, p[2]), Math.max(0, p[3])]);
  }
  return tf.pad(x, [
    [0, 0],
    [p[0], p[1]],
    [p[2], p[3]],
    [0, 0],
  ]);
}

/**
 * Inserts (s−1) zeros between neighbours along H and W: [B, H, W, C] → [B, (H−1)sh+1, (W−1)sw+1, C].
 * Uses only 4-D reshapes/concats (5-D transposes are very slow on wasm).
 */
function dilate(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  let [b, h, w, c] = x.shape;
  let y = x;
  if (sw > 1) {
    const r = tf.reshape(y, [b * h, w, 1, c]);
    const z = tf.zeros([b * h, w, sw - 1, c]);
    y = tf.slice(tf.reshape(tf.concat([r, z], 2), [b, h, w * sw, c]), [0, 0, 0, 0], [b, h, (w - 1) * sw + 1, c]) as tf.Tensor4D;
    w = (w - 1) * sw + 1;
  }
  if (sh > 1) {
    const r = tf.reshape(y, [b, h, 1, w * c]);
    const z = tf.zeros([b, h, sh - 1, w * c]);
    y = tf.slice(tf.reshape(tf.concat([r, z], 2), [b, h * sh, w, c]), [0, 0, 0, 0], [b, (h - 1) * sh + 1, w, c]) as tf.Tensor4D;
  }
  return y;
}

/**
 * Gradient of conv2d w.r.t. its input, as a stride-1 conv: dy [B, OH, OW, Cout], filter
 * [kh, kw, Cin, Cout] → dx [B, H, W, Cin]. `p` is the forward padding actually applied.
 */
function convInputGrad(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  h: number,
  wd: number,
  s: [number, number],
  p: [number, number, number, number],
): tf.Tensor4D {
  const [kh, kw] = w.shape;
  const d = dilate(dy, s[0], s[1]);
  const top = kh - 1 - p[0];
  const left = kw - 1 - p[2];
  const bottom = h + kh - 1 - top - d.shape[1];
  const right = wd + kw - 1 - left - d.shape[2];
  const dp = padHW(d, [top, bottom, left, right]);
  // flip spatially, swap in/out channels: [kh, kw, Cin, Cout] → [kh, kw, Cout, Cin]
  const wf = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
  return tf.conv2d(dp, wf as tf.Tensor4D, 1, 'valid');
}

/**
 * The sh·sw sub-grids x[:, :, a::sh, c::sw] of x [C, B, H, W] (row-major over (a, c)), by one
 * reshape and plain slices — wasm's StridedSlice is a slow generic path (~3 M elements/s).
 */
function stridePhases(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D[] {
  if (sh === 1 && sw === 1) return [x];
  const [c, b, h, w] = x.shape;
  const hp = Math.ceil(h / sh) * sh;
  const wp = Math.ceil(w / sw) * sw;
  const xp =
    hp === h && wp === w
      ? x
      : tf.pad(x, [
          [0, 0],
          [0, 0],
          [0, hp - h],
          [0, wp - w],
        ]);
  const r = tf.reshape(xp, [c * b * (hp / sh), sh, wp / sw, sw]);
  const out: tf.Tensor4D[] = [];
  for (let a = 0; a < sh; a++) {
    for (let d = 0; d < sw; d++) {
      out.push(tf.reshape(tf.slice(r, [0, a, 0, d], [c * b * (hp / sh), 1, wp / sw, 1]), [c, b, hp / sh, wp / sw]));
    }
  }
  return out;
}

/**
 * Gradient of conv2d w.r.t. its filter by im2col: xp = padded input [B, Hp, Wp, Cin],
 * dy [B, OH, OW, Cout] → dW [kh, kw, Cin, Cout]. One plain 2-D matMul [kh·kw·Cin, N]·[N, Cout].
 */
function convFilterGrad(xp: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, s: [number, number]): tf.Tensor4D {
  const [b, , , cin] = xp.shape;
  const [, oh, ow, cout] = dy.shape;
  const n = b * oh * ow;
  // channels first once, so each patch slice reshapes straight to a [Cin, N] block of rows
  const xc = tf.transpose(xp, [3, 0, 1, 2]) as tf.Tensor4D; // [Cin, B, Hp, Wp]
  const phase = stridePhases(xc, s[0], s[1]);
  const rows: tf.Tensor2D[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const ph = phase[(i % s[0]) * s[1] + (j % s[1])]!;
      const sl = tf.slice(ph, [0, 0, Math.floor(i / s[0]), Math.floor(j / s[1])], [cin, b, oh, ow]);
      rows.push(tf.reshape(sl, [cin, n]));
    }
  }
  const patches = rows.length === 1 ? rows[0]! : tf.concat(rows, 0); // [kh·kw·Cin, N]
  const dw = tf.matMul(patches, tf.reshape(dy, [n, cout]));
  return tf.reshape(dw, [kh, kw, cin, cout]);
}

/**
 * 2-D convolution, NHWC. x [B, H, W, Cin], w [kh, kw, Cin, Cout] → [B, OH, OW, Cout].
 * No dilation (the model does not use it).
 */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number | [number, number] = 1, pad: Pad = 'same'): tf.Tensor4D {
  const s: [number, number] = typeof stride === 'number' ? [stride, stride] : stride;
  const [, h, wd] = x.shape;
  const [kh, kw] = w.shape;
  const p = resolvePad(pad, h, wd, kh, kw, s[0], s[1]);
  if (!usesReplacementGrads()) {
    // explicit padding as pad + 'valid': not every backend's Conv2D takes explicit padding
    return Array.isArray(pad) ? tf.conv2d(padHW(x, p), w, s, 'valid') : tf.conv2d(x, w, s, pad);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    const xp = padHW(xi, p);
    save([xp, wi]);
    return {
      value: tf.conv2d(xp, wi, s, 'valid'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xps, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy4 = dy as tf.Tensor4D;
        return [convInputGrad(dy4, ws, h, wd, s, p), convFilterGrad(xps, dy4, kh, kw, s)];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/**
 * 1-D convolution over time, NWC. x [B, T, Cin], w [k, Cin, Cout] → [B, T', Cout].
 * Runs as conv2d on [B, 1, T, Cin] so it shares the gradient replacement.
 */
export function conv1d(x: tf.Tensor3D, w: tf.Tensor3D, stride = 1, pad: 'same' | 'valid' = 'same'): tf.Tensor3D {
  const [b, t, cin] = x.shape;
  const [k, , cout] = w.shape;
  if (k === 1 && stride === 1) {
    // a 1×1 conv is a plain matMul — cheaper than a conv on every backend
    return tf.reshape(matMul2d(tf.reshape(x, [b * t, cin]), tf.reshape(w, [cin, cout])), [b, t, cout]);
  }
  const y = conv2d(tf.reshape(x, [b, 1, t, cin]), tf.reshape(w, [1, k, cin, cout]), [1, stride], pad);
  return tf.reshape(y, [b, y.shape[2], cout]);
}

/**
 * Transposed 2-D convolution (the adjoint of conv2d), NHWC. x [B, H, W, Cin],
 * w [kh, kw, Cout, Cin] (tfjs layout) → [B, outH, outW, Cout]. `pad` is the padding of the conv
 * it is the adjoint of, e.g. kernel 4, stride 2, [1, 1, 1, 1] doubles H and W (PyTorch padding=1).
 */
export function conv2dTranspose(x: tf.Tensor4D, w: tf.Tensor4D, outH: number, outW: number, stride: number, pad: Pad): tf.Tensor4D {
  const [kh, kw, cout] = w.shape;
  const [b, h, wd] = x.shape;
  const s: [number, number] = [stride, stride];
  const p = resolvePad(pad, outH, outW, kh, kw, stride, stride);
  if (!usesReplacementGrads()) {
    if (Array.isArray(pad)) {
      // tfjs conv2dTranspose takes only 'same'/'valid'/number: run 'valid' and crop.
      const full = tf.conv2dTranspose(x, w, [b, (h - 1) * stride + kh, (wd - 1) * stride + kw, cout], s, 'valid');
      return tf.slice(full, [0, p[0], p[2], 0], [b, outH, outW, cout]);
    }
    return tf.conv2dTranspose(x, w, [b, outH, outW, cout], s, pad);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, wi, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([xi, wi]);
    return {
      value: convInputGrad(xi, wi, outH, outW, s, p),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        // adjoint of an adjoint: dx is the forward conv of dy; dW is conv2d's filter grad with roles swapped
        const dyp = padHW(dy as tf.Tensor4D, p);
        const dx = tf.conv2d(dyp, ws, s, 'valid');
        return [dx, convFilterGrad(dyp, xs, kh, kw, s)];
      },
    };
  });
  return f(x, w) as tf.Tensor4D;
}

/**
 * Embedding lookup: ids [B, T] (int32), table [V, C] → [B, T, C]. On backends without
 * UnsortedSegmentSum the lookup is one-hot × matMul, whose gradient needs only matMul.
 */
export function embedding(ids: tf.Tensor2D, table: tf.Tensor2D): tf.Tensor3D {
  const [b, t] = ids.shape;
  const [v, c] = table.shape;
  if (!usesOneHotEmbedding()) return tf.reshape(tf.gather(table, tf.reshape(ids, [b * t])), [b, t, c]);
  // int32 one-hot then cast: wasm's OneHot with dtype 'float32' returns all zeros (tfjs 4.22)
  const oh = tf.cast(tf.oneHot(tf.reshape(ids, [b * t]), v), 'float32') as tf.Tensor2D;
  return tf.reshape(matMul2d(oh, table), [b, t, c]);
}

/**
 * 2-D matMul a [m, k] · b [k, n] → [m, n]. On replacement backends its gradient uses explicit
 * transposes and plain matMuls: wasm's matMul with transpose flags (what tfjs's own gradient
 * uses) runs ~10× slower than without (TFJS-NOTES.md).
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!usesReplacementGrads()) return tf.matMul(a, b);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [ai, bi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([ai, bi]);
    return {
      value: tf.matMul(ai, bi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [as, bs] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, tf.transpose(bs)), tf.matMul(tf.transpose(as), dy as tf.Tensor2D)];
      },
    };
  });
  return f(a, b) as tf.Tensor2D;
}

/**
 * Batched matMul a [B, m, k] · b [B, k, n] → [B, m, n]. On replacement backends it runs as B
 * plain 2-D matMuls (wasm's batched matMul is ~10× slower than its 2-D one).
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (!usesReplacementGrads()) return tf.matMul(a, b);
  const [n, m, k] = a.shape;
  if (n === 1) return tf.reshape(matMul2d(tf.reshape(a, [m, k]), tf.reshape(b, [k, b.shape[2]])), [1, m, b.shape[2]]);
  const as = tf.unstack(a) as tf.Tensor2D[];
  const bs = tf.unstack(b) as tf.Tensor2D[];
  return tf.stack(as.map((ai, i) => matMul2d(ai, bs[i]!))) as tf.Tensor3D;
}
