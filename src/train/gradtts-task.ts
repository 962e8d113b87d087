/**
 * The GradTTS training task: the dataset's train split as items, full utterances per batch (the
 * model cuts its own random mel segments), and a sample image of a fixed validation sentence.
 */
import { join } from 'node:path';
import { openDataset, type Utterance } from '../data/index.js';
import { UserError } from '../errors.js';
import {
  DEFAULT_SPEAKER_EMB_DIM,
  GradTTS,
  MODEL_CONFIGS,
  validateModelConfig,
  type Batch,
  type LossNorm,
  type ModelConfig,
} from '../model/index.js';
import { priorDelta, type LossConfig } from '../loss/index.js';
import { symbolCount } from '../text/index.js';
import { writeSpectrogramPng } from '../plot/spectrogram.js';
import { Rng } from '../util/rng.js';
import { describeValue } from '../util/schema.js';
import { planSpeakers } from './speakers.js';
import { mergeChecked, modelBase, modelOverrides, type Recipe } from './recipe.js';
import type { Task, TaskInputs } from './task.js';
import type { Trainable } from '../trainable/trainable.js';
import type { Replica } from '../parallel/replica.js';

/**
 * The model config a recipe asks for: a named size with the recipe's overrides merged in. Its
 * nSpeakers, when the recipe sets one, is checked against the data by the task (planSpeakers).
 */
export function recipeModelConfig(recipe: Recipe, where: string): ModelConfig {
  const base = modelBase(recipe) as keyof typeof MODEL_CONFIGS;
  // decoder.objective, nSpeakers and speakerEmbDim are optional (absent = "score", 1, 64), so the
  // named configs leave them out and mergeChecked, which takes only their keys, does not see them;
  // the defaults are stored as absent.
  const { nSpeakers, speakerEmbDim, ...over } = modelOverrides(recipe);
  for (const [k, v] of Object.entries({ nSpeakers, speakerEmbDim })) {
    if (v !== undefined && typeof v !== 'number') throw new UserError(`${where}: model.${k}: expected a number, got ${describeValue(v)}`);
  }
  const dec = over.decoder;
  let cfg: ModelConfig;
  if (dec === null || typeof dec !== 'object' || Array.isArray(dec) || !('objective' in dec))
    cfg = mergeChecked(MODEL_CONFIGS[base], over, `${where}: model`);
  else {
    const { objective, ...rest } = dec as Record<string, unknown>;
    cfg = mergeChecked(MODEL_CONFIGS[base], { ...over, decoder: rest }, `${where}: model`);
    if (objective !== 'score') cfg.decoder.objective = objective as ModelConfig['decoder']['objective'];
  }
  if (nSpeakers !== undefined) cfg.nSpeakers = nSpeakers as number;
  if (speakerEmbDim !== undefined) cfg.speakerEmbDim = speakerEmbDim as number;
  validateModelConfig(cfg, `${where}: model`);
  return cfg;
}

