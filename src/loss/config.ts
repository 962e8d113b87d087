/**
 * The `loss` section of a recipe, checked by zod, e.g.
 * `{"type": "pseudo-huber", "schedule": "exponential", "c": 0.1}`.
 * Defaults: schedule "constant", c 1, scale 1, reversed false, deltaPer "sample", tPer "item",
 * scope "diffusion", tMax 1. Unknown keys are rejected so that a typo does not silently train with
 * defaults. The VP-SDE (β₀, β₁) that the snr schedule reads is not part of it: it belongs to the
 * model config, which the loss receives.
 *
 * This schema is the recipe's `loss` field (src/train/recipe.ts): a new loss option is one edit here.
 */
import { z } from 'zod';
import { parseWith } from '../util/schema.js';
import { LOSS_TYPES } from './elementwise.js';
import { SCHEDULES } from './schedule.js';

const choice = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `expected one of ${values.join(', ')}` });
const positive = z
  .number({ error: 'expected a number > 0' })
  .finite({ error: 'expected a number > 0' })
  .gt(0, { error: 'expected a number > 0' });

export const LossConfigSchema = z.strictObject(
  {
    type: choice(LOSS_TYPES),
    schedule: choice(SCHEDULES).default('constant'),
    /** Schedule constant: δ for `constant`, δ(1) for `exponential`, the floor for `snr`. > 0. */
    c: positive.default(1),
    /** Multiplies δ (kohya's huber_scale). > 0. */
    scale: positive.default(1),
    /** Read the schedule at 1 − t. */
    reversed: z.boolean({ error: 'expected true or false' }).default(false),
    /** 'sample': δ from each sample's t; 'batch': δ from the first sample's t for the whole batch (paper's code). */
    deltaPer: choice(['sample', 'batch'] as const).default('sample'),
    /** 'item': each batch item draws its own diffusion time t; 'batch': one t for the whole step (the paper's and diffusers' scripts). */
    tPer: choice(['item', 'batch'] as const).default('item'),
    /**
     * Which terms use `type`: 'diffusion' (the diffusion term alone; prior and duration stay L2), or
     * 'all': the prior term's squared error (y − μ)² becomes type's loss too, with δ = deltaAt(·, sde, 0),
     * the schedule at the data end (c for constant). The duration term stays L2.
     */
    scope: choice(['diffusion', 'all'] as const).default('diffusion'),
    /**
     * The diffusion times trained: t ~ U(ε, tMax). Below 1 the score decoder learns only the data
     * end of the reverse process — what shallow diffusion (synth.startTime ≤ tMax) runs — so every
     * step trains the times that sampling uses (DiffSinger's shallow mechanism). Score decoders only.
     */
    tMax: z
      .number({ error: 'expected a number in (0, 1]' })
      .gt(0, { error: 'expected a number in (0, 1]' })
      .lte(1, { error: 'expected a number in (0, 1]' })
      .default(1),
  },
  { error: 'expected an object like {"type": "pseudo-huber", "schedule": "exponential", "c": 0.1}' },
);

export type LossConfig = z.output<typeof LossConfigSchema>;

/**
 * Validates a loss section on its own (outside a recipe) and fills defaults.
 * @param where the source named in errors, e.g. the recipe path ("recipes/tiny.json")
 * @throws UserError with one line: `<where>: loss.<field>: <what was expected>`
 */
export function parseLossConfig(obj: unknown, where: string): LossConfig {
  return parseWith(LossConfigSchema, obj, where, ['loss']);
}
