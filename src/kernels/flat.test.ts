/**
 * The arena's SIMD loops against the scalar float32/float64 arithmetic they stand for, on lengths
 * that are not whole vectors (the padding must neither leak in nor be written past). Adam's loop
 * is checked against tfjs's Adam in src/train/host-adam.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import { FlatArena } from './flat.js';

const f = Math.fround;

for (const n of [1, 2, 3, 5, 8, 1001]) {
  test(`FlatArena: float64 sum of 3 sources rounded once, and the moving average, over ${n} values`, () => {
    const rng = new Rng(n);
    const srcs = [0, 1, 2].map((j) => rng.normals(n).map((x, i) => x * 10 ** (((i + j) % 7) - 3)));
    const a = new FlatArena([n, n, n], [n]);
    const acc = a.f64(n),
      src = a.f32(n),
      dst = a.f32(n);
    srcs.forEach((s, j) => {
      src.set(s);
      a.accumulate(acc, src, j === 0);
    });
    a.round(dst, acc);
    const want = Float32Array.from({ length: n }, (_, i) => srcs[0]![i]! + srcs[1]![i]! + srcs[2]![i]!);
    assert.deepEqual(dst, want);

    const e = a.f32(0); // a zero-length region does not disturb the others
    assert.equal(e.length, 0);
    const d = f(0.999),
      o = f(1 - 0.999);
    const e0 = srcs[0]!.slice();
    dst.set(e0);
    src.set(srcs[1]!);
    a.ema(dst, src, d, o);
    assert.deepEqual(
      dst,
      e0.map((x, i) => f(f(x * d) + f(srcs[1]![i]! * o))),
    );
    assert.deepEqual(src, srcs[1], 'the weights are read, not written');
  });
}

test('FlatArena: regions must be its own and fit', () => {
  const a = new FlatArena([4]);
  const x = a.f32(4);
  assert.throws(() => a.ema(x, new Float32Array(4), 0.5, 0.5), /not one of this arena's regions/);
  assert.throws(() => a.f32(100_000), /do not fit/);
});
