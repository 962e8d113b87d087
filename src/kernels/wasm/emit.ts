/**
 * A tiny WebAssembly binary writer: just enough to generate difftts's GEMM module (src/kernels/
 * gemm-module.ts) at run time, so no C toolchain, no committed binary and no assembler dependency.
 *
 * A module has one imported memory (`env.memory`: tfjs-backend-wasm's own heap, so the kernels
 * read and write tensors in place) and functions whose parameters are all i32 (byte addresses,
 * byte strides, counts). Instructions are byte arrays built with `op`; a function body is their
 * concatenation. Opcodes: WebAssembly core spec + the SIMD and relaxed-SIMD proposals.
 */

export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};

export const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

const utf8 = new TextEncoder();
/** A wasm name: its UTF-8 byte length, then the bytes (TextEncoder works in Node and in the page alike). */
const name = (s: string): number[] => {
  const bytes = utf8.encode(s);
  return [...uleb(bytes.length), ...bytes];
};
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

const I32 = 0x7f;
const V128 = 0x7b;
const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm];
/** memarg: alignment exponent, byte offset. */
const mem = (align: number, offset: number): number[] => [align, ...uleb(offset)];

/** Instructions (each a byte array). Local indices count the parameters first. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  ltU: [0x49],
  gtU: [0x4b],
  geU: [0x4f],
  and: [0x71],
  shl: [0x74],
  shrU: [0x76],
  select: [0x1b],
  /** Blocks and loops take no values and leave none. */
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  f32Load: (offset = 0) => [0x2a, ...mem(2, offset)],
  i32Load: (offset = 0) => [0x28, ...mem(2, offset)],
  f32Store: (offset = 0) => [0x38, ...mem(2, offset)],
  f32Const0: [0x43, 0, 0, 0, 0],
  v128Load: (offset = 0) => simd(0x00, ...mem(4, offset)),
  v128Store: (offset = 0) => simd(0x0b, ...mem(4, offset)),
  /** Loads one f32 and broadcasts it to the four lanes. */
  load32Splat: (offset = 0) => simd(0x09, ...mem(2, offset)),
  v128Zero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f32x4ExtractLane: (lane: number) => simd(0x1f, lane),
  f32x4ReplaceLane: (lane: number) => simd(0x20, lane),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Neg: simd(0xe1),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Sqrt: simd(0xe3),
  /** Loads two f32 (8 bytes) into both 64-bit halves. */
  load64Splat: (offset = 0) => simd(0x0a, ...mem(3, offset)),
  /** Stores the low 64 bits (two f32 lanes). */
  store64Lane0: (offset = 0) => simd(0x5b, ...mem(3, offset), 0),
  /** f64x2 from the two low f32 lanes; f32x4 (two low lanes, rest 0) from an f64x2. */
  f64x2PromoteLow: simd(0x5f),
  f32x4DemoteZero: simd(0x5e),
  f64x2Add: simd(0xf0),
  /** Lane-wise a > b: all ones where true (stack: a, b). */
  f32x4Gt: simd(0x44),
  /** (a & mask) | (b & ~mask) (stack: a, b, mask). */
  v128Bitselect: simd(0x52),
  /**
   * Picks f32 lanes of a (0–3) and b (4–7) by index (stack: a, b); x86 compiles the unpack and
   * move-half patterns to one instruction each.
   */
  f32x4Shuffle: (l0: number, l1: number, l2: number, l3: number) =>
    simd(0x0d, ...[l0, l1, l2, l3].flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])),
  f32x4Min: simd(0xe8),
  f32x4Max: simd(0xe9),
  /** Pseudo-min/max: b < a ? b : a / a < b ? b : a (one x86 instruction; min/max need NaN fix-ups). */
  f32x4Pmin: simd(0xea),
  f32x4Pmax: simd(0xeb),
  f32x4Nearest: simd(0x6a),
  /** Four f32 lanes from numbers. */
  f32x4Const: (a: number, b = a, c = a, d = a) => {
    const bytes = new Uint8Array(new Float32Array([a, b, c, d]).buffer);
    return simd(0x0c, ...bytes);
  },
  /** Four i32 lanes, all `n`. */
  i32x4Const: (n: number) => simd(0x0c, ...new Uint8Array(new Int32Array([n, n, n, n]).buffer)),
  i32x4TruncSatF32x4S: simd(0xf8),
  i32x4Add: simd(0xae),
  i32x4Shl: simd(0xab),
  /** relaxed SIMD: a·b + c, fused or not as the hardware prefers (stack: a, b, c). */
  f32x4RelaxedMadd: simd(0x105),
};

export type Instr = number[];
export type LocalType = 'i32' | 'v128';

export interface FunctionDef {
  name: string;
  /** Parameter count; every parameter is an i32. */
  params: number;
  /** Extra locals in declaration order (indices continue after the parameters). */
  locals: LocalType[];
  body: Instr[];
}

/** `inner` once per j = count … 1 (local `count` counts down and ends at 0; nothing when it starts at 0). */
export function countdown(count: number, inner: Instr[]): Instr[] {
  return [
    op.block,
    op.get(count),
    op.eqz,
    op.brIf(0),
    op.loop,
    ...inner,
    op.get(count),
    op.i32(1),
    op.sub,
    op.tee(count),
    op.brIf(0),
    op.end,
    op.end,
  ];
}

/** Encodes a module importing `env.memory` and exporting `functions` (all `(i32 …) → ()`). */
export function encodeModule(functions: FunctionDef[]): Uint8Array<ArrayBuffer> {
  const types = section(1, vector(functions.map((f) => [0x60, ...vector(new Array(f.params).fill([I32])), 0])));
  // memory import with limits {min 0, no max}: matches any non-shared heap, whatever its size
  const imports = section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]));
  const funcs = section(3, vector(functions.map((_, i) => uleb(i))));
  const exports = section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const bodies = functions.map((f) => {
    const runs: number[][] = [];
    for (const t of f.locals) {
      const last = runs[runs.length - 1];
      const code = t === 'i32' ? I32 : V128;
      if (last && last[1] === code) last[0]!++;
      else runs.push([1, code]);
    }
    const body = [...vector(runs.map(([n, t]) => [...uleb(n!), t!])), ...f.body.flat(), 0x0b];
    return [...uleb(body.length), ...body];
  });
  const code = section(10, vector(bodies));
  const bytes = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code];
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

/** Allocates named locals after the parameters, so generated code can refer to them by name. */
export class Locals {
  readonly types: LocalType[] = [];
  constructor(private readonly params: number) {}
  i32(): number {
    this.types.push('i32');
    return this.params + this.types.length - 1;
  }
  v128(): number {
    this.types.push('v128');
    return this.params + this.types.length - 1;
  }
}

/**
 * A getter of the module `bytes()` encodes, compiled on first use and kept; null where the runtime
 * has no WebAssembly SIMD (compiling fails), so callers keep their JavaScript fallback.
 */
export function simdModuleOrNull(bytes: () => Uint8Array<ArrayBuffer>): () => WebAssembly.Module | null {
  let compiled: WebAssembly.Module | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        compiled = new WebAssembly.Module(bytes());
      } catch {
        compiled = null; // no WebAssembly SIMD in this runtime
      }
    }
    return compiled;
  };
}
