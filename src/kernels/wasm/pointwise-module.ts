/**
 * Generates the element-wise WebAssembly SIMD kernels behind src/kernels/pointwise.ts: Mish and its
 * gradient, and the per-row passes of masked GroupNorm (forward and backward). Each replaces a chain
 * of full-size tfjs ops (one exp, ~5 arithmetic ops, broadcasts, reductions over transposes) by one
 * pass over the data. All arguments are i32: byte addresses and counts; channel counts are
 * multiples of 4 (one vector = 4 channels).
 *
 * - `mish(x, y, v)`          y = x·(1 − q), q = 2/(n(n + 2) + 2), n = eˣ, for v vectors
 * - `mishGrad(x, dy, dx, v)` dx = dy·((1 − q) + x·p·(p + q)), p = 2/(n + 2 + 2/n)
 *     (x clamped to [−87, 88] inside the exp: n stays finite and normal; at 88, n(n + 2) = ∞ → q = 0)
 * - `rowSum(x, m, mu, acc, w, c, sq)`   acc[ch] += Σ_i m[i]·x[i, ch], or with sq ≠ 0
 *                                       Σ_i (m[i]·(x[i, ch] − mu[ch]))²   (one image row: w pixels)
 * - `rowSums2(a, b, acc1, acc2, w, c)`  acc1[ch] += Σ_i a[i, ch];  acc2[ch] += Σ_i a[i, ch]·b[i, ch]
 * - `colSum(a, acc, w, c)`              acc[ch] += Σ_i a[i, ch]   (sums over leading axes)
 * - `affine(x, s, t, y, w, c)`          y[i, ch] = x[i, ch]·s[ch] + t[ch]
 * - `affineMasked(dy, x, m, u, v, t, dx, w, c)`  dx[i, ch] = dy·u[ch] + m[i]·(x·v[ch] + t[ch])
 * - `normMish(x, s, t, bias, m, res, y, w, c, hasRes)`  y[i, ch] = (mish(x·s[ch] + t[ch]) + bias[ch])·m[i]
 *                                       (+ res[i, ch] when hasRes ≠ 0): GroupNorm's affine, Mish, the
 *                                       time embedding, the mask and a resnet's residual in one pass
 *
 * eˣ: 2^k·2^f with k = round(x·log₂e), f ∈ [−½, ½], 2^f by its degree-7 Taylor polynomial in f·ln 2
 * (relative error < 1e-8 before rounding), 2^k built in the exponent bits.
 */
import { encodeModule, Locals, op, type FunctionDef, type Instr } from './emit.js';

type Emit = (...xs: Instr[]) => void;

function builder(params: number): { L: Locals; body: Instr[]; e: Emit } {
  const body: Instr[] = [];
  return { L: new Locals(params), body, e: (...xs) => body.push(...xs) };
}

/** Runs `inner` `count` times (count read once from local `count`; nothing when 0), using local `ctr`. */
function repeat(e: Emit, count: number, ctr: number, inner: () => void): void {
  e(op.get(count), op.set(ctr), op.block, op.get(ctr), op.eqz, op.brIf(0), op.loop);
  inner();
  e(op.get(ctr), op.i32(1), op.sub, op.tee(ctr), op.brIf(0), op.end, op.end);
}

const advance = (e: Emit, ptr: number, bytes: number) => e(op.get(ptr), op.i32(bytes), op.add, op.set(ptr));

