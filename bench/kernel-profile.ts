/**
 * Per-kernel profile on the real layer shapes of the dim-32 Grad-TTS U-Net (batch 4, 80 × 128):
 * tfjs-wasm's own kernels ("before") vs the ones registerFastWasmKernels() installs ("after"), both
 * through plain tf ops, each the median of REPS runs after a warm-up, before/after interleaved (the
 * kernels re-registered between them) so load from other processes hits both alike.
 *
 *   node dist/bench/kernel-profile.js            (prints a markdown table; timing only, not a test)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { convGeometry } from '../src/kernels/conv.js';
import { registerFastWasmKernels, unregisterFastWasmKernels } from '../src/kernels/register.js';
import { groupNorm, mish } from '../src/kernels/activations.js';

const REPS = Number(process.env.DIFFTTS_PROFILE_REPS ?? 3);

export interface ProfileRow {
  what: string;
  shape: string;
  mflop: number | null;
  beforeMs: number;
  afterMs: number;
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * Interleaved medians of `before` (tfjs's kernels) and `after` (difftts's registered kernels), each
 * run inside tf.tidy; the first round is the warm-up.
 */
function compare(before: () => unknown, after: () => unknown = before): [number, number] {
  const b: number[] = [],
    a: number[] = [];
  for (let i = 0; i <= REPS; i++) {
    unregisterFastWasmKernels();
    const tb = timeMs(() =>
      tf.tidy(() => {
        before();
      }),
    );
    registerFastWasmKernels();
    const ta = timeMs(() =>
      tf.tidy(() => {
        after();
      }),
    );
    if (i > 0) {
      b.push(tb);
      a.push(ta);
    }
  }
  unregisterFastWasmKernels();
  const med = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1]!;
  return [med(b), med(a)];
}

/** tfjs's straightforward im2col (pad + k² slices + concat) and transposed-flag matMul: the "before" dW. */
function naiveFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number, pad: number): tf.Tensor {
  const [b, , , c] = x.shape;
  const [, oh, ow, co] = dy.shape;
  const p = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]);
  const cols: tf.Tensor[] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      cols.push(tf.stridedSlice(p, [0, i, j, 0], [b, i + (oh - 1) * stride + 1, j + (ow - 1) * stride + 1, c], [1, stride, stride, 1]));
    }
  const col = tf.reshape(tf.concat(cols, 3), [-1, k * k * c]);
  return tf.matMul(col, tf.reshape(dy, [-1, co]), true, false);
}

