/**
 * Generates the WebAssembly SIMD kernels of one fast Griffin-Lim iteration (src/audio/
 * griffinlim-wasm.ts) around fft8 (fft-module.ts), so that the per-bin and per-sample loops around
 * the FFTs — ~80 % of Griffin-Lim's time when they were JavaScript (issue #24) — run as f32x4 too.
 *
 * Frames go in groups of 16: frame pair (16g + 2L, 16g + 2L + 1) is fft8's signal L (L = 0 … 7), the
 * even frame a as its real part, the odd frame b as its imaginary part (two real frames per complex
 * FFT). The spectrogram state of group g is kept bin-major so that every update is lane-parallel:
 * bin k of group g is one 320-byte block at blocks + 320·(g·kb + k) (kb = bins in use, see update):
 *
 *   [S 64][cRe 64][cIm 64][pRe 64][pIm 64]   each 64 bytes = 16 f32: [frames a of L = 0 … 7][frames b]
 *
 * so frame 16g + j sits at f32 lane (j & 1)·8 + (j >> 1) of each part. S = target magnitude, c = the
 * current coefficients S·e^{iφ}, p = the previous rebuilt spectrogram (times 2, see update). With
 * this, packing two frames into one FFT input, splitting the output by Hermitian symmetry and the
 * momentum update are plain vector arithmetic on whole 16-byte rows, with no shuffles. The signal
 * side (overlap-add, windowing) changes between frame-in-lane and sample-in-lane order with 4×4
 * transposes (8 shuffles per 16 values) instead of 16 scalar loads and stores.
 *
 * Exports (all arguments i32 byte addresses, byte strides or counts; `work` = fft8's 8-signal buffer
 * of n + 1 elements of 64 bytes, element n a spare for update):
 * - fft8(work, tw, n): fft-module.ts.
 * - pack(blocks, work, rev, n, kb): Z = conj(A + i·B) for the group's 8 frame pairs, bins < kb from
 *   c and 0 above, written bit-reversed (rev: n i32) for fft8, so that the forward FFT is the
 *   inverse one conjugated: output element i = N·(a_i − i·b_i). The imaginary parts of DC and
 *   Nyquist must be 0 in c (irfft drops them; update keeps them 0).
 * - overlapAdd(work, xb, hop4, nf, win, dump, n): x[j·hop + i] += a_j[i]·win[i] for the group's
 *   frames j < nf (x of frame 0 at byte xb, hop4 = 4·hop), win = the synthesis window over N; frames
 *   ≥ nf (past the signal, an odd last frame's partner) go to the n f32 at `dump` instead.
 * - scale(x, inv, count): x ← x·inv over 4·count f32 (the 1 / window-sum-square).
 * - windowFrames(work, xb, hop4, nf, win, zeros, rev, n): the group's frames x[j·hop + i]·win[i],
 *   a as real and b as imaginary part, bit-reversed into work for fft8; frames ≥ nf read the n zero
 *   f32 at `zeros` (x past the signal would do in exact arithmetic, but an odd last frame's partner
 *   there overlaps its tail, where x = a/w is large, and float32 cancellation would leak it into a).
 * - update(blocks, work, n, kb, params): from fft8's output, t = the two frames' spectra (by
 *   Hermitian symmetry, times 2), then c ← S·phase(t + α(t − p)), p ← t, for bins < kb. params: two
 *   f32, 1 + α and α.
 */
import { countdown, encodeModule, Locals, op, type FunctionDef, type Instr } from './emit.js';
import { fft8 } from './fft-module.js';

/** Byte offsets in one bin block (see the module comment). */
export const GL_BLOCK = { bytes: 320, s: 0, cRe: 64, cIm: 128, pRe: 192, pIm: 256 } as const;

export function glModuleBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule([fft8(), pack(), overlapAdd(), scale(), windowFrames(), update()]);
}

/** The frame (0–15 in the group) in lane s of row q of a work element ([re 0–3][re 4–7][im 0–3][im 4–7]). */
const frameOf = (q: number, s: number): number => 2 * (4 * (q & 1) + s) + (q >> 1);

/** v[0 … 3] ← their 4×4 transpose (t: four scratch v128 locals). */
function transpose(v: number[], t: number[]): Instr[] {
  const shuf = (a: number, b: number, lanes: [number, number, number, number], dst: number): Instr[] => [
    op.get(a),
    op.get(b),
    op.f32x4Shuffle(...lanes),
    op.set(dst),
  ];
  const [v0, v1, v2, v3] = v as [number, number, number, number];
  const [t0, t1, t2, t3] = t as [number, number, number, number];
  return [
    ...shuf(v0, v1, [0, 4, 1, 5], t0),
    ...shuf(v0, v1, [2, 6, 3, 7], t1),
    ...shuf(v2, v3, [0, 4, 1, 5], t2),
    ...shuf(v2, v3, [2, 6, 3, 7], t3),
    ...shuf(t0, t2, [0, 1, 4, 5], v0),
    ...shuf(t0, t2, [2, 3, 6, 7], v1),
    ...shuf(t1, t3, [0, 1, 4, 5], v2),
    ...shuf(t1, t3, [2, 3, 6, 7], v3),
  ];
}

