/**
 * The GradTTS training task: the dataset's train split as items, full utterances per batch (the
 * model cuts its own random mel segments), and a sample image of a fixed validation sentence.
 */
import { join } from 'node:path';
import { openDataset, type Utterance } from '../data/index.js';
import { UserError } from '../errors.js';
import { GradTTS, MODEL_CONFIGS, validateModelConfig, type Batch, type LossNorm, type ModelConfig } from '../model/index.js';
import { priorDelta, type LossConfig } from '../loss/index.js';
import { symbolCount } from '../text/index.js';
import { writeSpectrogramPng } from '../plot/spectrogram.js';
import { Rng } from '../util/rng.js';
import { mergeChecked, modelBase, modelOverrides, type Recipe } from './recipe.js';
import type { Task, TaskInputs } from './task.js';
import type { Trainable } from '../trainable/trainable.js';
import type { Replica } from '../parallel/replica.js';

/** The model config a recipe asks for: a named size with the recipe's overrides merged in. */
export function recipeModelConfig(recipe: Recipe, where: string): ModelConfig {
  const base = modelBase(recipe) as keyof typeof MODEL_CONFIGS;
  // decoder.objective is optional (absent = "score"), so the named configs leave it out and
  // mergeChecked, which takes only their keys, does not see it; "score" is stored as absent.
  const over = modelOverrides(recipe);
  const dec = over.decoder;
  if (dec === null || typeof dec !== 'object' || Array.isArray(dec) || !('objective' in dec)) return mergeChecked(MODEL_CONFIGS[base], over, `${where}: model`);
  const { objective, ...rest } = dec as Record<string, unknown>;
  const cfg = mergeChecked(MODEL_CONFIGS[base], { ...over, decoder: rest }, `${where}: model`);
  if (objective !== 'score') cfg.decoder.objective = objective as ModelConfig['decoder']['objective'];
  validateModelConfig(cfg, `${where}: model`);
  return cfg;
}

/** The Trainable view of a GradTTS model (the training task's, and every worker replica's). */
export function gradTTSTrainable(model: GradTTS, loss: LossConfig, priorOnlySteps: number): Trainable<Batch> {
  return {
    variables: model.variables,
    losses: (b, draws, { step, norm }) => {
      const t = model.losses(b, loss, draws, true, { norm: norm as LossNorm | undefined, diffusion: step >= priorOnlySteps });
      return { total: t.total, duration: t.duration, prior: t.prior, diffusion: t.diffusion, deltaMean: t.deltaMean };
    },
    lossNorm: (b) => model.lossNorm(b),
    itemCount: (b) => b.ids.length,
    prepare: async (b, draws) => ({ ...b, paths: await model.alignments(b, draws, true) }),
  };
}

/**
 * What a training worker needs to build the same Trainable: the model config the main thread
 * resolved, the data's symbol count, and the run's recipe (loss, seed and training options: a new
 * recipe field reaches the workers without another argument).
 */
export interface ReplicaArgs {
  cfg: ModelConfig;
  nSymbols: number;
  recipe: Recipe;
}

/** A training worker's GradTTS (see src/parallel/replica.ts). */
export async function replica(args: unknown): Promise<Replica<Batch>> {
  const { cfg, nSymbols, recipe } = args as ReplicaArgs;
  const model = GradTTS.create(cfg, nSymbols, recipe.train.seed);
  return { trainable: gradTTSTrainable(model, recipe.loss, recipe.train.priorOnlySteps), dispose: () => model.dispose() };
}

export async function gradTTSTask(inp: TaskInputs): Promise<Task<Batch>> {
  if (!inp.dataPath) throw new UserError(`${inp.recipeWhere}: no training data (pass --data FEATURES_OR_CORPUS or set data.path)`);
  const cfg = recipeModelConfig(inp.recipe, inp.recipeWhere);
  const textConfig = { mode: inp.recipe.data.textMode, addBlank: inp.recipe.data.addBlank };
  const fs = await openDataset(inp.dataPath, {
    cacheDir: join(inp.runDir, 'features'),
    textConfig,
    skipBad: inp.skipBad,
    warn: (line) => inp.log(line),
    progress: process.stderr.isTTY === true,
  });
  if (fs.textConfig.mode !== textConfig.mode || fs.textConfig.addBlank !== textConfig.addBlank) {
    inp.log(`${fs.dir}: features use text ${JSON.stringify(fs.textConfig)}, not the recipe's ${JSON.stringify(textConfig)}; training with the features' (it is saved in the checkpoints)`);
  }
  const items: Utterance[] = fs.splits.train.map((id) => fs.utterances.get(id)).filter((u): u is Utterance => u !== undefined);
  if (items.length === 0) throw new UserError(`${inp.dataPath}: the train split is empty (expected at least one utterance)`);
  if (fs.melConfig.nMels !== cfg.nFeats) throw new UserError(`${inp.dataPath}: mels have ${fs.melConfig.nMels} bins, model '${cfg.name}' expects ${cfg.nFeats}`);
  const nSymbols = symbolCount(fs.textConfig);
  const model = GradTTS.create(cfg, nSymbols, inp.recipe.train.seed);
  inp.log(`model ${cfg.name}: ${(model.paramCount() / 1e6).toFixed(2)} M parameters; ${items.length} training utterances`);
  const freeze = inp.recipe.train.freeze;
  const frozen = model.variablesOf(freeze);
  if (freeze.length) {
    const n = frozen.reduce((s, name) => s + model.variables.get(name)!.size, 0);
    inp.log(`train.freeze ${freeze.join(', ')}: ${((model.paramCount() - n) / 1e6).toFixed(2)} M of ${(model.paramCount() / 1e6).toFixed(2)} M weights train`);
  }
  const loss = inp.recipe.loss;
  if (loss.scope === 'all') inp.log(`loss.scope all: the prior term uses ${loss.type} at δ ${priorDelta(loss, cfg)} (the schedule at t = 0) instead of the squared error`);
  const probe = fs.utterances.get(fs.splits.valid[0] ?? '') ?? items[0]!;
  const synth = inp.recipe.synth;

  return {
    trainable: gradTTSTrainable(model, loss, inp.recipe.train.priorOnlySteps),
    nItems: items.length,
    frozen,
    batch: (idx) => ({ ids: idx.map((i) => items[i]!.ids), mels: idx.map((i) => items[i]!.mel) }),
    meta: { model: { kind: 'gradtts', config: cfg }, nSymbols, textConfig: fs.textConfig, melConfig: fs.melConfig },
    replica: { module: import.meta.url, args: { cfg, nSymbols, recipe: inp.recipe } satisfies ReplicaArgs },
    sample: async (png, step) => {
      // A fixed noise seed, separate from the training RNG, so samples do not change the run.
      const mel = await model.synthesize(probe.ids, { steps: synth.steps, temperature: synth.temperature, lengthScale: synth.lengthScale, startTime: synth.startTime, stochastic: false, rng: new Rng(0) });
      writeSpectrogramPng(png, {
        title: `Step ${step}: ${probe.id} "${probe.text}"`,
        panels: [
          { mel: probe.mel, label: `target: recording ${probe.id}` },
          { mel, label: `generated: model at step ${step} (${synth.steps} ODE steps${synth.startTime < 1 ? ` from t₀ ${synth.startTime}` : ''})` },
        ],
        melConfig: fs.melConfig,
      });
    },
    dispose: () => model.dispose(),
  };
}