export function profile(): ProfileRow[] {
  const rows: ProfileRow[] = [];
  const B = 4;
  const convs: [string, number, number, number, number, number, 1 | 2, number][] = [
    // label, H, W, cin, cout, k, stride, pad
    ['conv3×3 s1', 80, 128, 32, 32, 3, 1, 1],
    ['conv3×3 s1', 40, 64, 64, 64, 3, 1, 1],
    ['conv3×3 s1', 20, 32, 128, 128, 3, 1, 1],
    ['conv3×3 s1', 20, 32, 256, 64, 3, 1, 1],
    ['conv3×3 s2 (Downsample)', 80, 128, 32, 32, 3, 2, 1],
    ['conv1×1', 80, 128, 32, 384, 1, 1, 0],
  ];
  for (const [label, h, w, ci, co, k, s, pad] of convs) {
    const x = tf.randomNormal([B, h, w, ci]) as tf.Tensor4D;
    const f = tf.randomNormal([k, k, ci, co]) as tf.Tensor4D;
    const g = convGeometry(x.shape, f.shape, s, pad);
    const dy = tf.randomNormal([B, g.outH, g.outW, co]) as tf.Tensor4D;
    const mflop = (2 * B * g.outH * g.outW * k * k * ci * co) / 1e6;
    const shape = `[${B},${h},${w},${ci}]→${co}`;
    const [fb, fa] = compare(() => tf.conv2d(x, f, s, pad));
    rows.push({ what: `${label} forward`, shape, mflop, beforeMs: fb, afterMs: fa });
    const [ib, ia] = compare(() => tf.conv2dTranspose(dy, f, [B, h, w, ci], s, pad));
    rows.push({ what: `${label} dx`, shape, mflop, beforeMs: ib, afterMs: ia });
    const attrs = { strides: s, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: f.shape } as unknown as tf.NamedAttrMap;
    const [wb, wa] = compare(
      () => naiveFilterGrad(x, dy, k, s, pad),
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs),
    );
    rows.push({ what: `${label} dW`, shape, mflop, beforeMs: wb, afterMs: wa });
    tf.dispose([x, f, dy]);
  }
  // Upsample: ConvTranspose 4×4 s2 (forward = Conv2DBackpropInput of the conv it is the adjoint of)
  for (const [h, w, c] of [
    [40, 64, 32],
    [20, 32, 64],
  ] as const) {
    const x = tf.randomNormal([B, h, w, c]) as tf.Tensor4D;
    const f = tf.randomNormal([4, 4, c, c]) as tf.Tensor4D;
    const out: [number, number, number, number] = [B, 2 * h, 2 * w, c];
    const [b, a] = compare(() => tf.conv2dTranspose(x, f, out, 2, 'same'));
    rows.push({
      what: 'convTranspose4×4 s2 forward',
      shape: `[${B},${h},${w},${c}]→${c}`,
      mflop: (2 * B * h * w * 16 * c * c) / 1e6,
      beforeMs: b,
      afterMs: a,
    });
    tf.dispose([x, f]);
  }
  // matMul gradient shapes (1×1 conv / linear layers) and batched attention products
  const mm: [string, number[], number[], boolean, boolean][] = [
    ['matMul dA = dC·Bᵀ', [40960, 384], [32, 384], false, true],
    ['matMul dB = Aᵀ·dC', [40960, 32], [40960, 384], true, false],
    ['batched k·vᵀ (attention context)', [4, 128, 10240], [4, 10240, 128], false, false],
    ['batched q·context', [4, 10240, 128], [4, 128, 128], false, false],
  ];
  for (const [label, sa, sb, ta, tb] of mm) {
    const a = tf.randomNormal(sa),
      b = tf.randomNormal(sb);
    const m = ta ? sa[sa.length - 1]! : sa[sa.length - 2]!,
      kk = ta ? sa[sa.length - 2]! : sa[sa.length - 1]!;
    const n = tb ? sb[sb.length - 2]! : sb[sb.length - 1]!;
    const batch = sa.length > 2 ? sa[0]! : 1;
    const [before, after] = compare(() => tf.matMul(a, b, ta, tb));
    rows.push({
      what: label,
      shape: `${JSON.stringify(sa)}${ta ? 'ᵀ' : ''}·${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`,
      mflop: (2 * batch * m * kk * n) / 1e6,
      beforeMs: before,
      afterMs: after,
    });
    tf.dispose([a, b]);
  }
  // GroupNorm + Mish, forward + backward, top resolution
  {
    const x = tf.randomNormal([B, 80, 128, 32]) as tf.Tensor4D;
    const mask = tf.ones([B, 1, 128, 1]) as tf.Tensor4D;
    const gm = tf.ones([32]) as tf.Tensor1D,
      bt = tf.zeros([32]) as tf.Tensor1D;
    const naive = (t: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
      const [bs, h, , c] = t.shape;
      const cg = c / 8;
      const n = tf.mul(tf.sum(mask, [1, 2, 3]), h * cg);
      const ps = (u: tf.Tensor4D) =>
        tf.reshape(
          tf.tile(tf.reshape(tf.div(tf.sum(tf.reshape(tf.sum(u, [1, 2]), [bs, 8, cg]), 2), tf.reshape(n, [bs, 1])), [bs, 8, 1]), [
            1,
            1,
            cg,
          ]),
          [bs, 1, 1, c],
        );
      const mean = ps(tf.mul(t, mask) as tf.Tensor4D);
      const v = ps(tf.square(tf.mul(tf.sub(t, mean), mask)) as tf.Tensor4D);
      const y = tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(v, 1e-5))), g), b);
      return tf.mul(y, tf.tanh(tf.softplus(y)));
    };
    const fused = (t: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => mish(groupNorm(t, mask, g, b, 8));
    const grad = (f: typeof naive) => () =>
      tf.grads((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(f(t as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D)))([x, gm, bt]);
    const [b, a] = compare(grad(naive), grad(fused));
    rows.push({ what: 'GroupNorm(8)+Mish fwd+bwd', shape: '[4,80,128,32]', mflop: null, beforeMs: b, afterMs: a });
    tf.dispose([x, mask, gm, bt]);
  }
  return rows;
}

export function formatProfile(rows: ProfileRow[]): string {
  const lines = ['| kernel | shape | MFLOP | before ms | after ms | speed-up | after GFLOP/s |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${r.what} | ${r.shape} | ${r.mflop === null ? '—' : r.mflop.toFixed(0)} | ${r.beforeMs.toFixed(1)} | ${r.afterMs.toFixed(1)} | ${(r.beforeMs / r.afterMs).toFixed(1)}× | ${r.mflop === null ? '—' : (r.mflop / r.afterMs).toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

await tf.setBackend('wasm');
console.log(formatProfile(profile()));
