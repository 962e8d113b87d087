/**
 * Generates a WebAssembly SIMD radix-2 FFT that transforms 8 complex signals at once, one per
 * f32 lane (src/audio/fft-batch.ts): with the lanes across signals, every butterfly is plain
 * vector arithmetic — no shuffles — and one twiddle load serves 8 signals.
 *
 * `fft8(x, tw, n)` (byte addresses; n a power of two ≥ 2): in-place decimation-in-time FFT,
 * X_k = Σ_j x_j e^{−2πi jk/n}, of the 8 signals at x; element j of the 8 signals is 64 bytes at
 * x + 64·j: [re of signals 0–3][re 4–7][im 0–3][im 4–7]. The input must be in bit-reversed order
 * (element j at position rev(j)); the output is in natural order. tw holds, for each stage of half
 * size h = 1, 2, 4 … n/2, the pairs (cos πj/h, −sin πj/h) for j < h, at tw + 8·(h − 1 + j).
 *
 * `gather(src, x, rev, n)`: signal s's samples as [re, im] pairs at src + 8·(s·n + j) → x, sample j
 *   to element rev[j] (rev: n i32 at `rev`), ready for fft8;
 * `scatter(x, dst, n)`: the reverse layout change without the permutation: element k of x →
 *   dst + 8·(s·n + k). So callers keep plain per-signal [re, im] loops, and the 8-lane layout
 *   stays inside wasm (one cache line per element).
 */
import { countdown, encodeModule, Locals, op, type FunctionDef, type Instr } from './emit.js';

export function fftModuleBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule([fft8(), gather(), scatter()]);
}

/** fft8(x, tw, n): see the module comment (also part of the Griffin-Lim module, gl-module.ts). */
export function fft8(): FunctionDef {
  const [x, tw, n] = [0, 1, 2];
  const L = new Locals(3);
  const h = L.i32(),
    hb = L.i32(),
    tbase = L.i32(),
    s = L.i32(),
    end = L.i32(),
    pa = L.i32(),
    pb = L.i32(),
    tp = L.i32(),
    cnt = L.i32();
  const wr = L.v128(),
    wi = L.v128(),
    br = L.v128(),
    bi = L.v128(),
    tr = L.v128(),
    ti = L.v128(),
    ar = L.v128(),
    ai = L.v128();
  /** One butterfly on lanes group q (signals 4q … 4q + 3): re at +16q, im at +32 + 16q. */
  const butterfly = (q: number): Instr[] => {
    const re = 16 * q,
      im = 32 + 16 * q;
    return [
      ...[op.get(pb), op.v128Load(re), op.set(br), op.get(pb), op.v128Load(im), op.set(bi)],
      // t = w·b
      ...[op.get(wr), op.get(br), op.f32x4Mul, op.get(wi), op.get(bi), op.f32x4Mul, op.f32x4Sub, op.set(tr)],
      ...[op.get(wr), op.get(bi), op.f32x4Mul, op.get(wi), op.get(br), op.f32x4Mul, op.f32x4Add, op.set(ti)],
      ...[op.get(pa), op.v128Load(re), op.set(ar), op.get(pa), op.v128Load(im), op.set(ai)],
      // a ± t
      ...[op.get(pa), op.get(ar), op.get(tr), op.f32x4Add, op.v128Store(re)],
      ...[op.get(pa), op.get(ai), op.get(ti), op.f32x4Add, op.v128Store(im)],
      ...[op.get(pb), op.get(ar), op.get(tr), op.f32x4Sub, op.v128Store(re)],
      ...[op.get(pb), op.get(ai), op.get(ti), op.f32x4Sub, op.v128Store(im)],
    ];
  };
  const body: Instr[] = [
    ...[op.get(x), op.get(n), op.i32(6), op.shl, op.add, op.set(end)],
    ...[op.i32(1), op.set(h), op.i32(64), op.set(hb), op.get(tw), op.set(tbase)],
    op.block,
    op.loop, // stages
    ...[op.get(h), op.get(n), op.geU, op.brIf(1)],
    ...[op.get(x), op.set(s)],
    op.loop, // blocks of 2h elements
    ...[op.get(s), op.set(pa), op.get(tbase), op.set(tp), op.get(h), op.set(cnt)],
    op.loop, // butterflies j < h
    ...[op.get(tp), op.load32Splat(0), op.set(wr), op.get(tp), op.load32Splat(4), op.set(wi)],
    ...[op.get(pa), op.get(hb), op.add, op.set(pb)],
    ...butterfly(0),
    ...butterfly(1),
    ...[op.get(pa), op.i32(64), op.add, op.set(pa), op.get(tp), op.i32(8), op.add, op.set(tp)],
    ...[op.get(cnt), op.i32(1), op.sub, op.tee(cnt), op.brIf(0)],
    op.end,
    ...[op.get(s), op.get(hb), op.i32(1), op.shl, op.add, op.tee(s), op.get(end), op.ltU, op.brIf(0)],
    op.end,
    ...[op.get(tbase), op.get(h), op.i32(3), op.shl, op.add, op.set(tbase)],
    ...[op.get(h), op.i32(1), op.shl, op.set(h), op.get(hb), op.i32(1), op.shl, op.set(hb)],
    op.br(0),
    op.end,
    op.end,
  ];
  return { name: 'fft8', params: 3, locals: L.types, body };
}

/** gather(src, x, rev, n): see the module comment. */
function gather(): FunctionDef {
  const [src, x, rev, n] = [0, 1, 2, 3];
  const L = new Locals(4);
  const e = L.i32(),
    q = L.i32(),
    stride = L.i32();
  const lanes: Instr[] = [];
  for (let s = 0; s < 8; s++) {
    // q = src + 8j + s·8n
    lanes.push(op.get(e), op.get(q), op.f32Load(0), op.f32Store(4 * s), op.get(e), op.get(q), op.f32Load(4), op.f32Store(32 + 4 * s));
    if (s < 7) lanes.push(op.get(q), op.get(stride), op.add, op.set(q));
  }
  const body: Instr[] = [
    ...[op.get(n), op.i32(3), op.shl, op.set(stride)],
    ...countdown(n, [
      // e = x + 64·rev[j]; q = src (sample j of signal 0)
      ...[op.get(x), op.get(rev), op.i32Load(0), op.i32(6), op.shl, op.add, op.set(e), op.get(src), op.set(q)],
      ...lanes,
      ...[op.get(src), op.i32(8), op.add, op.set(src), op.get(rev), op.i32(4), op.add, op.set(rev)],
    ]),
  ];
  return { name: 'gather', params: 4, locals: L.types, body };
}

/** scatter(x, dst, n): see the module comment. */
function scatter(): FunctionDef {
  const [x, dst, n] = [0, 1, 2];
  const L = new Locals(3);
  const q = L.i32(),
    stride = L.i32();
  const lanes: Instr[] = [];
  for (let s = 0; s < 8; s++) {
    lanes.push(op.get(q), op.get(x), op.f32Load(4 * s), op.f32Store(0), op.get(q), op.get(x), op.f32Load(32 + 4 * s), op.f32Store(4));
    if (s < 7) lanes.push(op.get(q), op.get(stride), op.add, op.set(q));
  }
  const body: Instr[] = [
    ...[op.get(n), op.i32(3), op.shl, op.set(stride)],
    ...countdown(n, [
      ...[op.get(dst), op.set(q)],
      ...lanes,
      ...[op.get(x), op.i32(64), op.add, op.set(x), op.get(dst), op.i32(8), op.add, op.set(dst)],
    ]),
  ];
  return { name: 'scatter', params: 3, locals: L.types, body };
}
