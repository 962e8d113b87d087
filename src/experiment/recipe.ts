/**
 * The corruption-experiment recipe: which corpus to poison and how, which fractions, which losses
 * to compare, how many seeds, which training recipe and how long, and how to evaluate.
 * Defaults follow arXiv 2403.16728: fractions 0, 0.15, 0.30, 0.45; losses L2 and pseudo-Huber with
 * constant, exponential and SNR δ schedules.
 */
import { z } from 'zod';
import { dirname, resolve } from 'node:path';
import { parseWith } from '../util/schema.js';
import { readJsonFile } from '../util/json-file.js';
import type { LossConfig } from '../loss/index.js';
import { mergeRecipe, parseRecipe, type Recipe } from '../train/recipe.js';
import { SlurmOptionsSchema } from './executor/slurm.js';
import { METRICS } from '../eval/resilience.js';

const Corruption = z
  .object({
    mode: z.enum(['replace-voice', 'noise', 'clip', 'bandlimit', 'swap-text']),
    /** Mode options passed to `difftts data corrupt` as --key value (e.g. {"donor": "...", "snr": 5}). */
    options: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  })
  .strict();

const LossEntry = z
  .object({
    /** Short name used in paths and tables, e.g. "l2", "phuber-exp". */
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected letters, digits, ".", "_" or "-"'),
    /**
     * A src/loss configuration, e.g. {"type": "pseudo-huber", "schedule": "snr", "c": 0.1}, merged
     * into the training recipe's loss (checked there: see checkRunRecipes).
     */
    loss: z.record(z.string(), z.unknown()),
  })
  .strict();

