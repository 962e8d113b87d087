/**
 * The residual diagnostic of the corruption experiment (issue 26): are the corrupted utterances
 * outliers for the loss terms that a robust loss could down-weight? For every training utterance
 * of a corrupted corpus, GradTTS.residuals gives the prior term's residual y − μ_aligned (ln-mel
 * units, on the MAS alignment) and the diffusion term's s_θ(x_t, μ, t)·√λ_t + z (units of z) at
 * fixed times t, with one fixed noise z per utterance (seeded by the utterance id, so every
 * checkpoint sees the same z). Each utterance's residual r over its cells reduces to
 *   rms  = √(mean r²)
 *   kept = Σ w(r)·r² / Σ r²,   w(r) = δ / √(r² + δ²)
 * pseudo-Huber's derivative is 2r·w(r) where L2's is 2r, so w is a cell's gradient weight relative
 * to L2 and `kept` the share of the utterance's L2 gradient that pseudo-Huber at δ keeps (cells
 * weighted by r², as they carry the L2 gradient). δ is the robust loss's schedule at t, and at
 * t = 0 for the prior term (loss.scope "all", src/loss/prior.ts).
 * Donor and target utterances are then compared per term: quartiles, AUC = P(rms of a donor
 * utterance > rms of a target one) (0.5 = indistinguishable, 1 = every donor above every target),
 * and the share of donor utterances above the targets' upper box-plot fence Q3 + 1.5·IQR.
 */
import { createHash } from 'node:crypto';
import type { GradTTS } from '../model/index.js';
import type { Utterance } from '../data/index.js';
import { deltaAt, priorDelta, type LossConfig, type VpSde } from '../loss/index.js';
import { Rng } from '../util/rng.js';
import { auc } from './speaker.js';

export interface TermResidual {
  rms: number;
  /** Share of the L2 gradient pseudo-Huber at `delta` keeps (1 = all of it). */
  kept: number;
  delta: number;
}

export interface ItemResiduals {
  id: string;
  donor: boolean;
  frames: number;
  prior: TermResidual;
  /** One per diffusion time, in the order of `ts`. */
  diffusion: (TermResidual & { t: number })[];
}

/** The fixed noise of an utterance: [nFeats·frames] standard normals from a stream seeded by (seed, id). */
export function residualNoise(seed: number, id: string, n: number): Float32Array {
  const h = createHash('sha256').update(`${seed}:${id}`).digest();
  return new Rng(h.readUInt32BE(0)).normals(n);
}

/** rms and kept (see the module comment) of the residual cells r at δ. */
export function reduceResidual(r: ArrayLike<number>, delta: number): TermResidual {
  let sq = 0;
  let weighted = 0;
  for (let i = 0; i < r.length; i++) {
    const v = r[i]! * r[i]!;
    sq += v;
    weighted += (delta / Math.sqrt(v + delta * delta)) * v;
  }
  return { rms: Math.sqrt(sq / Math.max(r.length, 1)), kept: sq > 0 ? weighted / sq : 1, delta };
}

export interface ResidualOptions {
  /** Diffusion times in (0, 1). */
  ts: number[];
  /** Seeds the per-utterance noise z. */
  seed: number;
  /** The pseudo-Huber configuration whose δ(t) gives `kept`. */
  robust: LossConfig;
  /** The model's VP-SDE (δ of snr schedules). */
  sde: VpSde;
  onItem?: (done: number, total: number) => void;
}

/** Per-utterance residual statistics of `model` on `items`; `donors` holds the ids of the corrupted ones. */
export async function itemResiduals(
  model: GradTTS,
  items: readonly Utterance[],
  donors: ReadonlySet<string>,
  o: ResidualOptions,
): Promise<ItemResiduals[]> {
  const out: ItemResiduals[] = [];
  const priorD = priorDelta(o.robust, o.sde);
  const deltas = o.ts.map((t) => deltaAt(o.robust, t, o.sde));
  for (const u of items) {
    const z = residualNoise(o.seed, u.id, u.mel.data.length);
    const r = await model.residuals(u.ids, u.mel, o.ts, z);
    out.push({
      id: u.id,
      donor: donors.has(u.id),
      frames: u.mel.frames,
      prior: reduceResidual(r.prior, priorD),
      diffusion: r.diffusion.map((d, k) => ({ t: o.ts[k]!, ...reduceResidual(d, deltas[k]!) })),
    });
    o.onItem?.(out.length, items.length);
  }
  return out;
}

/** Linear-interpolation quantile (type 7) of sorted values. */
function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 0) return NaN;
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo]! + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]!) - s[lo]!);
}

export interface GroupStats {
  n: number;
  q1: number;
  median: number;
  q3: number;
}

export function groupStats(xs: readonly number[]): GroupStats {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, q1: quantileSorted(s, 0.25), median: quantileSorted(s, 0.5), q3: quantileSorted(s, 0.75) };
}

export interface TermComparison {
  /** "prior" or "diffusion t=0.5". */
  term: string;
  t: number | null;
  delta: number;
  rms: {
    target: GroupStats;
    donor: GroupStats;
    /** donor median / target median. */
    ratio: number;
    /** P(donor rms > target rms), ties ½. */
    auc: number;
    /** Share of donor utterances above the targets' Q3 + 1.5·IQR. */
    beyondFence: number;
  };
  kept: { target: GroupStats; donor: GroupStats; ratio: number };
}

function compare(term: string, t: number | null, target: TermResidual[], donor: TermResidual[]): TermComparison {
  const tr = groupStats(target.map((x) => x.rms));
  const dr = groupStats(donor.map((x) => x.rms));
  const fence = tr.q3 + 1.5 * (tr.q3 - tr.q1);
  const tk = groupStats(target.map((x) => x.kept));
  const dk = groupStats(donor.map((x) => x.kept));
  return {
    term,
    t,
    delta: (target[0] ?? donor[0])?.delta ?? NaN,
    rms: {
      target: tr,
      donor: dr,
      ratio: dr.median / tr.median,
      auc: auc(
        target.map((x) => x.rms),
        donor.map((x) => x.rms),
      ),
      beyondFence: donor.length ? donor.filter((x) => x.rms > fence).length / donor.length : NaN,
    },
    kept: { target: tk, donor: dk, ratio: dk.median / tk.median },
  };
}

/** Donor vs target per term: the prior, then the diffusion term at each t. */
export function compareResiduals(items: readonly ItemResiduals[]): TermComparison[] {
  const target = items.filter((x) => !x.donor);
  const donor = items.filter((x) => x.donor);
  const ts = items[0]?.diffusion.map((d) => d.t) ?? [];
  return [
    compare(
      'prior',
      null,
      target.map((x) => x.prior),
      donor.map((x) => x.prior),
    ),
    ...ts.map((t, k) =>
      compare(
        `diffusion t=${t}`,
        t,
        target.map((x) => x.diffusion[k]!),
        donor.map((x) => x.diffusion[k]!),
      ),
    ),
  ];
}
