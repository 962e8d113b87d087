/**
 * `--a.b value` recipe overrides from the command line (`--train.batchSize 4`, `--loss.type=pseudo-huber`),
 * turned into a partial recipe that `mergeRecipe` merges like any other. Values are typed by what their
 * field expects (the recipe schema); the schema then checks them, naming the flag in any error.
 */
import { UserError } from '../errors.js';
import { leafKind, type LeafKind } from '../util/schema.js';
import { RecipeSchema } from './recipe.js';

export interface Override {
  path: string[];
  flag: string;
  /** The text after the flag, before typing. */
  raw: string;
}

/**
 * Types a command-line value by what its field expects: strings and enums stay text (so
 * `--data.path 123` is a path), numbers and booleans are parsed; anything unparsable stays text
 * so the schema can say what was expected and what came. Other fields (model config overrides,
 * unions such as train.workers) take the text as JSON when it parses.
 */
export function typeValue(raw: string, kind: LeafKind): unknown {
  if (kind === 'string' || kind === 'enum') return raw;
  if (kind === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (kind === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Splits leftover argv words into overrides; anything that is not `--x.y[=v]` is a UserError. */
export function parseOverrideArgs(args: string[]): Override[] {
  const out: Override[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || !a.slice(2).includes('.')) {
      throw new UserError(`unexpected argument '${a}' (recipe overrides look like --train.lr 0.001 or --loss.type=pseudo-huber)`);
    }
    let key = a.slice(2);
    let raw: string | undefined;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      raw = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else {
      raw = args[i + 1];
      if (raw === undefined || (raw.startsWith('--') && raw.length > 2 && Number.isNaN(Number(raw)))) {
        throw new UserError(`--${key}: expected a value after the flag`);
      }
      i++;
    }
    const path = key.split('.');
    if (path.some((p) => p === '')) throw new UserError(`--${key}: expected a field path like --train.lr`);
    out.push({ path, flag: `--${key}`, raw });
  }
  return out;
}

/** The overrides as a partial recipe ({"train": {"lr": 0.001}}), for mergeRecipe. */
export function overridePatch(overrides: Override[]): Record<string, unknown> {
  const patch: Record<string, any> = {};
  for (const o of overrides) {
    let cur = patch;
    for (const k of o.path.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
      cur = cur[k];
    }
    cur[o.path[o.path.length - 1]!] = typeValue(o.raw, leafKind(RecipeSchema, o.path));
  }
  return patch;
}

/** How error messages name a recipe with overrides: `recipes/x.json with --train.lr --loss.c`. */
export function overriddenWhere(where: string, overrides: Override[]): string {
  return overrides.length === 0 ? where : `${where} with ${overrides.map((o) => o.flag).join(' ')}`;
}
