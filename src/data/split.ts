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
}

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
  const order = ids
    .map((id) => ({ id, key: sha256Hex(`${seed}:${id}`) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.id);
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return {
    test: order.slice(0, nTest).sort(byId),
    valid: order.slice(nTest, nTest + nValid).sort(byId),
    train: order.slice(nTest + nValid).sort(byId),
  };
}

/** Keeps only ids in `keep`, preserving order. */
export function restrictSplit(s: Splits, keep: ReadonlySet<string>): Splits {
  return { train: s.train.filter((i) => keep.has(i)), valid: s.valid.filter((i) => keep.has(i)), test: s.test.filter((i) => keep.has(i)) };
}
