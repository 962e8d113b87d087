/**
 * The `loss` section of a recipe, checked by zod, e.g.
 * `{"type": "pseudo-huber", "schedule": "exponential", "c": 0.1}`.
 * Defaults: schedule "constant", c 1, scale 1, reversed false, deltaPer "sample", β₀ 0.05, β₁ 20
 * (Grad-TTS's VP-SDE), tPer "item", scope "diffusion". Unknown keys are rejected so that a typo does not silently train with defaults.
 */
import { z } from 'zod';
import { UserError } from '../errors.js';
import { LOSS_TYPES, type LossType } from './elementwise.js';
import { SCHEDULES, type ScheduleName } from './schedule.js';

export interface LossConfig {
  type: LossType;
  schedule: ScheduleName;
  /** Schedule constant: δ for `constant`, δ(1) for `exponential`, the floor for `snr`. > 0. */
  c: number;
  /** Multiplies δ (kohya's huber_scale). > 0. */
  scale: number;
  /** Read the schedule at 1 − t. */
  reversed: boolean;
  /** 'sample': δ from each sample's t; 'batch': δ from the first sample's t for the whole batch (paper's code). */
  deltaPer: 'sample' | 'batch';
  beta0: number;
  beta1: number;
  /** 'item': each batch item draws its own diffusion time t; 'batch': one t for the whole step (the paper's and diffusers' scripts). */
  tPer: 'item' | 'batch';
  /**
   * Which terms use `type`: 'diffusion' (the diffusion term alone; prior and duration stay L2), or
   * 'all': the prior term's squared error (y − μ)² becomes type's loss too, with δ = deltaAt(·, 0),
   * the schedule at the data end (c for constant). The duration term stays L2.
   */
  scope: 'diffusion' | 'all';
}

const choice = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `expected one of ${values.join(', ')}, got ${JSON.stringify(iss.input)}` });
const positive = z.number({ error: (iss) => `expected a number, got ${JSON.stringify(iss.input)}` }).finite().gt(0, { error: (iss) => `expected a number > 0, got ${JSON.stringify(iss.input)}` });

export const LossConfigSchema = z
  .strictObject({
    type: choice(LOSS_TYPES),
    schedule: choice(SCHEDULES).default('constant'),
    c: positive.default(1),
    scale: positive.default(1),
    reversed: z.boolean({ error: (iss) => `expected true or false, got ${JSON.stringify(iss.input)}` }).default(false),
    deltaPer: choice(['sample', 'batch'] as const).default('sample'),
    beta0: positive.default(0.05),
    beta1: positive.default(20),
    tPer: choice(['item', 'batch'] as const).default('item'),
    scope: choice(['diffusion', 'all'] as const).default('diffusion'),
  })
  .refine((o) => o.beta1 >= o.beta0, { message: 'expected beta1 ≥ beta0', path: ['beta1'] });

// The schema's output must be exactly the documented interface.
type _Check = z.output<typeof LossConfigSchema> extends LossConfig ? (LossConfig extends z.output<typeof LossConfigSchema> ? true : never) : never;
const _check: _Check = true;
void _check;

/**
 * Validates a loss section and fills defaults.
 * @param where the source named in errors, e.g. the recipe path ("recipes/tiny.json")
 * @throws UserError with one line: `<where>: loss.<field>: <what was expected>`
 */
export function parseLossConfig(obj: unknown, where: string): LossConfig {
  const r = LossConfigSchema.safeParse(obj);
  if (r.success) return r.data;
  const iss = r.error.issues[0]!;
  const field = ['loss', ...iss.path.map(String)].join('.');
  let msg = iss.message;
  if (iss.code === 'unrecognized_keys') {
    msg = `unknown key(s) ${iss.keys.map((k) => `'${k}'`).join(', ')} (expected ${Object.keys(LossConfigSchema.shape).join(', ')})`;
  } else if (iss.code === 'invalid_type' && iss.path.length === 0) {
    msg = `expected an object like {"type": "pseudo-huber", "schedule": "exponential", "c": 0.1}`;
  } else if (iss.code === 'invalid_type' && iss.path[0] === 'type' && (obj as Record<string, unknown>)?.type === undefined) {
    msg = `missing (expected one of ${LOSS_TYPES.join(', ')})`;
  }
  throw new UserError(`${where}: ${field}: ${msg}`);
}
