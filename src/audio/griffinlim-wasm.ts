/**
 * Fast Griffin-Lim's iterations (griffinlim.ts) with everything per sample and per bin in
 * WebAssembly SIMD float32 (src/kernels/wasm/gl-module.ts): JavaScript only loops over groups of 16
 * frames and calls the kernels, so one iteration is pack → fft8 → overlap-add per group, a scaling
 * pass, then window → fft8 → update per group (issue #24: the JavaScript loops around the batched
 * FFTs were ~80 % of Griffin-Lim).
 *
 * One engine per FFT size n keeps one WebAssembly memory for all calls, grown when a longer input
 * needs it (never shrunk), so repeated calls allocate nothing there. Its layout, in bytes
 * (G = ⌈frames/16⌉ groups, kb = bins in use, X = the signal's f32 capacity, all offsets 16-aligned):
 *
 *   [work 64(n+1)][twiddles 8n][bit reversal 4n][analysis window 4n][synthesis window/n 4n]
 *   [params 16][dump 4n][zeros 4n] — fixed per n — then [blocks 320·G·kb][x 4X][1/wss 4X] — per call.
 *
 * X = (frames − 1)·hop + n rounded up to 4 (the vector loops' unit). The frame slots of the last
 * group past the signal read `zeros` and overlap-add into `dump` (gl-module.ts).
 */
import { simdModuleOrNull } from '../kernels/wasm/emit.js';
import { glModuleBytes, GL_BLOCK } from '../kernels/wasm/gl-module.js';
import { writeFftTables } from './fft-batch.js';

type Exports = {
  fft8(work: number, tw: number, n: number): void;
  pack(blocks: number, work: number, rev: number, n: number, kb: number): void;
  overlapAdd(work: number, xb: number, hop4: number, nf: number, win: number, dump: number, n: number): void;
  scale(x: number, inv: number, count: number): void;
  windowFrames(work: number, xb: number, hop4: number, nf: number, win: number, zeros: number, rev: number, n: number): void;
  update(blocks: number, work: number, n: number, kb: number, params: number): void;
};

/** One Griffin-Lim problem in the padded STFT domain (frame-major inputs, as griffinlim.ts keeps them). */
export interface GlProblem {
  frames: number;
  bins: number;
  /** Bins ≥ kMax are 0 in every frame (≥ 1 here). */
  kMax: number;
  hop: number;
  /** Target magnitude and the starting coefficients, bin k of frame t at t·bins + k. */
  S: Float32Array;
  cRe: Float32Array;
  cIm: Float32Array;
  /** Analysis window (n) and 1 / window-sum-square ((frames − 1)·hop + n). */
  window: Float64Array;
  invWss: Float64Array;
  momentum: number;
  iters: number;
  onIter?: (i: number, total: number) => void;
}

const glModule = simdModuleOrNull(glModuleBytes);
const engines = new Map<number, GlEngine | null>();

/** The engine for FFT size n (a power of two ≥ 4), or null without WebAssembly SIMD. */
export function glEngine(n: number): GlEngine | null {
  const compiled = glModule();
  if (!compiled) return null;
  if (!engines.has(n)) engines.set(n, new GlEngine(compiled, n));
  return engines.get(n)!;
}

export class GlEngine {
  private readonly memory: WebAssembly.Memory;
  private readonly ex: Exports;
  private readonly at: {
    work: number;
    tw: number;
    rev: number;
    win: number;
    winN: number;
    params: number;
    dump: number;
    zeros: number;
    end: number;
  };

