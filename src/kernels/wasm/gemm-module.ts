/**
 * Generates difftts's GEMM as WebAssembly SIMD code (see emit.ts). Two functions:
 *
 * `gemm(a, sAi, sAk, sAy, sAx, kh, kw, bp, sBp, c, ldc, M, N, K, acc)` — every argument an i32,
 * addresses and strides in BYTES:
 *
 *   C[m, n] (+)= Σ_{ty<kh} Σ_{tx<kw} Σ_{k<K} A(m, ty, tx, k) · Bp(ty, tx, k, n)
 *   A(m, ty, tx, k) = f32 at  a + m·sAi + ty·sAy + tx·sAx + k·sAk       (any strides: Aᵀ is free)
 *   Bp: B packed by `packB` into panels of 16 columns, panel p at bp + p·sBp holding
 *       [(ty·kw + tx)·K + k][16] (zero-padded past N)
 *   C[m, n] = f32 at c + m·ldc + 4n;  acc ≠ 0 adds to C instead of overwriting it.
 *
 * With kh = kw = 1 it is a plain strided GEMM; with kh×kw taps and A = a zero-padded NHWC image
 * row it is one output row of a convolution (implicit GEMM: no im2col).
 *
 * The register tile is 2 rows × 16 columns: 8 accumulators + 4 B vectors + 1 broadcast A = 13 of
 * the 16 SIMD registers V8 allocates on x64. Measured on this machine's Zen 4 (one thread,
 * [40956, 288]·[288, 32]): 2×16 with relaxed-SIMD FMA 49 GFLOP/s, 3×12 48.5, 4×8 46.6,
 * 2×16 without FMA 41; 5×8, 6×8 and 8×4 spill (22–36). tfjs's XNNPACK path runs 25–30 here.
 *
 * `packB(b, sBk, sBn, K, N, dst)`: Bp[p][k][j] = B(k, 16p + j) = f32 at b + k·sBk + (16p + j)·sBn,
 * 0 for 16p + j ≥ N. Contiguous rows (sBn = 4) of full panels are copied as vectors.
 */
import { encodeModule, Locals, op, type FunctionDef, type Instr } from './emit.js';

const MR = 2;
const NV = 4; // vectors of 4 floats per tile row: 16 columns
const NR = 4 * NV;

function gemmFunction(fma: boolean): FunctionDef {
  const P = { a: 0, sAi: 1, sAk: 2, sAy: 3, sAx: 4, kh: 5, kw: 6, bp: 7, sBp: 8, c: 9, ldc: 10, M: 11, N: 12, K: 13, acc: 14 };
  const L = new Locals(15);
  const i = L.i32(),
    arow = L.i32(),
    crow = L.i32(),
    jt = L.i32(),
    nFull = L.i32(),
    rem = L.i32();
  const ccol = L.i32(),
    bpan = L.i32(),
    b = L.i32(),
    ay = L.i32(),
    ax = L.i32(),
    ty = L.i32(),
    tx = L.i32();
  const a0 = L.i32(),
    a1 = L.i32(),
    k = L.i32(),
    c1 = L.i32();
  const bv = [0, 1, 2, 3].map(() => L.v128());
  const s = L.v128();
  const acc = [0, 1].map(() => [0, 1, 2, 3].map(() => L.v128()));
  const body: Instr[] = [];
  const e = (...xs: Instr[]) => body.push(...xs);

  /** C tile address of row r: ccol (r = 0) or c1 = ccol + ldc (r = 1). */
  const rowAddr = (r: number) => op.get(r === 0 ? ccol : c1);

  const tile = (mr: number, partial: boolean) => {
    e(op.get(ccol), op.get(P.ldc), op.add, op.set(c1));
    // accumulators: zero, or C's current values
    for (let r = 0; r < mr; r++) for (let v = 0; v < NV; v++) e(op.v128Zero, op.set(acc[r]![v]!));
    e(op.get(P.acc), op.if);
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < NV; v++) {
        if (!partial) {
          e(rowAddr(r), op.v128Load(16 * v), op.set(acc[r]![v]!));
          continue;
        }
        for (let l = 0; l < 4; l++) {
          const col = 4 * v + l;
          e(op.get(rem), op.i32(col), op.gtU, op.if);
          e(op.get(acc[r]![v]!), rowAddr(r), op.f32Load(4 * col), op.f32x4ReplaceLane(l), op.set(acc[r]![v]!));
          e(op.end);
        }
      }
    }
    e(op.end);
    // Σ over taps (ty, tx) and k
    e(op.get(bpan), op.set(b), op.get(arow), op.set(ay), op.get(P.kh), op.set(ty));
    e(op.loop);
    e(op.get(ay), op.set(ax), op.get(P.kw), op.set(tx));
    e(op.loop);
    e(op.get(ax), op.set(a0), op.get(ax), op.get(P.sAi), op.add, op.set(a1), op.get(P.K), op.set(k));
    e(op.loop);
    for (let v = 0; v < NV; v++) e(op.get(b), op.v128Load(16 * v), op.set(bv[v]!));
    for (let r = 0; r < mr; r++) {
      e(op.get(r === 0 ? a0 : a1), op.load32Splat(0), op.set(s));
      for (let v = 0; v < NV; v++) {
        const t = acc[r]![v]!;
        if (fma) e(op.get(s), op.get(bv[v]!), op.get(t), op.f32x4RelaxedMadd, op.set(t));
        else e(op.get(s), op.get(bv[v]!), op.f32x4Mul, op.get(t), op.f32x4Add, op.set(t));
      }
    }
    e(op.get(a0), op.get(P.sAk), op.add, op.set(a0));
    if (mr === 2) e(op.get(a1), op.get(P.sAk), op.add, op.set(a1));
    e(op.get(b), op.i32(4 * NR), op.add, op.set(b));
    e(op.get(k), op.i32(1), op.sub, op.tee(k), op.brIf(0), op.end);
    e(op.get(ax), op.get(P.sAx), op.add, op.set(ax));
    e(op.get(tx), op.i32(1), op.sub, op.tee(tx), op.brIf(0), op.end);
    e(op.get(ay), op.get(P.sAy), op.add, op.set(ay));
    e(op.get(ty), op.i32(1), op.sub, op.tee(ty), op.brIf(0), op.end);
    // store
    for (let r = 0; r < mr; r++) {
      for (let v = 0; v < NV; v++) {
        if (!partial) {
          e(rowAddr(r), op.get(acc[r]![v]!), op.v128Store(16 * v));
          continue;
        }
        for (let l = 0; l < 4; l++) {
          const col = 4 * v + l;
          e(op.get(rem), op.i32(col), op.gtU, op.if);
          e(rowAddr(r), op.get(acc[r]![v]!), op.f32x4ExtractLane(l), op.f32Store(4 * col));
          e(op.end);
        }
      }
    }
  };

  /** One row block of mr rows at arow / crow: full panels, then the partial one. */
  const rowBlock = (mr: number) => {
    e(op.i32(0), op.set(jt), op.get(crow), op.set(ccol), op.get(P.bp), op.set(bpan));
    e(op.block, op.loop);
    e(op.get(jt), op.get(nFull), op.geU, op.brIf(1));
    tile(mr, false);
    e(op.get(ccol), op.i32(4 * NR), op.add, op.set(ccol));
    e(op.get(bpan), op.get(P.sBp), op.add, op.set(bpan));
    e(op.get(jt), op.i32(1), op.add, op.set(jt), op.br(0));
    e(op.end, op.end);
    e(op.get(rem), op.if);
    tile(mr, true);
    e(op.end);
  };

  e(op.get(P.N), op.i32(4), op.shrU, op.set(nFull), op.get(P.N), op.i32(NR - 1), op.and, op.set(rem));
  e(op.i32(0), op.set(i), op.get(P.a), op.set(arow), op.get(P.c), op.set(crow));
  e(op.block, op.loop);
  e(op.get(i), op.i32(MR), op.add, op.get(P.M), op.gtU, op.brIf(1));
  rowBlock(MR);
  e(op.get(arow), op.get(P.sAi), op.i32(MR), op.mul, op.add, op.set(arow));
  e(op.get(crow), op.get(P.ldc), op.i32(MR), op.mul, op.add, op.set(crow));
  e(op.get(i), op.i32(MR), op.add, op.set(i), op.br(0));
  e(op.end, op.end);
  e(op.get(i), op.get(P.M), op.ltU, op.if);
  rowBlock(1);
  e(op.end);
  return { name: 'gemm', params: 15, locals: L.types, body };
}

