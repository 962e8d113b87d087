/**
 * Seeded, serialisable pseudo-random numbers (xoshiro128**), so that data order, diffusion times
 * and noise are reproducible and a resumed run continues the exact same stream.
 * State is four uint32 words; `state()` / `Rng.fromState()` round-trip it through JSON.
 */
export class Rng {
  private s: Uint32Array;
  private spare: number | null = null;

  constructor(seed: number) {
    // splitmix32 expands the seed into a non-zero 128-bit state.
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.s = Uint32Array.from(state.s);
    r.spare = state.spare;
    return r;
  }

  state(): RngState {
    return { s: Array.from(this.s), spare: this.spare };
  }

  /** Next uint32. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u <= 1e-12) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fills a new Float32Array of length n with standard normals. */
  normals(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  }
}

export interface RngState {
  s: number[];
  spare: number | null;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * The random streams of one training step, one per batch item: item k (its position in the step's
 * whole batch) draws everything (dropout, segment offset, t, z, toy noise) from its own Rng,
 * seeded by (seed, k). Splitting a batch into micro-batches or worker shards therefore changes
 * no item's draws, so a sharded step computes the same function as the whole batch.
 */
/** murmur3's 32-bit finaliser: nearby inputs get unrelated outputs. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export class ItemDraws {
  constructor(
    /** uint32 drawn once per step from the run's model Rng. */
    readonly seed: number,
    /** Batch position of this (sub-)batch's first item. */
    readonly first = 0,
  ) {}

  /** The stream of item k of this (sub-)batch. */
  rng(k: number): Rng {
    // murmur3's finaliser over (seed, position): distinct positions get unrelated seeds.
    return new Rng(mix32((Math.imul(this.seed ^ 0x2545f491, 0x9e3779b1) + this.first + k) >>> 0));
  }

  /**
   * The stream the whole step shares, the same in every shard and micro-batch (e.g. one
   * diffusion time per batch: loss.tPer "batch").
   */
  shared(): Rng {
    return new Rng(mix32(Math.imul(this.seed ^ 0x68e31da4, 0x9e3779b1) >>> 0));
  }

  /** The draws of the sub-batch that starts at item k of this one. */
  from(k: number): ItemDraws {
    return new ItemDraws(this.seed, this.first + k);
  }
}