/** Leaves eˣ of the v128 in local `x` on the stack (x clamped to [−87, 88]); `t` is scratch. */
function exp4(e: Emit, x: number, t: number, k: number): void {
  const LN2 = Math.LN2;
  // t = clamp(x)·log₂e (pmin/pmax: one instruction each, min/max need NaN fix-ups); k = round(t); t = (t − k)·ln 2
  e(op.get(x), op.f32x4Const(88), op.f32x4Pmin, op.f32x4Const(-87), op.f32x4Pmax, op.f32x4Const(Math.LOG2E), op.f32x4Mul, op.set(t));
  // k = round(t) by adding 1.5·2²³ (the float then holds k in its low mantissa bits)
  e(op.get(t), op.f32x4Const(12582912), op.f32x4Add, op.set(k));
  e(op.get(t), op.get(k), op.f32x4Const(12582912), op.f32x4Sub, op.f32x4Sub, op.f32x4Const(LN2), op.f32x4Mul, op.set(t));
  // Horner: Σ_{j≤7} t^j / j!
  let fact = 5040;
  e(op.f32x4Const(1 / fact));
  for (let j = 6; j >= 0; j--) {
    fact = j === 0 ? 1 : fact / (j + 1);
    e(op.get(t), op.f32x4Mul, op.f32x4Const(1 / fact), op.f32x4Add);
  }
  // × 2^k: (k + 127) << 23 as float bits; k's float bits are 1.5·2²³'s plus k, whose high part the shift drops
  e(op.get(k), op.i32x4Const(127), op.i32x4Add, op.i32(23), op.i32x4Shl, op.f32x4Mul);
}

function mishFunctions(): FunctionDef[] {
  const fwd = (() => {
    const { L, body, e } = builder(3);
    const [X, Y, V] = [0, 1, 2];
    const ctr = L.i32(),
      x = L.v128(),
      t = L.v128(),
      k = L.v128(),
      n = L.v128();
    repeat(e, V, ctr, () => {
      e(op.get(X), op.v128Load(0), op.set(x));
      exp4(e, x, t, k);
      e(op.set(n));
      // y = x − x·2/(n(n + 2) + 2)
      e(
        op.get(Y),
        op.get(x),
        op.get(x),
        op.f32x4Const(2),
        op.get(n),
        op.get(n),
        op.f32x4Const(2),
        op.f32x4Add,
        op.f32x4Mul,
        op.f32x4Const(2),
        op.f32x4Add,
        op.f32x4Div,
        op.f32x4Mul,
        op.f32x4Sub,
        op.v128Store(0),
      );
      advance(e, X, 16);
      advance(e, Y, 16);
    });
    return { name: 'mish', params: 3, locals: L.types, body };
  })();
  const grad = (() => {
    const { L, body, e } = builder(4);
    const [X, DY, DX, V] = [0, 1, 2, 3];
    const ctr = L.i32(),
      x = L.v128(),
      t = L.v128(),
      k = L.v128(),
      n = L.v128(),
      q = L.v128(),
      p = L.v128();
    repeat(e, V, ctr, () => {
      e(op.get(X), op.v128Load(0), op.set(x));
      exp4(e, x, t, k);
      e(op.set(n));
      e(
        op.f32x4Const(2),
        op.get(n),
        op.get(n),
        op.f32x4Const(2),
        op.f32x4Add,
        op.f32x4Mul,
        op.f32x4Const(2),
        op.f32x4Add,
        op.f32x4Div,
        op.set(q),
      );
      e(
        op.f32x4Const(2),
        op.get(n),
        op.f32x4Const(2),
        op.f32x4Add,
        op.f32x4Const(2),
        op.get(n),
        op.f32x4Div,
        op.f32x4Add,
        op.f32x4Div,
        op.set(p),
      );
      // dx = dy·((1 − q) + x·p·(p + q))
      e(op.get(DX), op.get(DY), op.v128Load(0));
      e(
        op.f32x4Const(1),
        op.get(q),
        op.f32x4Sub,
        op.get(x),
        op.get(p),
        op.f32x4Mul,
        op.get(p),
        op.get(q),
        op.f32x4Add,
        op.f32x4Mul,
        op.f32x4Add,
      );
      e(op.f32x4Mul, op.v128Store(0));
      advance(e, X, 16);
      advance(e, DY, 16);
      advance(e, DX, 16);
    });
    return { name: 'mishGrad', params: 4, locals: L.types, body };
  })();
  return [fwd, grad];
}