/** local ← local + delta (i32). */
const bump = (local: number, delta: number): Instr[] => [op.get(local), op.i32(delta), op.add, op.set(local)];

/** local ← base + 64·rev[*at] (the work element of a bit-reversed index). */
const elementAt = (local: number, work: number, at: number, offset = 0): Instr[] => [
  ...[op.get(work), op.get(at), op.i32Load(offset), op.i32(6), op.shl, op.add, op.set(local)],
];

/** local ← j < nf ? xb + j·hop4 : other (frame j of the group, or a stand-in past the signal). */
const frameAddress = (local: number, j: number, xb: number, hop4: number, nf: number, other: number): Instr[] => [
  ...[op.get(xb), op.get(hop4), op.i32(j), op.mul, op.add, op.get(other), op.i32(j), op.get(nf), op.ltU, op.select, op.set(local)],
];

/** pack(blocks, work, rev, n, kb): see the module comment. */
function pack(): FunctionDef {
  const [blocks, work, rev, n, kb] = [0, 1, 2, 3, 4];
  const L = new Locals(5);
  const bp = L.i32(),
    ea = L.i32(),
    eb = L.i32(),
    rk = L.i32(),
    rnk = L.i32(),
    cnt = L.i32();
  const ar = L.v128(),
    br = L.v128(),
    ai = L.v128(),
    bi = L.v128();
  /** Bin k (block at bp) into element ea (Z_k) and, with `mirror`, eb (Z_{n−k}). */
  const bin = (mirror: boolean): Instr[] => {
    const out: Instr[] = [];
    for (const h of [0, 16]) {
      out.push(op.get(bp), op.v128Load(GL_BLOCK.cRe + h), op.set(ar), op.get(bp), op.v128Load(GL_BLOCK.cRe + 32 + h), op.set(br));
      out.push(op.get(bp), op.v128Load(GL_BLOCK.cIm + h), op.set(ai), op.get(bp), op.v128Load(GL_BLOCK.cIm + 32 + h), op.set(bi));
      // Z_k = conj(A_k + i·B_k) = (ar − bi) − i(ai + br)
      out.push(op.get(ea), op.get(ar), op.get(bi), op.f32x4Sub, op.v128Store(h));
      out.push(op.get(ea), op.get(ai), op.get(br), op.f32x4Add, op.f32x4Neg, op.v128Store(32 + h));
      // Z_{n−k} = conj(conj A_k + i·conj B_k) = (ar + bi) + i(ai − br)
      if (mirror) {
        out.push(op.get(eb), op.get(ar), op.get(bi), op.f32x4Add, op.v128Store(h));
        out.push(op.get(eb), op.get(ai), op.get(br), op.f32x4Sub, op.v128Store(32 + h));
      }
    }
    return out;
  };
  const zero = (e: number): Instr[] => [0, 16, 32, 48].flatMap((o) => [op.get(e), op.v128Zero, op.v128Store(o)]);
  const body: Instr[] = [
    // DC: element rev[0] = 0, no mirror
    ...[op.get(blocks), op.set(bp), op.get(work), op.set(ea)],
    ...bin(false),
    // bins 1 … kb − 1 (at Nyquist ea = eb, and both writes agree since its imaginary parts are 0)
    ...[op.get(blocks), op.i32(GL_BLOCK.bytes), op.add, op.set(bp)],
    ...[op.get(rev), op.i32(4), op.add, op.set(rk)],
    ...[op.get(rev), op.get(n), op.i32(1), op.sub, op.i32(2), op.shl, op.add, op.set(rnk)],
    ...[op.get(kb), op.i32(1), op.sub, op.set(cnt)],
    ...countdown(cnt, [
      ...elementAt(ea, work, rk),
      ...elementAt(eb, work, rnk),
      ...bin(true),
      ...bump(bp, GL_BLOCK.bytes),
      ...bump(rk, 4),
      ...bump(rnk, -4),
    ]),
    // bins kb … n/2 are 0 in every frame: fft8 works in place, so they are rewritten each time
    ...[op.get(n), op.i32(1), op.shrU, op.i32(1), op.add, op.get(kb), op.sub, op.set(cnt)],
    ...countdown(cnt, [
      ...elementAt(ea, work, rk),
      ...elementAt(eb, work, rnk),
      ...zero(ea),
      ...zero(eb),
      ...bump(rk, 4),
      ...bump(rnk, -4),
    ]),
  ];
  return { name: 'pack', params: 5, locals: L.types, body };
}

