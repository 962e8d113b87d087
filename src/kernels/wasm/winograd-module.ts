/**
 * Generates the tile transforms of Winograd minimal filtering (Lavin & Gray 2016) as WebAssembly
 * SIMD code (see emit.ts). Every transform is one two-sided product Y = L·X·Lᵀ of a q×q patch X of
 * 4-channel vectors with a constant p×q matrix L, so one generator serves all five uses of
 * F(m×m, 3×3) (n = m + 2):
 *
 *   in     V = Bᵀ·d·B      input tile n×n → n×n          (L = Bᵀ, n×n)
 *   filter U = G·g·Gᵀ      filter 3×3 → n×n              (L = G,  n×3)
 *   out    Y = Aᵀ·M·A      products n×n → output m×m     (L = Aᵀ, m×n)
 *   dy     Ṁ = A·dY·Aᵀ     output gradient m×m → n×n     (L = A,  n×m)  [filter gradient]
 *   back   dg = Gᵀ·dU·G    n×n → filter gradient 3×3     (L = Gᵀ, 3×n)  [filter gradient]
 *
 * Each is exported as `<use><m>(src, sRow, sCol, sTile, dst, dRow, dCol, dTile, dPanel, tiles, nch, wr, wc)`,
 * every argument an i32, addresses and strides in BYTES (strides may be negative: a flipped filter):
 *
 *   for t < tiles, for c < nch step 4:
 *     X[r][k]  = f32x4 at src + t·sTile + r·sRow + k·sCol + 4c
 *     Y = L·X·Lᵀ;  Y[i][j] stored at dst + t·dTile + i·dRow + j·dCol + (c >> 4)·dPanel + 4·(c & 15)
 *     only where i < wr and j < wc (the edge tiles of an output whose size m does not divide)
 *
 * dPanel = 64 is a plain channel-contiguous layout; another dPanel writes 16-channel panels, the
 * layout gemm-module.ts's packed B has, so a transform can write a GEMM operand already packed.
 * nch must be a multiple of 4. Multiplications by 0 are skipped and by ±1 become adds/subtractions.
 */
import { encodeModule, Locals, op, type FunctionDef, type Instr } from './emit.js';

/** F(m×m, 3×3) transform matrices: Bᵀ (n×n), G (n×3), Aᵀ (m×n). */
export interface WinogradMatrices {
  m: number;
  BT: number[][];
  G: number[][];
  AT: number[][];
}

/** F(2×2, 3×3): points 0, ±1, ∞. */
export const F2: WinogradMatrices = {
  m: 2,
  BT: [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ],
  G: [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ],
};

/** F(4×4, 3×3): points 0, ±1, ±2, ∞ (constants up to 8 in Aᵀ, 1/24 in G: larger float32 error). */
export const F4: WinogradMatrices = {
  m: 4,
  BT: [
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
  ],
  G: [
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
  ],
  AT: [
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
  ],
};

export const transpose = (a: number[][]): number[][] => a[0]!.map((_, j) => a.map((row) => row[j]!));

/** Leaves Σ_k coef[k]·local[k] (a v128) on the stack. */
function linComb(coef: number[], locals: number[]): Instr[] {
  const out: Instr[] = [];
  const terms = coef.map((c, k) => [c, locals[k]!] as const).filter(([c]) => c !== 0);
  if (terms.length === 0) return [op.v128Zero];
  // start with a positive term where there is one: no negation needed
  terms.sort((a, b) => Number(b[0] > 0) - Number(a[0] > 0));
  terms.forEach(([c, l], idx) => {
    const mag = Math.abs(c);
    out.push(op.get(l));
    if (mag !== 1) out.push(op.f32x4Const(mag), op.f32x4Mul);
    if (idx === 0) {
      if (c < 0) out.push(op.f32x4Neg);
    } else {
      out.push(c < 0 ? op.f32x4Sub : op.f32x4Add);
    }
  });
  return out;
}