  constructor(
    mod: WebAssembly.Module,
    readonly n: number,
  ) {
    let p = 0;
    const take = (bytes: number) => {
      p += bytes;
      return p - bytes;
    };
    this.at = {
      work: take(64 * (n + 1)),
      tw: take(8 * n),
      rev: take(4 * n),
      win: take(4 * n),
      winN: take(4 * n),
      params: take(16),
      dump: take(4 * n),
      zeros: take(4 * n),
      end: 0,
    };
    this.at.end = p;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(p / 65536) });
    this.ex = new WebAssembly.Instance(mod, { env: { memory: this.memory } }).exports as unknown as Exports;
    writeFftTables(this.memory.buffer, this.at.tw, this.at.rev, n);
  }

  /** Bytes of memory the engine holds now (grows only for longer inputs than before). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Runs `iters` fast Griffin-Lim iterations and the final inverse STFT; returns the padded signal
   * ((frames − 1)·hop + n samples), a view into the engine's memory valid until its next call.
   */
  run(pr: GlProblem): Float32Array {
    const { n, ex, at } = this;
    const { frames, bins, hop } = pr;
    const kb = pr.kMax;
    const groups = Math.ceil(frames / 16);
    const padLen = (frames - 1) * hop + n;
    const cap = Math.ceil(padLen / 4) * 4;
    const blocksAt = at.end;
    const xAt = blocksAt + GL_BLOCK.bytes * groups * kb;
    const invAt = xAt + 4 * cap;
    const end = invAt + 4 * cap;
    if (end > this.memory.buffer.byteLength) this.memory.grow(Math.ceil((end - this.memory.buffer.byteLength) / 65536));
    const buf = this.memory.buffer;

    const blocks = new Float32Array(buf, blocksAt, (GL_BLOCK.bytes / 4) * groups * kb).fill(0);
    const [sAt, reAt, imAt] = [GL_BLOCK.s / 4, GL_BLOCK.cRe / 4, GL_BLOCK.cIm / 4];
    const half = n / 2;
    for (let t = 0; t < frames; t++) {
      const lane = (t & 1) * 8 + ((t & 15) >> 1);
      const o = (t >> 4) * kb * (GL_BLOCK.bytes / 4) + lane;
      for (let k = 0; k < kb; k++) {
        const b = o + k * (GL_BLOCK.bytes / 4);
        const i = t * bins + k;
        blocks[b + sAt] = pr.S[i]!;
        blocks[b + reAt] = pr.cRe[i]!;
        // irfft ignores these; pack relies on them being 0 (update keeps them so)
        blocks[b + imAt] = k === 0 || k === half ? 0 : pr.cIm[i]!;
      }
    }
    const x = new Float32Array(buf, xAt, cap).fill(0);
    const inv = new Float32Array(buf, invAt, cap).fill(1);
    inv.set(pr.invWss);
    const win = new Float32Array(buf, at.win, n);
    const winN = new Float32Array(buf, at.winN, n);
    for (let i = 0; i < n; i++) {
      win[i] = pr.window[i]!;
      // the 1/N of the inverse FFT, which pack computes as a forward one
      winN[i] = pr.window[i]! / n;
    }
    new Float32Array(buf, at.params, 2).set([1 + pr.momentum, pr.momentum]);

    const hop4 = 4 * hop;
    const groupBytes = GL_BLOCK.bytes * kb;
    const synthesize = () => {
      x.fill(0, 0, padLen);
      for (let g = 0; g < groups; g++) {
        ex.pack(blocksAt + g * groupBytes, at.work, at.rev, n, kb);
        ex.fft8(at.work, at.tw, n);
        ex.overlapAdd(at.work, xAt + 16 * g * hop4, hop4, Math.min(16, frames - 16 * g), at.winN, at.dump, n);
      }
      ex.scale(xAt, invAt, Math.ceil(padLen / 4));
    };
    for (let it = 0; it < pr.iters; it++) {
      synthesize();
      for (let g = 0; g < groups; g++) {
        ex.windowFrames(at.work, xAt + 16 * g * hop4, hop4, Math.min(16, frames - 16 * g), at.win, at.zeros, at.rev, n);
        ex.fft8(at.work, at.tw, n);
        ex.update(blocksAt + g * groupBytes, at.work, n, kb, at.params);
      }
      pr.onIter?.(it + 1, pr.iters);
    }
    synthesize();
    return x.subarray(0, padLen);
  }
}