/** overlapAdd(work, xb, hop4, nf, win, dump, n): see the module comment. */
function overlapAdd(): FunctionDef {
  const [work, xb, hop4, nf, win, dump, n] = [0, 1, 2, 3, 4, 5, 6];
  const L = new Locals(7);
  const dst = Array.from({ length: 16 }, () => L.i32());
  const e = L.i32(),
    off = L.i32(),
    cnt = L.i32(),
    addr = L.i32();
  const wv = L.v128();
  const v = [L.v128(), L.v128(), L.v128(), L.v128()];
  const t = [L.v128(), L.v128(), L.v128(), L.v128()];
  const body: Instr[] = [];
  for (let j = 0; j < 16; j++) body.push(...frameAddress(dst[j]!, j, xb, hop4, nf, dump));
  const block: Instr[] = [op.get(win), op.get(off), op.add, op.v128Load(0), op.set(wv)];
  for (let q = 0; q < 4; q++) {
    for (let m = 0; m < 4; m++) block.push(op.get(e), op.v128Load(64 * m + 16 * q), op.set(v[m]!));
    block.push(...transpose(v, t)); // v[s] = samples i … i + 3 of frame frameOf(q, s)
    for (let s = 0; s < 4; s++) {
      // the imaginary rows hold −b·N (see pack)
      const acc = q < 2 ? op.f32x4Add : op.f32x4Sub;
      block.push(op.get(dst[frameOf(q, s)]!), op.get(off), op.add, op.tee(addr), op.get(addr), op.v128Load(0));
      block.push(op.get(v[s]!), op.get(wv), op.f32x4Mul, acc, op.v128Store(0));
    }
  }
  body.push(op.get(work), op.set(e), op.i32(0), op.set(off), op.get(n), op.i32(2), op.shrU, op.set(cnt));
  body.push(...countdown(cnt, [...block, ...bump(e, 256), ...bump(off, 16)]));
  return { name: 'overlapAdd', params: 7, locals: L.types, body };
}

/** scale(x, inv, count): see the module comment. */
function scale(): FunctionDef {
  const [x, inv, count] = [0, 1, 2];
  const body = countdown(count, [
    ...[op.get(x), op.get(x), op.v128Load(0), op.get(inv), op.v128Load(0), op.f32x4Mul, op.v128Store(0)],
    ...bump(x, 16),
    ...bump(inv, 16),
  ]);
  return { name: 'scale', params: 3, locals: [], body };
}

/** windowFrames(work, xb, hop4, win, rev, n): see the module comment. */
function windowFrames(): FunctionDef {
  const [work, xb, hop4, nf, win, zeros, rev, n] = [0, 1, 2, 3, 4, 5, 6, 7];
  const L = new Locals(8);
  const src = Array.from({ length: 16 }, () => L.i32());
  const el = [L.i32(), L.i32(), L.i32(), L.i32()];
  const off = L.i32(),
    rp = L.i32(),
    cnt = L.i32();
  const wv = L.v128();
  const v = [L.v128(), L.v128(), L.v128(), L.v128()];
  const t = [L.v128(), L.v128(), L.v128(), L.v128()];
  const body: Instr[] = [];
  for (let j = 0; j < 16; j++) body.push(...frameAddress(src[j]!, j, xb, hop4, nf, zeros));
  const block: Instr[] = [op.get(win), op.get(off), op.add, op.v128Load(0), op.set(wv)];
  for (let m = 0; m < 4; m++) block.push(...elementAt(el[m]!, work, rp, 4 * m));
  for (let q = 0; q < 4; q++) {
    for (let s = 0; s < 4; s++) {
      block.push(op.get(src[frameOf(q, s)]!), op.get(off), op.add, op.v128Load(0), op.get(wv), op.f32x4Mul, op.set(v[s]!));
    }
    block.push(...transpose(v, t)); // v[m] = row q of element i + m
    for (let m = 0; m < 4; m++) block.push(op.get(el[m]!), op.get(v[m]!), op.v128Store(16 * q));
  }
  body.push(op.i32(0), op.set(off), op.get(rev), op.set(rp), op.get(n), op.i32(2), op.shrU, op.set(cnt));
  body.push(...countdown(cnt, [...block, ...bump(off, 16), ...bump(rp, 16)]));
  return { name: 'windowFrames', params: 8, locals: L.types, body };
}

