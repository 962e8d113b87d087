/** The fused GroupNorm → Mish → bias → mask → residual op against a float64 reference and the unfused ops. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { groupNorm, mish } from './activations.js';
import { fusedNormMishActive, groupNormMishMask, setFusedNormMish } from './norm-mish.js';

before(async () => {
  await initBackend('wasm'); // registers pointwise.ts's kernels
});

const rng = new Rng(5);

interface Case {
  shape: [number, number, number, number];
  groups: number;
  lens: number[];
  convBias: boolean;
  bias: boolean;
  residual: boolean;
}

interface Data {
  x: Float32Array;
  m: Float32Array;
  g: Float32Array;
  b: Float32Array;
  cb: Float32Array | null;
  bias: Float32Array | null;
  res: Float32Array | null;
}

function makeData(k: Case): Data {
  const [bs, h, w, c] = k.shape;
  const m = new Float32Array(bs * w);
  k.lens.forEach((l, s) => m.fill(1, s * w, s * w + l));
  return {
    x: rng.normals(bs * h * w * c).map((v, i) => 2 * v + 0.5 + (i % 5) * 0.3),
    m,
    g: rng.normals(c).map((v) => 1 + 0.3 * v),
    b: rng.normals(c).map((v) => 0.3 * v),
    cb: k.convBias ? rng.normals(c).map((v) => 0.5 * v) : null,
    bias: k.bias ? rng.normals(bs * c) : null,
    res: k.residual ? rng.normals(bs * h * w * c) : null,
  };
}

/** (Mish(GroupNorm(x + cb)) + bias)·m + res in float64, straight from the definition. */
function reference(k: Case, d: Data): Float64Array {
  const [bs, h, w, c] = k.shape;
  const cg = c / k.groups;
  const out = new Float64Array(bs * h * w * c);
  const at = (s: number, y: number, x: number, ch: number) => ((s * h + y) * w + x) * c + ch;
  for (let s = 0; s < bs; s++) {
    for (let g = 0; g < k.groups; g++) {
      let n = 0,
        sum = 0;
      const each = (f: (v: number, i: number, mk: number) => void) => {
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
              const i = at(s, y, x, ch);
              f(d.x[i]! + (d.cb ? d.cb[ch]! : 0), i, d.m[s * w + x]!);
            }
      };
      each((v, _i, mk) => {
        sum += v * mk;
        n += mk;
      });
      const mean = sum / n;
      let sq = 0;
      each((v, _i, mk) => {
        sq += mk * (v - mean) ** 2;
      });
      const r = 1 / Math.sqrt(sq / n + 1e-5);
      each((v, i, mk) => {
        const ch = i % c;
        const y = (v - mean) * r * d.g[ch]! + d.b[ch]!;
        const mi = y * Math.tanh(Math.log1p(Math.exp(y)));
        out[i] = (mi + (d.bias ? d.bias[s * c + ch]! : 0)) * mk + (d.res ? d.res[i]! : 0);
      });
    }
  }
  return out;
}

function run(k: Case, d: Data): Float32Array {
  const [bs, , , c] = k.shape;
  return tf.tidy(
    () =>
      groupNormMishMask(
        tf.tensor4d(d.x, k.shape),
        tf.tensor4d(d.m, [bs, 1, k.shape[2], 1]),
        tf.tensor1d(d.g),
        tf.tensor1d(d.b),
        k.groups,
        1e-5,
        {
          convBias: d.cb ? tf.tensor1d(d.cb) : null,
          bias: d.bias ? tf.tensor2d(d.bias, [bs, c]) : null,
          residual: d.res ? tf.tensor4d(d.res, k.shape) : null,
        },
      ).dataSync() as Float32Array,
  );
}

function maxErr(got: Float32Array, want: Float64Array): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return e;
}

async function on<T>(backend: string, f: () => T): Promise<T> {
  const prev = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend(prev);
  }
}

const CASES: [string, Case][] = [
  [
    'synthesis level 0 [1, 80, 460, 16], 3 padded frames, all terms',
    { shape: [1, 80, 460, 16], groups: 8, lens: [457], convBias: true, bias: true, residual: true },
  ],
  ['[1, 20, 115, 64] G8, plain', { shape: [1, 20, 115, 64], groups: 8, lens: [113], convBias: false, bias: false, residual: false }],
  [
    'batch 3 with different masks [3, 6, 9, 8] G2, conv bias + time bias',
    { shape: [3, 6, 9, 8], groups: 2, lens: [9, 4, 1], convBias: true, bias: true, residual: false },
  ],
  ['[2, 5, 7, 12] G3, residual only', { shape: [2, 5, 7, 12], groups: 3, lens: [7, 5], convBias: false, bias: false, residual: true }],
];