/** `cfg` with `n` speaker rows: nSpeakers and speakerEmbDim stored when n > 1, both absent for one speaker (configs stored before speakers compare equal). */
export function withSpeakerCount(cfg: ModelConfig, n: number): ModelConfig {
  const { nSpeakers: _n, speakerEmbDim, ...rest } = cfg;
  return n > 1 ? { ...rest, nSpeakers: n, speakerEmbDim: speakerEmbDim ?? DEFAULT_SPEAKER_EMB_DIM } : rest;
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
  const asked = recipeModelConfig(inp.recipe, inp.recipeWhere);
  const textConfig = { mode: inp.recipe.data.textMode, addBlank: inp.recipe.data.addBlank };
  const fs = await openDataset(inp.dataPath, {
    cacheDir: join(inp.runDir, 'features'),
    textConfig,
    skipBad: inp.skipBad,
    warn: (line) => inp.log(line),
    progress: process.stderr.isTTY === true,
  });
  if (fs.textConfig.mode !== textConfig.mode || fs.textConfig.addBlank !== textConfig.addBlank) {
    inp.log(
      `${fs.dir}: features use text ${JSON.stringify(fs.textConfig)}, not the recipe's ${JSON.stringify(textConfig)}; training with the features' (it is saved in the checkpoints)`,
    );
  }
  const items: Utterance[] = fs.splits.train.map((id) => fs.utterances.get(id)).filter((u): u is Utterance => u !== undefined);
  if (items.length === 0) throw new UserError(`${inp.dataPath}: the train split is empty (expected at least one utterance)`);
  if (fs.melConfig.nMels !== asked.nFeats)
    throw new UserError(`${inp.dataPath}: mels have ${fs.melConfig.nMels} bins, model '${asked.name}' expects ${asked.nFeats}`);
  const plan = planSpeakers(fs.speakers, inp.base ?? null, asked.nSpeakers, inp.recipeWhere, inp.dataPath);
  const cfg = withSpeakerCount(asked, plan.nSpeakers);
  validateModelConfig(cfg, `${inp.recipeWhere}: model`);
  // the embedding row of each training utterance (multi-speaker models only)
  const rows = plan.nSpeakers > 1 ? items.map((u) => plan.speakers.indexOf(u.speaker ?? '')) : null;
  const nSymbols = symbolCount(fs.textConfig);
  const model = GradTTS.create(cfg, nSymbols, inp.recipe.train.seed);
  inp.log(`model ${cfg.name}: ${(model.paramCount() / 1e6).toFixed(2)} M parameters; ${items.length} training utterances`);
  if (rows) {
    const per = plan.speakers.map((_, r) => rows.filter((x) => x === r).length);
    inp.log(`${plan.nSpeakers} speakers (training utterances): ${plan.speakers.map((s, r) => `${s} ${per[r]}`).join(', ')}`);
  }
  const freeze = inp.recipe.train.freeze;
  const frozen = model.variablesOf(freeze);
  if (freeze.length) {
    const n = frozen.reduce((s, name) => s + model.variables.get(name)!.size, 0);
    inp.log(
      `train.freeze ${freeze.join(', ')}: ${((model.paramCount() - n) / 1e6).toFixed(2)} M of ${(model.paramCount() / 1e6).toFixed(2)} M weights train`,
    );
  }
  const loss = inp.recipe.loss;
  if (loss.scope === 'all')
    inp.log(
      `loss.scope all: the prior term uses ${loss.type} at δ ${priorDelta(loss, cfg)} (the schedule at t = 0) instead of the squared error`,
    );
  const probe = fs.utterances.get(fs.splits.valid[0] ?? '') ?? items[0]!;
  const synth = inp.recipe.synth;

  return {
    trainable: gradTTSTrainable(model, loss, inp.recipe.train.priorOnlySteps),
    nItems: items.length,
    frozen,
    batch: (idx) => ({
      ids: idx.map((i) => items[i]!.ids),
      mels: idx.map((i) => items[i]!.mel),
      ...(rows ? { speakers: idx.map((i) => rows[i]!) } : {}),
    }),
    meta: {
      model: { kind: 'gradtts', config: cfg },
      nSymbols,
      textConfig: fs.textConfig,
      melConfig: fs.melConfig,
      speakers: plan.speakers,
    },
    replica: { module: import.meta.url, args: { cfg, nSymbols, recipe: inp.recipe } satisfies ReplicaArgs },
    sample: async (png, step) => {
      // A fixed noise seed, separate from the training RNG, so samples do not change the run; synth.steps 0: the encoder's μ.
      const speaker = rows ? plan.speakers.indexOf(probe.speaker ?? '') : undefined;
      const mel =
        synth.steps === 0
          ? await model.prior(probe.ids, synth.lengthScale, speaker)
          : await model.synthesize(probe.ids, {
              steps: synth.steps,
              temperature: synth.temperature,
              lengthScale: synth.lengthScale,
              startTime: synth.startTime,
              stochastic: false,
              rng: new Rng(0),
              speaker,
            });
      writeSpectrogramPng(png, {
        title: `Step ${step}: ${probe.id} "${probe.text}"${rows ? ` (${probe.speaker})` : ''}`,
        panels: [
          { mel: probe.mel, label: `target: recording ${probe.id}` },
          {
            mel,
            label: `generated: model at step ${step} (${synth.steps === 0 ? "the encoder's prior μ" : `${synth.steps} ODE steps${synth.startTime < 1 ? ` from t₀ ${synth.startTime}` : ''}`})`,
          },
        ],
        melConfig: fs.melConfig,
      });
    },
    dispose: () => model.dispose(),
  };
}
