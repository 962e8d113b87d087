/**
 * Training recipes: JSON data checked by ONE zod schema (the loss section is src/loss's schema),
 * merged over defaults; partial recipes (`--a.b value` overrides from the command line, an
 * experiment's overrides and losses) are merged in by `mergeRecipe`. The resolved recipe is what a
 * run directory stores and compares. A new recipe field is one edit: its line in RecipeSchema (or
 * in LossConfigSchema for a loss option).
 *
 * Every mistake is a one-line UserError naming the source (recipe file or `--flag`) and the field
 * path, e.g. `recipes/x.json: train.lr: expected a number > 0, got "fast"`.
 */
import { z } from 'zod';
import { UserError } from '../errors.js';
import { LossConfigSchema } from '../loss/config.js';
import { MODEL_CONFIGS, MODEL_PARTS } from '../model/configs.js';
import { describeValue, mergeJson, parseWith } from '../util/schema.js';
import { readJsonFile } from '../util/json-file.js';

/** Named model sizes (the model module owns their numbers); 'toy' is the debug model, see toy.ts. */
export const MODEL_NAMES = ['tiny', 'small', 'full'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** The 'toy' model is a linear regression used to test the training machinery from the CLI; it is
 * only accepted when DIFFTTS_DEBUG_TOY=1 so that users never meet it. */
export function toyEnabled(): boolean {
  return process.env.DIFFTTS_DEBUG_TOY === '1';
}

const num = (what: string) => z.number({ error: `expected ${what}` });
const intAtLeast = (min: number) => {
  const what = `an integer ≥ ${min}`;
  return num(what)
    .int({ error: `expected ${what}` })
    .min(min, { error: `expected ${what}` });
};
const positive = () => num('a number > 0').gt(0, { error: 'expected a number > 0' });
const bool = () => z.boolean({ error: 'expected true or false' });
const WORKERS = 'an integer ≥ 1 or "auto"';

const ModelSpecSchema = z.union(
  [
    z.string({ error: 'expected a model name or {"base": name, ...overrides}' }),
    z.looseObject({ base: z.string({ error: 'expected a model name' }) }),
  ],
  { error: 'expected a model name or {"base": name, ...overrides}' },
);

export const RecipeSchema = z.strictObject({
  /** 'tiny' | 'small' | 'full', or {"base": name, ...config overrides}. */
  model: ModelSpecSchema.default('tiny'),
  /** A src/loss config ({"type": "l2"} or pseudo-Huber variants), defaults filled. */
  loss: LossConfigSchema.prefault({ type: 'l2' }),
  data: z
    .strictObject({
      /** Prepared feature cache or LJSpeech-layout corpus; `--data` wins. */
      path: z.string({ error: 'expected a path string' }).optional(),
      textMode: z.enum(['phonemes', 'characters'], { error: 'expected "phonemes" or "characters"' }).default('phonemes'),
      addBlank: bool().default(true),
      skipBad: bool().default(false),
    })
    .prefault({}),
  train: z
    .strictObject({
      steps: intAtLeast(1).default(1000),
      batchSize: intAtLeast(1).default(16),
      /** Micro-batches per step (gradient accumulation): the batch is split, gradients averaged. */
      accumulate: intAtLeast(1).default(1),
      /**
       * Data-parallel workers (src/parallel: worker threads by default): an integer ≥ 1 or "auto" (= the cores, at most
       * the utterances per micro-batch). 1 trains in the main thread.
       */
      workers: z
        .union(
          [
            num(WORKERS)
              .int({ error: `expected ${WORKERS}` })
              .min(1, { error: `expected ${WORKERS}` }),
            z.literal('auto', { error: `expected ${WORKERS}` }),
          ],
          { error: `expected ${WORKERS}` },
        )
        .default('auto'),
      lr: positive().default(1e-4),
      /** Global-norm clip; 0 turns clipping off. */
      gradClip: num('a number ≥ 0').min(0, { error: 'expected a number ≥ 0' }).default(1),
      seed: intAtLeast(0).default(1234),
      checkpointEvery: intAtLeast(1).default(100),
      keepCheckpoints: intAtLeast(1).default(3),
      /** Sample spectrogram PNG every N steps; 0 = never. */
      pngEvery: intAtLeast(0).default(100),
      logEvery: intAtLeast(1).default(10),
      /** Non-finite loss or gradient norm this many steps in a row stops the run. */
      maxBadSteps: intAtLeast(1).default(5),
      /** Stop when the loss exceeds this × the running median of recent losses; absent = off. */
      divergeFactor: num('a number > 1').gt(1, { error: 'expected a number > 1' }).optional(),
      /** Linear learning-rate warmup over the first N steps (src/train/schedule.ts); 0 = none. */
      warmupSteps: intAtLeast(0).default(0),
      /** After warmup: "constant", or "cosine" down to minLrFactor·lr at train.steps. */
      lrDecay: z.enum(['constant', 'cosine'], { error: 'expected "constant" or "cosine"' }).default('constant'),
      minLrFactor: num('a number in [0, 1]')
        .min(0, { error: 'expected a number in [0, 1]' })
        .max(1, { error: 'expected a number in [0, 1]' })
        .default(0.1),
      /** Decay of an exponential moving average of the weights, used for sampling; 0 = off. */
      ema: num('a number in [0, 1)')
        .min(0, { error: 'expected a number in [0, 1)' })
        .lt(1, { error: 'expected a number in [0, 1)' })
        .default(0),
      /** Steps at the start that train only the encoder and duration predictor (no U-Net). */
      priorOnlySteps: intAtLeast(0).default(0),
      /**
       * With --init: load the tensors whose name and shape match and leave the others freshly
       * initialised (e.g. a wider decoder under a trained encoder), saying which in one line;
       * false: any difference is an error.
       */
      initPartial: bool().default(false),
      /**
       * With --init: load only these parts' weights (the others start freshly initialised), e.g.
       * ["encoder", "durationPredictor"] to train a new decoder under a trained encoder. Implies a
       * partial load of those parts. Default: every part.
       */
      initParts: z
        .array(z.enum(MODEL_PARTS, { error: `expected a list of ${MODEL_PARTS.map((p) => JSON.stringify(p)).join(', ')}` }), {
          error: `expected a list of ${MODEL_PARTS.map((p) => JSON.stringify(p)).join(', ')}`,
        })
        .optional(),
      /** Parts of the model that are not trained (no gradient, no Adam or moving-average update), e.g. ["encoder", "durationPredictor"]. */
      freeze: z
        .array(z.enum(MODEL_PARTS, { error: `expected a list of ${MODEL_PARTS.map((p) => JSON.stringify(p)).join(', ')}` }), {
          error: `expected a list of ${MODEL_PARTS.map((p) => JSON.stringify(p)).join(', ')}`,
        })
        .default([]),
    })
    .prefault({}),
  synth: z
    .strictObject({
      /** Reverse-diffusion steps; 0 = the encoder's prior μ alone. */
      steps: intAtLeast(0).default(10),
      temperature: positive().default(1.5),
      lengthScale: positive().default(1),
      /**
       * Shallow diffusion: the diffusion time the score sampler starts from, at μ + √λ(t₀)·z/τ
       * (1 = Grad-TTS's full reverse process). A decoder trained with loss.tMax < 1 is sampled
       * from t₀ ≤ tMax. Ignored by flow decoders and by steps 0.
       */
      startTime: num('a number in (0, 1]')
        .gt(0, { error: 'expected a number in (0, 1]' })
        .lte(1, { error: 'expected a number in (0, 1]' })
        .default(1),
    })
    .prefault({}),
});

export type Recipe = z.infer<typeof RecipeSchema>;

/**
 * Recipes written before the VP-SDE had one owner carry `loss.beta0`/`loss.beta1` (filled with
 * 0.05/20 by default). They are dropped when they equal the model's noise schedule (what the run
 * trained with: the model's SDE drove the diffusion), and refused with one line when they differ.
 * A toy model has no SDE: there they never did anything. Returns `raw` itself when nothing changes.
 */
export function migrateRecipe(raw: unknown, where: string): unknown {
  const loss = (raw as { loss?: unknown } | null)?.loss;
  if (!isObject(loss) || !('beta0' in loss || 'beta1' in loss)) return raw;
  const { beta0 = 0.05, beta1 = 20, ...rest } = loss;
  const model = (raw as { model?: unknown }).model ?? 'tiny';
  const base = isObject(model) ? model.base : model;
  const named = typeof base === 'string' && base in MODEL_CONFIGS ? MODEL_CONFIGS[base as keyof typeof MODEL_CONFIGS] : null;
  if (named) {
    const over = isObject(model) ? model : {};
    const sde = { beta0: over.beta0 ?? named.beta0, beta1: over.beta1 ?? named.beta1 };
    if (beta0 !== sde.beta0 || beta1 !== sde.beta1) {
      throw new UserError(
        `${where}: loss.beta0/beta1 (${describeValue(beta0)}, ${describeValue(beta1)}) differ from the model's noise schedule (${describeValue(sde.beta0)}, ${describeValue(sde.beta1)}): the VP-SDE is the model's now (model.beta0, model.beta1); remove them from the loss, or set them in the model to train with that SDE`,
      );
    }
  }
  return { ...(raw as object), loss: rest };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Validates a recipe object (migrated from earlier versions, defaults filled); `where` names its source in error messages. */
export function parseRecipe(obj: unknown, where: string): Recipe {
  const r = parseWith(RecipeSchema, migrateRecipe(obj, where), where);
  const model = r.model;
  const base = typeof model === 'string' ? model : model.base;
  const names: string[] = [...MODEL_NAMES, ...(toyEnabled() ? ['toy'] : [])];
  if (!names.includes(base)) {
    throw new UserError(
      `${where}: model${typeof model === 'string' ? '' : '.base'}: expected one of ${names.map((n) => JSON.stringify(n)).join(', ')}, got ${JSON.stringify(base)}`,
    );
  }
  return r;
}

/**
 * Merges a partial recipe `patch` over `base` (raw JSON: command-line overrides, an experiment's
 * overrides and losses), the one way recipes are combined: objects merge, other values replace. A
 * model patch that is an object adds config overrides to a model given by name ("tiny" → {"base":
 * "tiny", ...}); a model name replaces the model.
 */
export function mergeRecipe(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const model = base.model ?? 'tiny';
  const b = isObject(patch.model) && !isObject(model) ? { ...base, model: { base: model } } : base;
  return mergeJson(b, patch) as Record<string, unknown>;
}

/** Reads and validates a recipe file. */
export function loadRecipeFile(path: string): { raw: Record<string, unknown>; recipe: Recipe } {
  const raw = readJsonFile(path, 'a JSON recipe, e.g. recipes/tiny.json');
  return { raw, recipe: parseRecipe(raw, path) };
}

/** The name of the model config a recipe builds on. */
export function modelBase(recipe: Recipe): string {
  return typeof recipe.model === 'string' ? recipe.model : recipe.model.base;
}

/** The model config overrides of a recipe (everything in the model object except `base`). */
export function modelOverrides(recipe: Recipe): Record<string, unknown> {
  if (typeof recipe.model === 'string') return {};
  const { base: _base, ...rest } = recipe.model;
  return rest;
}

/**
 * A model config with a recipe's overrides merged in (mergeJson), allowing only keys that exist in
 * `base` with the same JSON type (number/string/boolean/object): model configs are plain objects,
 * not schemas. `where` prefixes error messages (e.g. "recipes/x.json: model").
 */
export function mergeChecked<T>(base: T, overrides: Record<string, unknown>, where: string): T {
  const walk = (dst: any, src: Record<string, unknown>, path: string) => {
    for (const [k, v] of Object.entries(src)) {
      const p = path ? `${path}.${k}` : k;
      if (dst === null || typeof dst !== 'object' || !(k in dst)) {
        throw new UserError(`${where}.${p}: unknown key (valid: ${Object.keys(dst ?? {}).join(', ')})`);
      }
      const cur = dst[k];
      const kind = (x: unknown) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x);
      if (kind(cur) === 'object' && kind(v) === 'object') walk(cur, v as Record<string, unknown>, p);
      else if (kind(cur) !== kind(v) && kind(cur) !== 'null') {
        throw new UserError(`${where}.${p}: expected ${kind(cur) === 'number' ? 'a number' : `a ${kind(cur)}`}, got ${describeValue(v)}`);
      }
    }
  };
  walk(base, overrides, '');
  return mergeJson(base, overrides) as T;
}
