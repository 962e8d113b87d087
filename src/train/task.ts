/**
 * A training task: a Trainable plus its items and what a checkpoint must record about it.
 * `buildTask` picks the toy task or the GradTTS task by the recipe's model name.
 */
import { UserError } from '../errors.js';
import type { Replica, ReplicaSpec } from '../parallel/replica.js';
import type { Recipe } from './recipe.js';
import { modelBase } from './recipe.js';
import type { TrainingItems } from '../trainable/trainable.js';
import type { BaseSpeakers } from './speakers.js';
import { TOY_CONFIG, ToyModel, toyBatch, toyData, type ToyConfig } from './toy.js';
import { mergeChecked, modelOverrides } from './recipe.js';

export interface TaskMeta {
  model: { kind: string; config: unknown };
  nSymbols: number | null;
  textConfig: unknown;
  melConfig: unknown;
  /** GradTTS: the name of each speaker embedding row, or the single speaker's name, or [] (src/train/speakers.ts). */
  speakers?: string[];
}

export interface Task<B> extends TrainingItems<B> {
  /** Number of training items; batches are lists of indices below it. */
  nItems: number;
  meta: TaskMeta;
  /** How a training worker builds the same Trainable (src/parallel). */
  replica: ReplicaSpec;
  /** Writes the sample spectrogram PNG for `step` (fixed validation sentence), if the task has one. */
  sample?(pngPath: string, step: number): Promise<void>;
  dispose(): void;
}

export interface TaskInputs {
  recipe: Recipe;
  recipeWhere: string;
  dataPath: string | undefined;
  runDir: string;
  skipBad: boolean;
  log: (msg: string) => void;
  /** The speakers of the checkpoint the run resumes or starts from (--init), null for none. */
  base?: BaseSpeakers | null;
}

export async function buildTask(inp: TaskInputs): Promise<Task<unknown>> {
  if (modelBase(inp.recipe) === 'toy') return toyTask(inp) as Task<unknown>;
  const { gradTTSTask } = await import('./gradtts-task.js');
  return (await gradTTSTask(inp)) as Task<unknown>;
}

function toyTask(inp: TaskInputs): Task<ReturnType<typeof toyBatch>> {
  if (inp.recipe.train.freeze.length) throw new UserError(`${inp.recipeWhere}: train.freeze: the toy model has no parts to freeze`);
  const cfg = mergeChecked<ToyConfig>(TOY_CONFIG, modelOverrides(inp.recipe), `${inp.recipeWhere}: model`);
  const model = ToyModel.create(cfg, inp.recipe.train.seed);
  const data = toyData(cfg, inp.recipe.train.seed);
  return {
    trainable: model,
    nItems: cfg.items,
    batch: (idx) => (idx.includes(cfg.failItem) ? { ...toyBatch(data, idx), fail: true } : toyBatch(data, idx)),
    meta: { model: { kind: 'toy', config: cfg }, nSymbols: null, textConfig: null, melConfig: null },
    replica: { module: import.meta.url, args: { cfg, seed: inp.recipe.train.seed } },
    dispose: () => model.dispose(),
  };
}

/** A training worker's toy model (see src/parallel/replica.ts). */
export async function replica(args: unknown): Promise<Replica<unknown>> {
  const { cfg, seed } = args as { cfg: ToyConfig; seed: number };
  const model = ToyModel.create(cfg, seed);
  return { trainable: model as ToyModel, dispose: () => model.dispose() } as Replica<unknown>;
}
