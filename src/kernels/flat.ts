/**
 * Host-side float buffers with SIMD loops over them (wasm/flat-module.ts): the worker pool's
 * update (HostAdam, WeightEma.updateFlat) and its sum of the workers' gradients.
 *
 * Why: as JavaScript loops (Math.fround per operation) Adam over `tiny`'s 768 k weights took
 * 10 ms, the float64 sum of two gradients 3.1 ms — serial time in every pool step, while the
 * workers wait (docs/PERFORMANCE.md). As float32x4 / float64x2 lanes they take ~1 ms.
 *
 * An arena is one WebAssembly.Memory of fixed size (it never grows, so its views stay valid),
 * holding regions allocated once; every region starts 16-byte aligned and is padded with zeros
 * to whole vectors, which the loops may touch (Adam on a zero gradient leaves zero moments and
 * the padded weight unchanged).
 */
import { flatModuleBytes } from './wasm/flat-module.js';

type Fn = (...args: number[]) => void;
interface FlatKernels {
  adam: Fn;
  ema: Fn;
  accAdd: Fn;
  accRound: Fn;
}

let compiled: WebAssembly.Module | undefined;

/** Bytes per region: `floats` float32 (or float64 when `wide`) rounded up to 16 bytes. */
const regionBytes = (floats: number, wide: boolean) => Math.ceil((floats * (wide ? 8 : 4)) / 16) * 16;

export class FlatArena {
  private readonly k: FlatKernels;
  private readonly memory: WebAssembly.Memory;
  private next = 64; // bytes 0–63: the loops' constants
  private readonly consts: Float32Array;

  /** An arena for regions of `f32` float32 and `f64` float64 values in total (each region padded). */
  constructor(f32Regions: number[], f64Regions: number[] = []) {
    const bytes = 64 + f32Regions.reduce((s, n) => s + regionBytes(n, false), 0) + f64Regions.reduce((s, n) => s + regionBytes(n, true), 0);
    const pages = Math.max(1, Math.ceil(bytes / 65536));
    // wasm32: one memory holds at most 4 GiB (a model of ~250 M weights for HostAdam's four regions)
    if (pages > 65536)
      throw new Error(`FlatArena: ${bytes} bytes exceed one WebAssembly memory's 4 GiB (a model this large needs train.workers 1)`);
    this.memory = new WebAssembly.Memory({ initial: pages });
    compiled ??= new WebAssembly.Module(flatModuleBytes());
    this.k = new WebAssembly.Instance(compiled, { env: { memory: this.memory } }).exports as unknown as FlatKernels;
    this.consts = new Float32Array(this.memory.buffer, 0, 16);
  }

  /** A zeroed float32 region of `n` values (the view has exactly n; the padding is the arena's). */
  f32(n: number): Float32Array {
    const at = this.take(regionBytes(n, false));
    return new Float32Array(this.memory.buffer, at, n);
  }

  /** A zeroed float64 region of `n` values. */
  f64(n: number): Float64Array {
    const at = this.take(regionBytes(n, true));
    return new Float64Array(this.memory.buffer, at, n);
  }

  private take(bytes: number): number {
    const at = this.next;
    if (at + bytes > this.memory.buffer.byteLength)
      throw new Error(`FlatArena: ${bytes} bytes do not fit (allocate every region the constructor was sized for)`);
    this.next += bytes;
    return at;
  }

  private own(a: ArrayBufferView, what: string): number {
    if (a.buffer !== this.memory.buffer) throw new Error(`FlatArena: ${what} is not one of this arena's regions`);
    return a.byteOffset;
  }

  /**
   * One Adam update of `w` from `g` in place (all four this arena's regions of equal length):
   * tfjs's float32 op sequence (HostAdam's doc), with the gradient first multiplied by `scale`.
   */
  adam(
    w: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    c: {
      scale: number;
      beta1: number;
      oneMinusBeta1: number;
      beta2: number;
      oneMinusBeta2: number;
      bc1: number;
      bc2: number;
      eps: number;
      negLr: number;
    },
  ): void {
    if (g.length !== w.length || m.length !== w.length || v.length !== w.length)
      throw new Error('FlatArena.adam: regions of different lengths');
    this.consts.set([c.scale, c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.bc1, c.bc2, c.eps, c.negLr]);
    this.k.adam(this.own(w, 'w'), this.own(g, 'g'), this.own(m, 'm'), this.own(v, 'v'), Math.ceil(w.length / 4), 0);
  }

  /** e = e·d + w·(1 − d) in float32 (both this arena's regions of equal length). */
  ema(e: Float32Array, w: Float32Array, d: number, oneMinusD: number): void {
    if (e.length !== w.length) throw new Error('FlatArena.ema: regions of different lengths');
    this.consts.set([d, oneMinusD]);
    this.k.ema(this.own(e, 'e'), this.own(w, 'w'), Math.ceil(w.length / 4), 0);
  }

  /** acc = src (init) or acc + src, in float64; `src` a region of this arena as long as `acc`. */
  accumulate(acc: Float64Array, src: Float32Array, init: boolean): void {
    if (src.length !== acc.length) throw new Error('FlatArena.accumulate: regions of different lengths');
    this.k.accAdd(this.own(acc, 'acc'), this.own(src, 'src'), Math.ceil(acc.length / 2), init ? 1 : 0);
  }

  /** dst = acc rounded once to float32. */
  round(dst: Float32Array, acc: Float64Array): void {
    if (dst.length !== acc.length) throw new Error('FlatArena.round: regions of different lengths');
    this.k.accRound(this.own(dst, 'dst'), this.own(acc, 'acc'), Math.ceil(acc.length / 2));
  }
}