function transformFunction(name: string, L: number[][]): FunctionDef {
  const p = L.length,
    q = L[0]!.length;
  const P = { src: 0, sRow: 1, sCol: 2, sTile: 3, dst: 4, dRow: 5, dCol: 6, dTile: 7, dPanel: 8, tiles: 9, nch: 10, wr: 11, wc: 12 };
  const Lc = new Locals(13);
  const t = Lc.i32(),
    c = Lc.i32(),
    sT = Lc.i32(),
    dT = Lc.i32(),
    ptr = Lc.i32(),
    row = Lc.i32(),
    dc = Lc.i32();
  const x = [...Array(q)].map(() => Lc.v128());
  // Z = X·Lᵀ (q×p), computed row by row of X
  const z = [...Array(q)].map(() => [...Array(p)].map(() => Lc.v128()));
  const y = Lc.v128();
  const body: Instr[] = [];
  const e = (...xs: Instr[]) => body.push(...xs);
  e(op.get(P.src), op.set(sT), op.get(P.dst), op.set(dT), op.get(P.tiles), op.set(t));
  e(op.block, op.get(t), op.eqz, op.brIf(0), op.loop);
  e(op.i32(0), op.set(c));
  e(op.block, op.get(P.nch), op.eqz, op.brIf(0), op.loop);
  // loads and the first product, row by row
  e(op.get(sT), op.get(c), op.i32(2), op.shl, op.add, op.set(row));
  for (let r = 0; r < q; r++) {
    e(op.get(row), op.set(ptr));
    for (let k = 0; k < q; k++) {
      e(op.get(ptr), op.v128Load(0), op.set(x[k]!));
      if (k < q - 1) e(op.get(ptr), op.get(P.sCol), op.add, op.set(ptr));
    }
    for (let j = 0; j < p; j++) e(...linComb(L[j]!, x), op.set(z[r]![j]!));
    if (r < q - 1) e(op.get(row), op.get(P.sRow), op.add, op.set(row));
  }
  // destination of this channel group
  e(
    op.get(dT),
    op.get(c),
    op.i32(4),
    op.shrU,
    op.get(P.dPanel),
    op.mul,
    op.add,
    op.get(c),
    op.i32(15),
    op.and,
    op.i32(2),
    op.shl,
    op.add,
    op.set(dc),
  );
  for (let i = 0; i < p; i++) {
    e(op.get(dc), op.set(ptr));
    for (let j = 0; j < p; j++) {
      e(
        ...linComb(
          L[i]!,
          z.map((zr) => zr[j]!),
        ),
        op.set(y),
      );
      e(op.get(P.wr), op.i32(i), op.gtU, op.get(P.wc), op.i32(j), op.gtU, op.and, op.if);
      e(op.get(ptr), op.get(y), op.v128Store(0));
      e(op.end);
      if (j < p - 1) e(op.get(ptr), op.get(P.dCol), op.add, op.set(ptr));
    }
    if (i < p - 1) e(op.get(dc), op.get(P.dRow), op.add, op.set(dc));
  }
  e(op.get(c), op.i32(4), op.add, op.tee(c), op.get(P.nch), op.ltU, op.brIf(0));
  e(op.end, op.end);
  e(op.get(sT), op.get(P.sTile), op.add, op.set(sT), op.get(dT), op.get(P.dTile), op.add, op.set(dT));
  e(op.get(t), op.i32(1), op.sub, op.tee(t), op.brIf(0));
  e(op.end, op.end);
  return { name, params: 13, locals: Lc.types, body };
}

/** The five transforms of each of F(2×2, 3×3) and F(4×4, 3×3): in2, filter2, out2, dy2, back2, in4, …. */
export function winogradModuleBytes(): Uint8Array<ArrayBuffer> {
  const fns: FunctionDef[] = [];
  for (const w of [F2, F4]) {
    fns.push(
      transformFunction(`in${w.m}`, w.BT),
      transformFunction(`filter${w.m}`, w.G),
      transformFunction(`out${w.m}`, w.AT),
      transformFunction(`dy${w.m}`, transpose(w.AT)),
      transformFunction(`back${w.m}`, transpose(w.G)),
    );
  }
  return encodeModule(fns);
}