/** Loops pixels i < w (outer) and channel vectors (inner, c/4 of them); `perVector(chOff)` sees the channel byte offset. */
function rowLoop(
  e: Emit,
  L: Locals,
  w: number,
  c: number,
  perPixel: () => void,
  perVector: (ch: number) => void,
  afterPixel: () => void,
): void {
  const pix = L.i32(),
    vecs = L.i32(),
    vc = L.i32(),
    ch = L.i32();
  e(op.get(c), op.i32(2), op.shrU, op.set(vecs));
  repeat(e, w, pix, () => {
    perPixel();
    e(op.i32(0), op.set(ch));
    repeat(e, vecs, vc, () => {
      perVector(ch);
      advance(e, ch, 16);
    });
    afterPixel();
  });
}

function normFunctions(): FunctionDef[] {
  const rowSum = (() => {
    const { L, body, e } = builder(7);
    const [X, M, MU, ACC, W, C, SQ] = [0, 1, 2, 3, 4, 5, 6];
    const mv = L.v128(),
      v = L.v128();
    rowLoop(
      e,
      L,
      W,
      C,
      () => e(op.get(M), op.load32Splat(0), op.set(mv)),
      (ch) => {
        e(op.get(X), op.get(ch), op.add, op.v128Load(0), op.set(v));
        // mask before squaring: a huge value at a padded pixel must give 0, not 0·∞ = NaN
        e(op.get(SQ), op.if, op.get(v), op.get(MU), op.get(ch), op.add, op.v128Load(0), op.f32x4Sub, op.set(v), op.end);
        e(op.get(v), op.get(mv), op.f32x4Mul, op.set(v));
        e(op.get(SQ), op.if, op.get(v), op.get(v), op.f32x4Mul, op.set(v), op.end);
        e(op.get(ACC), op.get(ch), op.add, op.get(ACC), op.get(ch), op.add, op.v128Load(0), op.get(v), op.f32x4Add, op.v128Store(0));
      },
      () => {
        e(op.get(X), op.get(C), op.i32(2), op.shl, op.add, op.set(X));
        advance(e, M, 4);
      },
    );
    return { name: 'rowSum', params: 7, locals: L.types, body };
  })();
  const rowSums2 = (() => {
    const { L, body, e } = builder(6);
    const [A, B, ACC1, ACC2, W, C] = [0, 1, 2, 3, 4, 5];
    const v = L.v128();
    rowLoop(
      e,
      L,
      W,
      C,
      () => undefined,
      (ch) => {
        e(op.get(A), op.get(ch), op.add, op.v128Load(0), op.set(v));
        e(op.get(ACC1), op.get(ch), op.add, op.get(ACC1), op.get(ch), op.add, op.v128Load(0), op.get(v), op.f32x4Add, op.v128Store(0));
        e(
          op.get(ACC2),
          op.get(ch),
          op.add,
          op.get(ACC2),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.get(v),
          op.get(B),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.f32x4Mul,
          op.f32x4Add,
          op.v128Store(0),
        );
      },
      () => {
        e(op.get(A), op.get(C), op.i32(2), op.shl, op.add, op.set(A));
        e(op.get(B), op.get(C), op.i32(2), op.shl, op.add, op.set(B));
      },
    );
    return { name: 'rowSums2', params: 6, locals: L.types, body };
  })();
  const colSum = (() => {
    const { L, body, e } = builder(4);
    const [A, ACC, W, C] = [0, 1, 2, 3];
    rowLoop(
      e,
      L,
      W,
      C,
      () => undefined,
      (ch) => {
        e(
          op.get(ACC),
          op.get(ch),
          op.add,
          op.get(ACC),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.get(A),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.f32x4Add,
          op.v128Store(0),
        );
      },
      () => e(op.get(A), op.get(C), op.i32(2), op.shl, op.add, op.set(A)),
    );
    return { name: 'colSum', params: 4, locals: L.types, body };
  })();
  const affine = (() => {
    const { L, body, e } = builder(6);
    const [X, S, T, Y, W, C] = [0, 1, 2, 3, 4, 5];
    rowLoop(
      e,
      L,
      W,
      C,
      () => undefined,
      (ch) => {
        e(op.get(Y), op.get(ch), op.add);
        e(
          op.get(X),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.get(S),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.f32x4Mul,
          op.get(T),
          op.get(ch),
          op.add,
          op.v128Load(0),
          op.f32x4Add,
        );
        e(op.v128Store(0));
      },
      () => {
        e(op.get(X), op.get(C), op.i32(2), op.shl, op.add, op.set(X));
        e(op.get(Y), op.get(C), op.i32(2), op.shl, op.add, op.set(Y));
      },
    );
    return { name: 'affine', params: 6, locals: L.types, body };
  })();
  const affineMasked = (() => {
    const { L, body, e } = builder(9);
    const [DY, X, M, U, V, T, DX, W, C] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const mv = L.v128();
    rowLoop(
      e,
      L,
      W,
      C,
      () => e(op.get(M), op.load32Splat(0), op.set(mv)),
      (ch) => {
        const at = (base: number) => [...op.get(base), ...op.get(ch), ...op.add];
        e(at(DX));
        e(at(DY), op.v128Load(0), at(U), op.v128Load(0), op.f32x4Mul);
        e(at(X), op.v128Load(0), at(V), op.v128Load(0), op.f32x4Mul, at(T), op.v128Load(0), op.f32x4Add, op.get(mv), op.f32x4Mul);
        e(op.f32x4Add, op.v128Store(0));
      },
      () => {
        for (const p of [DY, X, DX]) e(op.get(p), op.get(C), op.i32(2), op.shl, op.add, op.set(p));
        advance(e, M, 4);
      },
    );
    return { name: 'affineMasked', params: 9, locals: L.types, body };
  })();
  const normMish = (() => {
    const { L, body, e } = builder(10);
    const [X, S, T, BIAS, M, RES, Y, W, C, HASRES] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const mv = L.v128(),
      v = L.v128(),
      t = L.v128(),
      k = L.v128(),
      n = L.v128();
    rowLoop(
      e,
      L,
      W,
      C,
      () => e(op.get(M), op.load32Splat(0), op.set(mv)),
      (ch) => {
        const at = (base: number) => [...op.get(base), ...op.get(ch), ...op.add];
        // v = x·s + t; n = eᵛ
        e(at(X), op.v128Load(0), at(S), op.v128Load(0), op.f32x4Mul, at(T), op.v128Load(0), op.f32x4Add, op.set(v));
        exp4(e, v, t, k);
        e(op.set(n));
        // y = (v − v·2/(n(n + 2) + 2) + bias)·m
        e(
          op.get(v),
          op.get(v),
          op.f32x4Const(2),
          op.get(n),
          op.get(n),
          op.f32x4Const(2),
          op.f32x4Add,
          op.f32x4Mul,
          op.f32x4Const(2),
          op.f32x4Add,
          op.f32x4Div,
          op.f32x4Mul,
          op.f32x4Sub,
        );
        e(at(BIAS), op.v128Load(0), op.f32x4Add, op.get(mv), op.f32x4Mul, op.set(v));
        e(op.get(HASRES), op.if, op.get(v), at(RES), op.v128Load(0), op.f32x4Add, op.set(v), op.end);
        e(at(Y), op.get(v), op.v128Store(0));
      },
      () => {
        for (const p of [X, Y, RES]) e(op.get(p), op.get(C), op.i32(2), op.shl, op.add, op.set(p));
        advance(e, M, 4);
      },
    );
    return { name: 'normMish', params: 10, locals: L.types, body };
  })();
  return [rowSum, rowSums2, colSum, affine, affineMasked, normMish];
}

export function pointwiseModuleBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule([...mishFunctions(), ...normFunctions()]);
}
