/**
 * `--a.b value` recipe overrides from the command line (`--train.batchSize 4`, `--loss.type=pseudo-huber`).
 * Values are read as JSON when they parse (numbers, booleans) and as strings otherwise; the schema
 * then checks their types, naming the flag in any error.
 */
import { UserError } from '../errors.js';
import { recipeKeysAt } from './recipe.js';

export interface Override {
  path: string[];
  value: unknown;
  flag: string;
  /** The text after the flag, before typing. */
  raw: string;
}

/** What a field expects: its zod type name, or for model fields the JSON type of the base value. */
export type LeafKind = 'string' | 'enum' | 'number' | 'boolean' | 'object' | 'unknown';

function unwrap(s: any): any {
  while (s?._zod?.def?.innerType) s = s._zod.def.innerType;
  return s;
}

/** The kind of a zod object schema's field (defaults/optionals unwrapped). */
export function zodLeafKind(objectSchema: unknown, key: string): LeafKind {
  const field = unwrap(unwrap(objectSchema)?.shape?.[key]);
  const t = field?._zod?.def?.type;
  return t === 'string' || t === 'enum' || t === 'number' || t === 'boolean' || t === 'object' ? t : 'unknown';
}

/**
 * Types a command-line value by what its field expects: strings and enums stay text (so
 * `--data.path 123` is a path), numbers and booleans are parsed; anything unparsable stays text
 * so the schema can say what was expected and what came.
 */
export function typeValue(raw: string, kind: LeafKind): unknown {
  if (kind === 'string' || kind === 'enum') return raw;
  if (kind === 'number') return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  if (kind === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return typedValue(raw);
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
    out.push({ path: key.split('.'), value: typedValue(raw), flag: `--${key}`, raw });
  }
  return out;
}

function typedValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Applies overrides to a raw recipe object (returns a copy). `lossKeys` are the valid loss fields
 * (from the loss module); model overrides turn a model name into {"base": name, ...}.
 */
export function applyOverrides(
  raw: Record<string, unknown>,
  overrides: Override[],
  lossKeys: string[],
  kindOf: (path: string[]) => LeafKind = () => 'unknown',
): Record<string, unknown> {
  const out: Record<string, any> = structuredClone(raw);
  const sections = recipeKeysAt([]) ?? [];
  for (const o of overrides) {
    const [section, ...rest] = o.path;
    if (!section || !sections.includes(section)) {
      throw new UserError(`${o.flag}: unknown recipe section '${section}' (valid: ${sections.join(', ')})`);
    }
    if (rest.length === 0) throw new UserError(`${o.flag}: expected a field inside '${section}' (e.g. --${section}.${(recipeKeysAt([section]) ?? lossKeys)[0] ?? 'x'})`);
    if (section === 'loss') {
      if (rest.length !== 1 || !lossKeys.includes(rest[0]!)) {
        throw new UserError(`${o.flag}: unknown loss field (valid: ${lossKeys.join(', ')})`);
      }
    } else if (section !== 'model') {
      const valid = recipeKeysAt([section]) ?? [];
      if (rest.length !== 1 || !valid.includes(rest[0]!)) {
        throw new UserError(`${o.flag}: unknown ${section} field (valid: ${valid.join(', ')})`);
      }
    }
    if (section === 'model') {
      if (typeof out.model === 'string' || out.model === undefined) out.model = { base: out.model ?? 'tiny' };
    }
    if (out[section] === undefined || out[section] === null || typeof out[section] !== 'object') out[section] = {};
    let cur = out[section];
    for (let i = 0; i < rest.length - 1; i++) {
      if (cur[rest[i]!] === undefined) cur[rest[i]!] = {};
      cur = cur[rest[i]!];
    }
    const kind = kindOf(o.path);
    cur[rest[rest.length - 1]!] = kind === 'unknown' ? o.value : typeValue(o.raw, kind);
  }
  return out;
}