for (const [name, k] of CASES) {
  test(`groupNormMishMask ${name}: fused kernel within 1e-5 of float64, unfused ops (wasm, cpu) within 1e-4`, async () => {
    const d = makeData(k);
    const want = reference(k, d);
    const probe = tf.zeros(k.shape) as tf.Tensor4D,
      probeMask = tf.ones([k.shape[0], 1, k.shape[2], 1]) as tf.Tensor4D;
    assert.equal(fusedNormMishActive(probe, probeMask), true);
    const buffers = tf.memory().numDataBuffers;
    const fused = await assertNoLeak(() => run(k, d), 'fused');
    assert.equal(tf.memory().numDataBuffers, buffers, 'the kernel frees its scratch');
    assert.ok(maxErr(fused, want) < 1e-5, `fused: ${maxErr(fused, want)}`);
    setFusedNormMish(false);
    try {
      assert.equal(fusedNormMishActive(probe, probeMask), false);
      const unfused = await assertNoLeak(() => run(k, d), 'unfused');
      assert.ok(maxErr(unfused, want) < 1e-4, `unfused wasm: ${maxErr(unfused, want)}`);
    } finally {
      setFusedNormMish(null);
    }
    tf.dispose([probe, probeMask]);
    if (k.shape[1] * k.shape[2] < 1000) {
      const cpu = await on('cpu', () => run(k, d));
      assert.ok(maxErr(cpu, want) < 1e-4, `cpu: ${maxErr(cpu, want)}`);
    }
  });
}

test('groupNormMishMask: C not a multiple of 4 takes the unfused ops', () => {
  const k: Case = { shape: [2, 3, 5, 6], groups: 3, lens: [5, 2], convBias: true, bias: true, residual: true };
  const d = makeData(k);
  tf.tidy(() => assert.equal(fusedNormMishActive(tf.tensor4d(d.x, k.shape), tf.tensor4d(d.m, [2, 1, 5, 1])), false));
  assert.ok(maxErr(run(k, d), reference(k, d)) < 1e-4);
});

test('groupNormMishMask under a gradient tape: the unfused ops, gradients of activations.ts groupNorm + mish', () => {
  const k: Case = { shape: [2, 4, 6, 8], groups: 2, lens: [6, 3], convBias: true, bias: true, residual: false };
  const d = makeData(k);
  const [bs, h, w, c] = k.shape;
  const r = tf.tensor4d(rng.normals(bs * h * w * c), k.shape);
  const m = tf.tensor4d(d.m, [bs, 1, w, 1]);
  const args = [tf.tensor4d(d.x, k.shape), tf.tensor1d(d.g), tf.tensor1d(d.b), tf.tensor1d(d.cb!), tf.tensor2d(d.bias!, [bs, c])] as const;
  let sawTape = false;
  const fused = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, cb: tf.Tensor, bias: tf.Tensor) => {
    sawTape = !fusedNormMishActive(x as tf.Tensor4D, m);
    const y = groupNormMishMask(x as tf.Tensor4D, m, g as tf.Tensor1D, b as tf.Tensor1D, k.groups, 1e-5, {
      convBias: cb as tf.Tensor1D,
      bias: bias as tf.Tensor2D,
    });
    return tf.sum(tf.mul(y, r));
  })([...args]);
  const composed = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, cb: tf.Tensor, bias: tf.Tensor) => {
    const y = mish(groupNorm(tf.add(x, cb) as tf.Tensor4D, m, g as tf.Tensor1D, b as tf.Tensor1D, k.groups, 1e-5));
    return tf.sum(tf.mul(tf.mul(tf.add(y, tf.reshape(bias, [bs, 1, 1, c])), m), r));
  })([...args]);
  assert.ok(sawTape, 'the fused kernel must not run while a tape records');
  fused.forEach((gr, i) => assert.deepEqual(gr.dataSync(), composed[i]!.dataSync(), `gradient ${i}`));
  tf.dispose([...fused, ...composed, r, m, ...args]);
});

test('groupNormMishMask: large |GroupNorm output| (exp overflow and underflow) stays finite and exact', () => {
  // one channel per group: every position of a group normalises to ±1, then γ scales it to ±150
  const k: Case = { shape: [1, 1, 4, 4], groups: 4, lens: [4], convBias: false, bias: false, residual: false };
  const d = makeData(k);
  d.x.set([1, -1, 1, -1, -1, 1, -1, 1, 1, -1, 1, -1, -1, 1, -1, 1]);
  d.g.set([150, 60, 30, 5]);
  d.b.fill(0);
  const got = run(k, d);
  const want = reference(k, d);
  assert.ok(got.every(Number.isFinite));
  assert.ok(maxErr(got, want) < 1e-5, `${maxErr(got, want)}: ${got} vs ${want}`);
});

test('huge values at padded frames (x² overflows) give no NaN: pointwise GroupNorm and the fused op, as the tfjs ops', () => {
  const [bs, h, w, c] = [1, 3, 6, 8];
  const xd = rng.normals(bs * h * w * c);
  for (let i = 0; i < xd.length; i++) if (Math.floor(i / c) % w >= 4) xd[i] = 7e24; // frames 4, 5 padded
  const md = Float32Array.from([1, 1, 1, 1, 0, 0]);
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xd, [bs, h, w, c]),
        m = tf.tensor4d(md, [bs, 1, w, 1]),
        g = tf.ones([c]) as tf.Tensor1D,
        b = tf.zeros([c]) as tf.Tensor1D;
      return [groupNorm(x, m, g, b, 2), groupNormMishMask(x, m, g, b, 2, 1e-5)].map((t) => Array.from(t.dataSync()));
    });
  const [gn, fused] = run();
  for (const [name, v] of [
    ['groupNorm', gn!],
    ['groupNormMishMask', fused!],
  ] as const)
    assert.ok(
      v.every((e) => !Number.isNaN(e)),
      `${name} gave NaN`,
    );
  // valid frames: the statistics ignore the padded ones entirely
  for (let i = 0; i < fused!.length; i++) if (Math.floor(i / c) % w < 4) assert.ok(Math.abs(fused![i]!) < 10, `${fused![i]}`);
});
