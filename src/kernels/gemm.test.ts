/**
 * The generated GEMM module (wasm/gemm-module.ts) on its own memory, both builds (relaxed-SIMD FMA
 * and mul + add), against float64 sums in JS: plain, strided (Aᵀ, Bᵀ), accumulate, conv taps, and
 * the edges of the 2 × 16 register tile (odd M, N mod 16 ≠ 0, N < 16, K = 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gemmModuleBytes, PANEL } from './wasm/gemm-module.js';
import { gemmUsesFma } from './gemm.js';
import { Rng } from '../util/rng.js';

type Fn = (...a: number[]) => void;

function instantiate(fma: boolean): { f32: () => Float32Array; gemm: Fn; packB: Fn } {
  const memory = new WebAssembly.Memory({ initial: 64 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(gemmModuleBytes(fma)), { env: { memory } });
  return { f32: () => new Float32Array(memory.buffer), gemm: inst.exports.gemm as Fn, packB: inst.exports.packB as Fn };
}

const rng = new Rng(77);

interface Case {
  name: string;
  m: number;
  n: number;
  k: number;
  kh?: number;
  kw?: number;
  tA?: boolean;
  tB?: boolean;
  accumulate?: boolean;
}

const cases: Case[] = [
  { name: '1×1×1', m: 1, n: 1, k: 1 },
  { name: 'odd M, N < 16', m: 7, n: 5, k: 9 },
  { name: 'N = 16 exactly, K = 1', m: 4, n: 16, k: 1 },
  { name: 'two full panels + partial (N = 37), odd M', m: 13, n: 37, k: 20 },
  { name: 'Aᵀ (strided A)', m: 9, n: 20, k: 11, tA: true },
  { name: 'Bᵀ (strided B)', m: 6, n: 18, k: 7, tB: true },
  { name: 'Aᵀ·Bᵀ, accumulate into C', m: 5, n: 33, k: 8, tA: true, tB: true, accumulate: true },
  { name: '3×3 taps over a padded image row (implicit conv)', m: 6, n: 17, k: 4, kh: 3, kw: 3 },
  { name: '2×4 taps, accumulate, partial panel', m: 5, n: 3, k: 2, kh: 2, kw: 4, accumulate: true },
];

for (const fma of [true, false]) {
  for (const c of cases) {
    test(`gemm (${fma ? 'FMA' : 'mul+add'}) ${c.name} equals a float64 reference`, (t) => {
      if (fma && !gemmUsesFma()) return t.skip('relaxed SIMD unavailable on this runtime');
      const { f32, gemm, packB } = instantiate(fma);
      const kh = c.kh ?? 1,
        kw = c.kw ?? 1,
        taps = kh * kw;
      // A: a [rowsA, colsA] image; element (i, ty, tx, k) at i·sAi + ty·sAy + tx·sAx + k·sAk (floats).
      let sAi: number, sAk: number, sAy: number, sAx: number, aLen: number;
      if (taps > 1) {
        // NHWC image row segment: pixels of `k` channels, (m + kw − 1) wide, kh rows
        const wp = c.m + kw - 1;
        sAi = c.k;
        sAk = 1;
        sAx = c.k;
        sAy = wp * c.k;
        aLen = kh * wp * c.k;
      } else if (c.tA) {
        sAi = 1;
        sAk = c.m;
        sAy = 0;
        sAx = 0;
        aLen = c.m * c.k;
      } else {
        sAi = c.k;
        sAk = 1;
        sAy = 0;
        sAx = 0;
        aLen = c.m * c.k;
      }
      const kTot = taps * c.k;
      const sBk = c.tB ? 1 : c.n,
        sBn = c.tB ? kTot : 1;
      const A = rng.normals(aLen),
        B = rng.normals(kTot * c.n),
        C0 = rng.normals(c.m * c.n);
      const aOff = 0,
        bOff = aLen,
        cOff = bOff + B.length,
        pOff = cOff + C0.length + 8;
      const heap = f32();
      heap.set(A, aOff);
      heap.set(B, bOff);
      heap.set(C0, cOff);
      packB(bOff * 4, sBk * 4, sBn * 4, kTot, c.n, pOff * 4);
      // packed layout: panel p, row r, lane j
      const panels = Math.ceil(c.n / PANEL);
      for (let p = 0; p < panels; p++)
        for (let r = 0; r < kTot; r++)
          for (let j = 0; j < PANEL; j++) {
            const col = p * PANEL + j;
            const want = col < c.n ? B[r * sBk + col * sBn]! : 0;
            assert.equal(f32()[pOff + (p * kTot + r) * PANEL + j], want, `packed B panel ${p} row ${r} lane ${j}`);
          }
      gemm(
        aOff * 4,
        sAi * 4,
        sAk * 4,
        sAy * 4,
        sAx * 4,
        kh,
        kw,
        pOff * 4,
        kTot * PANEL * 4,
        cOff * 4,
        c.n * 4,
        c.m,
        c.n,
        c.k,
        c.accumulate ? 1 : 0,
      );
      const got = f32();
      for (let i = 0; i < c.m; i++) {
        for (let j = 0; j < c.n; j++) {
          let s = c.accumulate ? C0[i * c.n + j]! : 0;
          for (let ty = 0; ty < kh; ty++)
            for (let tx = 0; tx < kw; tx++)
              for (let k = 0; k < c.k; k++) {
                const r = (ty * kw + tx) * c.k + k;
                s += A[i * sAi + ty * sAy + tx * sAx + k * sAk]! * B[r * sBk + j * sBn]!;
              }
          const g = got[cOff + i * c.n + j]!;
          assert.ok(Math.abs(g - s) <= 1e-5 * (1 + Math.abs(s)), `C[${i}, ${j}] = ${g}, expected ${s}`);
        }
      }
      // nothing written past C
      assert.equal(got[cOff + c.m * c.n], 0, 'the float after C is untouched');
    });
  }
}