/**
 * update(blocks, work, n, kb, params): see the module comment. With Z = fft8's output and W_k =
 * Z_{n−k} (W_0 = Z_0, hence the spare element n), 2A_k = Z_k + conj W_k and 2B_k = −i(Z_k − conj W_k).
 * The factor 2 is kept: the momentum step is linear in (t, p) and the phase ignores scale, so only
 * the threshold below which the phase is undefined doubles (2e-16, the fft.js path's 1e-16).
 */
function update(): FunctionDef {
  const [blocks, work, n, kb, params] = [0, 1, 2, 3, 4];
  const L = new Locals(5);
  const bp = L.i32(),
    pz = L.i32(),
    pw = L.i32(),
    cnt = L.i32();
  const a1 = L.v128(),
    al = L.v128(),
    zr = L.v128(),
    zi = L.v128(),
    wr = L.v128(),
    wi = L.v128(),
    tr = L.v128(),
    ti = L.v128(),
    ar = L.v128(),
    ai = L.v128(),
    s = L.v128(),
    g = L.v128(),
    mask = L.v128();
  /** The 4 frames at byte o of each part of the block at bp, rebuilt value (tr, ti). */
  const upd = (o: number): Instr[] => [
    // a = (1 + α)·t − α·p; p ← t
    ...[op.get(a1), op.get(tr), op.f32x4Mul, op.get(al), op.get(bp), op.v128Load(GL_BLOCK.pRe + o), op.f32x4Mul, op.f32x4Sub, op.set(ar)],
    ...[op.get(a1), op.get(ti), op.f32x4Mul, op.get(al), op.get(bp), op.v128Load(GL_BLOCK.pIm + o), op.f32x4Mul, op.f32x4Sub, op.set(ai)],
    ...[op.get(bp), op.get(tr), op.v128Store(GL_BLOCK.pRe + o), op.get(bp), op.get(ti), op.v128Store(GL_BLOCK.pIm + o)],
    // c = S·a/|a|, or (S, 0) where |a| is ~0 (S = 0 in unused lanes gives c = 0 either way)
    ...[op.get(ar), op.get(ar), op.f32x4Mul, op.get(ai), op.get(ai), op.f32x4Mul, op.f32x4Add, op.f32x4Sqrt, op.set(g)],
    ...[op.get(g), op.f32x4Const(2e-16), op.f32x4Gt, op.set(mask)],
    ...[op.get(bp), op.v128Load(GL_BLOCK.s + o), op.tee(s), op.get(g), op.f32x4Div, op.set(g)],
    ...[op.get(bp), op.get(ar), op.get(g), op.f32x4Mul, op.get(s), op.get(mask), op.v128Bitselect, op.v128Store(GL_BLOCK.cRe + o)],
    ...[op.get(bp), op.get(ai), op.get(g), op.f32x4Mul, op.v128Zero, op.get(mask), op.v128Bitselect, op.v128Store(GL_BLOCK.cIm + o)],
  ];
  const loop: Instr[] = [];
  for (const h of [0, 16]) {
    loop.push(op.get(pz), op.v128Load(h), op.set(zr), op.get(pz), op.v128Load(32 + h), op.set(zi));
    loop.push(op.get(pw), op.v128Load(h), op.set(wr), op.get(pw), op.v128Load(32 + h), op.set(wi));
    // frames a: 2A = (zr + wr) + i(zi − wi)
    loop.push(op.get(zr), op.get(wr), op.f32x4Add, op.set(tr), op.get(zi), op.get(wi), op.f32x4Sub, op.set(ti), ...upd(h));
    // frames b: 2B = (zi + wi) + i(wr − zr)
    loop.push(op.get(zi), op.get(wi), op.f32x4Add, op.set(tr), op.get(wr), op.get(zr), op.f32x4Sub, op.set(ti), ...upd(32 + h));
  }
  const body: Instr[] = [
    // pw = element n = a copy of element 0
    ...[op.get(work), op.get(n), op.i32(6), op.shl, op.add, op.set(pw)],
    ...[0, 16, 32, 48].flatMap((o) => [op.get(pw), op.get(work), op.v128Load(o), op.v128Store(o)]),
    ...[op.get(params), op.load32Splat(0), op.set(a1), op.get(params), op.load32Splat(4), op.set(al)],
    ...[op.get(blocks), op.set(bp), op.get(work), op.set(pz), op.get(kb), op.set(cnt)],
    ...countdown(cnt, [...loop, ...bump(bp, GL_BLOCK.bytes), ...bump(pz, 64), ...bump(pw, -64)]),
  ];
  return { name: 'update', params: 5, locals: L.types, body };
}