function packFunction(): FunctionDef {
  const P = { b: 0, sBk: 1, sBn: 2, K: 3, N: 4, dst: 5 };
  const L = new Locals(6);
  const col = L.i32(),
    left = L.i32(),
    src = L.i32(),
    d = L.i32(),
    k = L.i32(),
    p = L.i32();
  const body: Instr[] = [];
  const e = (...xs: Instr[]) => body.push(...xs);
  e(op.get(P.b), op.set(col), op.get(P.N), op.set(left), op.get(P.dst), op.set(d));
  e(op.block, op.loop);
  e(op.get(left), op.eqz, op.brIf(1));
  e(op.get(col), op.set(src), op.get(P.K), op.set(k));
  e(op.get(P.sBn), op.i32(4), op.eq, op.get(left), op.i32(NR), op.geU, op.and, op.if);
  // contiguous full panel: 4 vector copies per row
  e(op.loop);
  for (let v = 0; v < NV; v++) e(op.get(d), op.get(src), op.v128Load(16 * v), op.v128Store(16 * v));
  e(op.get(src), op.get(P.sBk), op.add, op.set(src), op.get(d), op.i32(4 * NR), op.add, op.set(d));
  e(op.get(k), op.i32(1), op.sub, op.tee(k), op.brIf(0), op.end);
  e(op.else);
  e(op.loop);
  e(op.get(src), op.set(p));
  for (let j = 0; j < NR; j++) {
    e(op.get(left), op.i32(j), op.gtU, op.if);
    e(op.get(d), op.get(p), op.f32Load(0), op.f32Store(4 * j));
    e(op.get(p), op.get(P.sBn), op.add, op.set(p));
    e(op.else, op.get(d), op.f32Const0, op.f32Store(4 * j), op.end);
  }
  e(op.get(src), op.get(P.sBk), op.add, op.set(src), op.get(d), op.i32(4 * NR), op.add, op.set(d));
  e(op.get(k), op.i32(1), op.sub, op.tee(k), op.brIf(0), op.end);
  e(op.end);
  // next panel
  e(op.get(col), op.get(P.sBn), op.i32(NR), op.mul, op.add, op.set(col));
  e(op.get(left), op.i32(NR), op.geU, op.if, op.get(left), op.i32(NR), op.sub, op.set(left), op.else, op.i32(0), op.set(left), op.end);
  e(op.br(0), op.end, op.end);
  return { name: 'packB', params: 6, locals: L.types, body };
}

/** Panel width of the packed B layout (columns per panel). */
export const PANEL = NR;

/** The module's bytes; `fma` selects relaxed-SIMD f32x4.relaxed_madd over f32x4.mul + f32x4.add. */
export function gemmModuleBytes(fma: boolean): Uint8Array<ArrayBuffer> {
  return encodeModule([gemmFunction(fma), packFunction()]);
}