export const ExperimentRecipeSchema = z
  .object({
    name: z.string().default('corruption'),
    /** Clean LJSpeech-layout corpus (relative paths resolve against the recipe file). */
    corpus: z.string(),
    corruption: Corruption,
    fractions: z.array(z.number().min(0).max(1)).min(1).default([0, 0.15, 0.3, 0.45]),
    losses: z
      .array(LossEntry)
      .min(1)
      .default([
        { name: 'l2', loss: { type: 'l2' } },
        { name: 'phuber-const', loss: { type: 'pseudo-huber', schedule: 'constant', c: 0.1 } },
        { name: 'phuber-exp', loss: { type: 'pseudo-huber', schedule: 'exponential', c: 0.1 } },
        { name: 'phuber-snr', loss: { type: 'pseudo-huber', schedule: 'snr', c: 0.1 } },
      ]),
    seeds: z.array(z.number().int().min(0)).min(1).default([0]),
    /**
     * Fine-tuning protocol: every run starts from this checkpoint (run or checkpoint directory; relative
     * paths resolve against the recipe file), passed to `difftts train --init` (weights only, fresh
     * optimizer). Absent: every run trains from scratch.
     */
    init: z.string().optional(),
    /** Base training recipe (path) and fields to override in it, e.g. {"train": {"steps": 600}}. */
    train: z
      .object({
        recipe: z.string(),
        overrides: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
    evaluate: z
      .object({
        split: z.enum(['test', 'valid']).default('test'),
        steps: z.number().int().min(1).default(10),
        /** Evaluate at most this many utterances of the split (0 = all). */
        maxUtterances: z.number().int().min(0).default(0),
        /** Synthesis seed (the same for every run, so runs differ only by their weights). */
        seed: z.number().int().min(0).default(1234),
        /**
         * Sentences without recordings (one per line, # comments; relative to the recipe file), scored
         * only by reference-free metrics: WER against the text and the speaker distance.
         */
        unseen: z.string().optional(),
        /** Utterances of the clean corpus's train split whose statistics define the target speaker (0 = no speaker distance). */
        speakerRefs: z.number().int().min(0).default(40),
        /** Word error rate with pocketsphinx (skipped with a note when it is not installed). */
        wer: z.boolean().default(true),
        /**
         * The speaker of a multi-speaker model that evaluations and samples speak as (`--speaker`); with
         * a corpus naming speakers, its utterances are the ones evaluated. Absent: single-speaker models.
         */
        speaker: z.string().min(1).optional(),
      })
      .strict()
      .default({ split: 'test', steps: 10, maxUtterances: 0, seed: 1234, speakerRefs: 40, wer: true }),
    /** How report.md and results.json summarise: the paired bootstrap, the metric the verdict is about, the equivalence margin. */
    analysis: z
      .object({
        primaryMetric: z.enum(Object.keys(METRICS) as [keyof typeof METRICS, ...(keyof typeof METRICS)[]]).default('mcd'),
        /** Bootstrap replicates and the seed of their draws (same seed → same intervals). */
        replicates: z.number().int().min(100).default(2000),
        seed: z.number().int().min(0).default(1),
        /**
         * Pre-registered equivalence margin for TOST (results.ts): {"relative": r} = r × |L2's resilience|
         * on the same metric and fraction (e.g. 0.1 = within 10 % of the damage L2 takes; every metric),
         * or {"absolute": a} in the primary metric's unit (primary metric only). Absent: no "equivalent" verdict.
         */
        equivalenceMargin: z
          .union([z.object({ relative: z.number().positive() }).strict(), z.object({ absolute: z.number().positive() }).strict()])
          .optional(),
      })
      .strict()
      .default({ primaryMetric: 'mcd', replicates: 2000, seed: 1 }),
    /** Sentence rendered by every run for the report's sample WAVs/PNGs. */
    sampleText: z.string().default('Please leave your message after the tone.'),
    /**
     * Training (and evaluation) processes run at once; absent = the cores ÷ the workers each
     * training run uses (its train.workers; "auto" uses every core, so then 1).
     */
    jobs: z.number().int().min(1).optional(),
    /** Where cells run: in local child processes, or as Slurm batch jobs (options in `slurm`). */
    executor: z.enum(['local', 'slurm']).default('local'),
    slurm: SlurmOptionsSchema.prefault({}),
  })
  .strict()
  .refine((r) => r.fractions.includes(0), { message: 'fractions must include 0 (the clean-data baseline)', path: ['fractions'] });

export type ExperimentRecipe = z.infer<typeof ExperimentRecipeSchema>;

/**
 * The training recipe of one run, as JSON: the base recipe with the experiment's overrides, the
 * run's loss and seed merged in (mergeRecipe).
 */
export function runRecipeJson(recipe: ExperimentRecipe, loss: ExperimentRecipe['losses'][number], seed: number): Record<string, unknown> {
  const base = readJsonFile(recipe.train.recipe, 'a JSON training recipe, e.g. recipes/tiny.json');
  return mergeRecipe(mergeRecipe(mergeRecipe(base, recipe.train.overrides), { loss: loss.loss }), { train: { seed } });
}

/**
 * The loss an arm trains with: its partial loss merged over the base training recipe's and the
 * experiment's overrides, checked and with defaults filled (e.g. `scope` inherited from the base
 * recipe). The seed does not enter the loss, so the first seed's recipe stands for all.
 */
export function runLossConfig(recipe: ExperimentRecipe, loss: ExperimentRecipe['losses'][number]): LossConfig {
  return parseRecipe(runRecipeJson(recipe, loss, recipe.seeds[0]!), `losses "${loss.name}" over ${recipe.train.recipe}`).loss;
}

/**
 * Validates every run's training recipe, so that a mistake (a typo in a loss, an unknown override)
 * stops the experiment with one line before any cell runs or anything is written; returns the
 * first loss's (checked) recipe. `where` names the experiment recipe.
 */
export function checkRunRecipes(recipe: ExperimentRecipe, where: string): Recipe {
  const base = readJsonFile(recipe.train.recipe, 'a JSON training recipe, e.g. recipes/tiny.json');
  parseRecipe(mergeRecipe(base, recipe.train.overrides), `${where}: train.overrides over ${recipe.train.recipe}`);
  const checked = recipe.losses.map((l, i) => {
    const at = `${where}: losses[${i}] ("${l.name}") over ${recipe.train.recipe}`;
    return recipe.seeds.map((seed) => parseRecipe(runRecipeJson(recipe, l, seed), at))[0]!;
  });
  return checked[0]!;
}

/**
 * Loads an experiment recipe; relative corpus/recipe/init/unseen/option paths are resolved against
 * the recipe's folder, and every run's training recipe is checked (checkRunRecipes).
 */
export function loadExperimentRecipe(path: string): ExperimentRecipe {
  const r = parseWith(ExperimentRecipeSchema, readJsonFile(path), path);
  const base = dirname(resolve(path));
  const abs = (p: string) => resolve(base, p);
  const options = { ...r.corruption.options };
  if (typeof options.donor === 'string') options.donor = abs(options.donor);
  const out = {
    ...r,
    corpus: abs(r.corpus),
    corruption: { ...r.corruption, options },
    ...(r.init !== undefined ? { init: abs(r.init) } : {}),
    train: { ...r.train, recipe: abs(r.train.recipe) },
    evaluate: { ...r.evaluate, ...(r.evaluate.unseen !== undefined ? { unseen: abs(r.evaluate.unseen) } : {}) },
  };
  checkRunRecipes(out, path);
  return out;
}
