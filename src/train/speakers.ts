/**
 * Which speaker each embedding row of a GradTTS run stands for. The names are stored in every
 * checkpoint and exported voice (state.json `speakers`: one name per row of `speaker.emb`, or, for a
 * single-speaker model, the corpus's one name or [] — an unnamed speaker, as in checkpoints from
 * before speakers). A run's list comes from its data and from the checkpoint it continues:
 *
 *   fresh run           the data's names (sorted); two or more → nSpeakers = their count
 *   --init multi        the checkpoint's rows keep their names and order; a name the data adds gets a
 *                       new row (appended, sorted), initialised as the mean of the trained rows
 *   --resume            the checkpoint's rows; the data may not add a name (that is an --init)
 *
 * A recipe that sets model.nSpeakers must agree with the count this gives (one line otherwise).
 */
import type { LoadedCheckpoint, LoadedTensor } from './checkpoint.js';
import { UserError } from '../errors.js';
import { SPEAKER_TABLE, type ModelConfig } from '../model/index.js';

/** The speakers of a checkpoint a run continues: its rows' names and its model's row count. */
export interface BaseSpeakers {
  /** 'resume' (the run's own checkpoint) or 'init' (--init). */
  how: 'resume' | 'init';
  /** The checkpoint directory (for messages). */
  dir: string;
  speakers: string[];
  nSpeakers: number;
}

export interface SpeakerPlan {
  /** One name per embedding row (nSpeakers > 1), or the single speaker's name, or [] (unnamed). */
  speakers: string[];
  nSpeakers: number;
  /** Names that get a new row on top of the base checkpoint's (--init only). */
  added: string[];
}

const list = (names: string[]) => (names.length > 8 ? `${names.slice(0, 8).join(', ')}, …` : names.join(', '));

/** A checkpoint's speakers (old checkpoints: one unnamed speaker) as a base for a run. */
export function baseSpeakers(ckpt: LoadedCheckpoint, how: BaseSpeakers['how']): BaseSpeakers | null {
  if (ckpt.meta.model?.kind !== 'gradtts') return null;
  return { how, dir: ckpt.dir, speakers: ckpt.meta.speakers ?? [], nSpeakers: (ckpt.meta.model.config as ModelConfig).nSpeakers ?? 1 };
}

/**
 * The run's speakers from the data's names (sorted, [] = unnamed), the checkpoint it continues (or
 * null) and the recipe's model.nSpeakers (undefined = follow the data). `where` names the recipe,
 * `dataWhere` the data, in one-line errors.
 */
export function planSpeakers(
  data: string[],
  base: BaseSpeakers | null,
  recipeN: number | undefined,
  where: string,
  dataWhere: string,
): SpeakerPlan {
  let plan: SpeakerPlan;
  if (base && base.nSpeakers > 1) {
    const have = new Set(base.speakers);
    const added = data.filter((s) => !have.has(s));
    if (data.length === 0) {
      throw new UserError(
        `${dataWhere}: names no speaker, but ${base.dir} has ${base.nSpeakers} (${list(base.speakers)}): name the speaker in the corpus (metadata.csv's 4th column; a new name adds a row)`,
      );
    }
    if (added.length && base.how === 'resume') {
      throw new UserError(
        `${dataWhere}: names speakers the run's checkpoint ${base.dir} has no row for (${list(added)}): to add them start a new run from it with --init`,
      );
    }
    plan = { speakers: [...base.speakers, ...added], nSpeakers: base.nSpeakers + added.length, added };
  } else {
    plan = { speakers: [...data], nSpeakers: data.length >= 2 ? data.length : 1, added: [] };
  }
  if (recipeN !== undefined && recipeN !== plan.nSpeakers) {
    const why =
      base && base.nSpeakers > 1
        ? `${base.dir}'s ${base.nSpeakers} speakers${plan.added.length ? ` + ${plan.added.length} new in ${dataWhere}` : ''}`
        : `${dataWhere} names ${data.length === 0 ? 'no speaker' : `${data.length} (${list(data)})`}`;
    throw new UserError(
      `${where}: model.nSpeakers is ${recipeN}, but the run has ${plan.nSpeakers} (${why}); remove model.nSpeakers (it follows the data) or set it to ${plan.nSpeakers}`,
    );
  }
  return plan;
}

/** `rows` [n, e] with `k` rows appended, each the mean of the n rows. */
function withMeanRows(t: LoadedTensor, k: number): LoadedTensor {
  const [n, e] = t.shape as [number, number];
  const data = new Float32Array((n + k) * e);
  data.set(t.data);
  for (let j = 0; j < e; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += t.data[i * e + j]!;
    for (let i = n; i < n + k; i++) data[i * e + j] = s / n;
  }
  return { shape: [n + k, e], data };
}

/**
 * A multi-speaker --init checkpoint as the run's model sees it: `speakers` (the run's rows) are its
 * rows' names followed by the names the data adds; its speaker table (and moving average) gets one
 * row per added name, each the mean of the trained rows (a speaker "between" the known ones to start
 * from), and no optimizer state. Returns `ckpt` itself when nothing is added (or it has no table);
 * `log` gets one line naming the rows added.
 */
export function withAddedSpeakers(ckpt: LoadedCheckpoint, speakers: string[], log: (msg: string) => void): LoadedCheckpoint {
  const base = baseSpeakers(ckpt, 'init');
  if (!base || base.nSpeakers < 2 || speakers.length <= base.speakers.length) return ckpt;
  const have = base.speakers.length;
  const table = ckpt.weights.get(SPEAKER_TABLE);
  if (!table || table.shape[0] !== have || base.speakers.some((s, i) => speakers[i] !== s)) {
    throw new UserError(
      `${ckpt.dir}: its speaker table [${table?.shape ?? ''}] and names (${list(base.speakers)}) do not start the run's speakers (${list(speakers)}) (the checkpoint is damaged)`,
    );
  }
  const added = speakers.slice(have);
  const grow = (w: Map<string, LoadedTensor>) =>
    new Map([...w].map(([name, t]) => [name, name === SPEAKER_TABLE ? withMeanRows(t, added.length) : t]));
  log(
    `--init from ${ckpt.dir}: speaker rows added for ${added.map((name, i) => `'${name}' (row ${have + i})`).join(', ')}, each the mean of the ${have} trained rows`,
  );
  return { ...ckpt, weights: grow(ckpt.weights), ema: ckpt.ema ? grow(ckpt.ema) : null, optimizer: null };
}
