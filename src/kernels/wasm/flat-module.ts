/**
 * Generates the WebAssembly SIMD loops of the worker pool's update over flat buffers (src/kernels/
 * flat.ts): Adam, the weights' moving average, and the float64 sum of the workers' gradients.
 * Every argument is an i32 byte address or count; scalar constants are read from memory at `k`.
 *
 * - `adam(w, g, m, v, n4, k)`  k → [s, β1, 1 − β1, β2, 1 − β2, 1 − β1ᵗ, 1 − β2ᵗ, ε, −lr] (float32):
 *       gᵢ·s → m = m·β1 + g·(1 − β1); v = v·β2 + g²·(1 − β2);
 *       w = ((m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε))·(−lr) + w          over n4 vectors of 4
 * - `ema(e, w, n4, k)`        k → [d, 1 − d]: e = e·d + w·(1 − d)
 * - `accAdd(acc, src, n2, init)`  acc (float64 pairs) = (init ? 0 : acc) + src (float32 pairs)
 * - `accRound(dst, acc, n2)`      dst (float32) = acc rounded once
 *
 * Each is tfjs's float32 op sequence (HostAdam's doc): one IEEE float32 operation per step, so the
 * lanes give the bits of the scalar code.
 */
import { countdown, encodeModule, Locals, op, type FunctionDef, type Instr } from './emit.js';

const bump = (ptr: number, bytes: number): Instr[] => [op.get(ptr), op.i32(bytes), op.add, op.set(ptr)];

function adam(): FunctionDef {
  const [w, g, m, v, n, k] = [0, 1, 2, 3, 4, 5];
  const L = new Locals(6);
  const c = Array.from({ length: 9 }, () => L.v128());
  const [s, b1, c1, b2, c2, bc1, bc2, eps, nlr] = c as [number, number, number, number, number, number, number, number, number];
  const gi = L.v128(),
    mi = L.v128(),
    vi = L.v128();
  const body: Instr[] = [];
  c.forEach((loc, i) => body.push(op.get(k), op.load32Splat(4 * i), op.set(loc)));
  body.push(
    ...countdown(n, [
      op.get(g),
      op.v128Load(),
      op.get(s),
      op.f32x4Mul,
      op.set(gi),
      op.get(m),
      op.v128Load(),
      op.get(b1),
      op.f32x4Mul,
      op.get(gi),
      op.get(c1),
      op.f32x4Mul,
      op.f32x4Add,
      op.set(mi),
      op.get(v),
      op.v128Load(),
      op.get(b2),
      op.f32x4Mul,
      op.get(gi),
      op.get(gi),
      op.f32x4Mul,
      op.get(c2),
      op.f32x4Mul,
      op.f32x4Add,
      op.set(vi),
      op.get(m),
      op.get(mi),
      op.v128Store(),
      op.get(v),
      op.get(vi),
      op.v128Store(),
      op.get(w),
      op.get(mi),
      op.get(bc1),
      op.f32x4Div,
      op.get(vi),
      op.get(bc2),
      op.f32x4Div,
      op.f32x4Sqrt,
      op.get(eps),
      op.f32x4Add,
      op.f32x4Div,
      op.get(nlr),
      op.f32x4Mul,
      op.get(w),
      op.v128Load(),
      op.f32x4Add,
      op.v128Store(),
      ...bump(w, 16),
      ...bump(g, 16),
      ...bump(m, 16),
      ...bump(v, 16),
    ]),
  );
  return { name: 'adam', params: 6, locals: L.types, body };
}

function ema(): FunctionDef {
  const [e, w, n, k] = [0, 1, 2, 3];
  const L = new Locals(4);
  const d = L.v128(),
    o = L.v128();
  const body: Instr[] = [op.get(k), op.load32Splat(0), op.set(d), op.get(k), op.load32Splat(4), op.set(o)];
  body.push(
    ...countdown(n, [
      op.get(e),
      op.get(e),
      op.v128Load(),
      op.get(d),
      op.f32x4Mul,
      op.get(w),
      op.v128Load(),
      op.get(o),
      op.f32x4Mul,
      op.f32x4Add,
      op.v128Store(),
      ...bump(e, 16),
      ...bump(w, 16),
    ]),
  );
  return { name: 'ema', params: 4, locals: L.types, body };
}

function accAdd(): FunctionDef {
  const [acc, src, n, init] = [0, 1, 2, 3];
  const body: Instr[] = [];
  const pair = [op.get(src), op.load64Splat(), op.f64x2PromoteLow];
  body.push(op.get(init), op.if);
  body.push(...countdown(n, [op.get(acc), ...pair, op.v128Store(), ...bump(acc, 16), ...bump(src, 8)]));
  body.push(op.else);
  body.push(
    ...countdown(n, [op.get(acc), op.get(acc), op.v128Load(), ...pair, op.f64x2Add, op.v128Store(), ...bump(acc, 16), ...bump(src, 8)]),
  );
  body.push(op.end);
  return { name: 'accAdd', params: 4, locals: [], body };
}

function accRound(): FunctionDef {
  const [dst, acc, n] = [0, 1, 2];
  const body: Instr[] = [];
  body.push(
    ...countdown(n, [op.get(dst), op.get(acc), op.v128Load(), op.f32x4DemoteZero, op.store64Lane0(), ...bump(dst, 8), ...bump(acc, 16)]),
  );
  return { name: 'accRound', params: 3, locals: [], body };
}

export function flatModuleBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule([adam(), ema(), accAdd(), accRound()]);
}
