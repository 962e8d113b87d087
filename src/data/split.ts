/**
 * The seeded train/valid/test split, shared by `data prepare` and `data corrupt` so that the
 * corrupted corpus keeps exactly the clean valid/test utterances of the source.
 *
 * Ids are ordered by sha256(`${seed}:${id}`); the first nTest are test, the next nValid valid,
 * the rest train. The order depends only on the seed and each id, not on the row order.
 * The split is computed over every parsed row (usable or not) and unusable ids are removed
 * afterwards, so skipping a broken row never moves another utterance between splits.
 *
 * Sizes: a number ≥ 1 is a count, a number in (0, 1) a fraction of the rows (rounded).
 * Defaults: valid max(4, 2 %) and test max(8, 4 %) — 4/8 for the 146-clip allison-mini,
 * 2 %/4 % for large corpora — each reduced to ⌊N/4⌋ for tiny corpora so train stays ≥ N/2.
 *
 * Multi-speaker corpora (`speakers` naming two or more speakers) are split per speaker: the valid
 * and test sizes are shared out in proportion to each speaker's rows (largest remainder, ties by
 * name), every speaker with ≥ minPerSpeaker rows gets at least one valid and one test utterance
 * (so those totals can exceed the requested sizes by up to the number of speakers), and each
 * speaker's share is taken from its own ids in the same sha256 order. One speaker (or none named)
 * is exactly the single ordering above, so single-speaker splits do not change.
 */
import { UserError } from '../errors.js';
import { sha256Hex } from './corpus.js';

export const DEFAULT_SPLIT_SEED = 1234;

export interface Splits {
  train: string[];
  valid: string[];
  test: string[];
}

export interface SplitOptions {
  seed?: number;
  valid?: number;
  test?: number;
  /** id → speaker (null = unnamed); ids missing here count as unnamed. Two or more speakers stratify. */
  speakers?: ReadonlyMap<string, string | null>;
  /** Speakers with at least this many rows appear in every split (default DEFAULT_MIN_PER_SPEAKER). */
  minPerSpeaker?: number;
}

/** A speaker with this many rows keeps ≥ 1 valid and ≥ 1 test utterance and still trains on the rest. */
export const DEFAULT_MIN_PER_SPEAKER = 10;

function sizeOf(spec: number | undefined, n: number, def: (n: number) => number, flag: string): number {
  if (spec === undefined) return Math.min(def(n), Math.floor(n / 4));
  if (!(Number.isFinite(spec) && spec >= 0)) throw new UserError(`${flag}: expected a count ≥ 1 or a fraction in [0, 1), got ${spec}`);
  if (spec < 1) return Math.round(spec * n);
  if (!Number.isInteger(spec)) throw new UserError(`${flag}: expected a whole count or a fraction below 1, got ${spec}`);
  return spec;
}

/** Splits `ids` (any order, unique) into sorted train/valid/test lists. */
export function computeSplit(ids: readonly string[], opts: SplitOptions = {}): Splits {
  const seed = opts.seed ?? DEFAULT_SPLIT_SEED;
  const n = ids.length;
  const nValid = sizeOf(opts.valid, n, (k) => Math.max(4, Math.round(0.02 * k)), '--valid');
  const nTest = sizeOf(opts.test, n, (k) => Math.max(8, Math.round(0.04 * k)), '--test');
  if (n > 0 && nValid + nTest >= n) {
    throw new UserError(`--valid ${nValid} + --test ${nTest} leave no training utterances out of ${n} (expected fewer)`);
  }
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const s = opts.speakers?.get(id) ?? '';
    groups.set(s, [...(groups.get(s) ?? []), id]);
  }
  const out: Splits = { train: [], valid: [], test: [] };
  if (groups.size <= 1) takeShares(ids, seed, nTest, nValid, out);
  else {
    const minPer = opts.minPerSpeaker ?? DEFAULT_MIN_PER_SPEAKER;
    const names = [...groups.keys()].sort(byId);
    const counts = names.map((s) => groups.get(s)!.length);
    const floorOne = (shares: number[]) => shares.map((q, i) => (counts[i]! >= minPer ? Math.max(1, q) : q));
    const tests = floorOne(apportion(nTest, counts));
    const valids = floorOne(apportion(nValid, counts));
    names.forEach((s, i) => {
      // A speaker always keeps one training utterance.
      const t = Math.min(tests[i]!, counts[i]! - 1);
      takeShares(groups.get(s)!, seed, Math.max(0, t), Math.max(0, Math.min(valids[i]!, counts[i]! - 1 - t)), out);
    });
  }
  return { test: out.test.sort(byId), valid: out.valid.sort(byId), train: out.train.sort(byId) };
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Orders `ids` by sha256(`${seed}:${id}`) and appends the first nTest to test, the next nValid to valid, the rest to train. */
function takeShares(ids: readonly string[], seed: number, nTest: number, nValid: number, out: Splits): void {
  const order = ids
    .map((id) => ({ id, key: sha256Hex(`${seed}:${id}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.id);
  out.test.push(...order.slice(0, nTest));
  out.valid.push(...order.slice(nTest, nTest + nValid));
  out.train.push(...order.slice(nTest + nValid));
}

/** Largest-remainder shares of `total` in proportion to `counts` (ties to the earlier index). */
export function apportion(total: number, counts: readonly number[]): number[] {
  const n = counts.reduce((a, b) => a + b, 0);
  if (n === 0) return counts.map(() => 0);
  const exact = counts.map((c) => (total * c) / n);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    shares[i]!++;
  }
  return shares;
}

/** Keeps only ids in `keep`, preserving order. */
export function restrictSplit(s: Splits, keep: ReadonlySet<string>): Splits {
  return { train: s.train.filter((i) => keep.has(i)), valid: s.valid.filter((i) => keep.has(i)), test: s.test.filter((i) => keep.has(i)) };
}
