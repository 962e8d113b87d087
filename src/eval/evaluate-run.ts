/**
 * `difftts evaluate`: synthesizes every sentence of a reference corpus's split with a checkpoint and
 * scores each generated utterance against the recording of the same sentence.
 *
 * Generated audio = reverse diffusion (the run's model) → Griffin-Lim; its log-mel is recomputed
 * from that audio, so generated and reference mels come from the same front end. References are the
 * real recordings (resampled to the model's rate when needed). Griffin-Lim itself costs a few dB of
 * MCD (see evaluatePair); it is the same for every run, so it cancels in resilience differences.
 */
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import cliProgress from 'cli-progress';
import { logMel, type MelConfig } from '../audio/mel.js';
import { readWav, writeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { openDataset } from '../data/index.js';
import { UserError } from '../errors.js';
import { loadModel, type LoadedModel } from '../synthesis/model.js';
import { speakerRow, speakText, vocode } from '../synthesis/speak.js';
import { capabilities } from '../backend/index.js';
import { mapInWorkers } from '../parallel/map-pool.js';
import { resolveJobWorkers, type WorkersSetting } from '../parallel/workers.js';
import { writeFileAtomic } from '../util/atomic.js';
import { aggregate, evaluatePair, utteranceMcep, type PairMetrics } from './evaluate.js';
import { mcepAlpha, melCepstrum } from './mcep.js';
import { speakerDistance, speakerStats, speakerStatsFromJson, speakerStatsToJson, type SpeakerStats } from './speaker.js';
import { METRICS, type Spread } from './resilience.js';
import { readSentences } from './sentences.js';
import { scoreWav } from './intelligibility.js';
import {
  naturalnessRef,
  scoreSet,
  scoreUtterance,
  utteranceNaturalness,
  wavNaturalness,
  writeGvPng,
  type NaturalnessRef,
  type SetNaturalness,
  type UtteranceNaturalness,
} from './naturalness.js';

export interface EvaluateRunOptions {
  /** Run directory or checkpoint directory. */
  checkpoint: string;
  /** Clean LJSpeech-layout corpus: texts, recordings and the split. */
  refs: string;
  /** Its feature cache (default: prepared into OUT/ref-features). */
  features?: string;
  split: 'test' | 'valid' | 'train';
  /** Reverse-diffusion steps, 0 = the encoder's prior alone (default: the checkpoint's synth.steps). */
  steps?: number;
  seed: number;
  /** Evaluate at most this many utterances of the split (0 = all). */
  max: number;
  out: string;
  /** Griffin-Lim iterations. */
  iters: number;
  /** Also score intelligibility with pocketsphinx when installed. */
  wer: boolean;
  /** Sentences without recordings (file, one per line, # comments): WER and speaker distance only. */
  unseen?: string;
  /**
   * Train-split utterances of --refs that define the target speaker's statistics (0 = no speaker
   * distance and no naturalness measures; default 40): for the speaker distance through Griffin-Lim
   * (`speakerVocoded`), for the naturalness measures as recorded.
   */
  speakerRefs?: number;
  /** Pass those references through log-mel → Griffin-Lim first, as the generated speech is (default true). */
  speakerVocoded?: boolean;
  progress: boolean;
  /** Worker threads scoring utterances in parallel, each with its own model copy (default 1). */
  workers?: WorkersSetting;
  /**
   * The voice's speaker to synthesize with (required by a multi-speaker voice). When --refs names two
   * or more speakers, only this speaker's utterances are evaluated and define the reference statistics.
   */
  speaker?: string;
  /** With a multi-speaker --refs: whose recordings to compare with instead of `speaker`'s (a confusion matrix's off-diagonal cells). */
  refSpeaker?: string;
}

/** A sentence with no recording: only reference-free metrics. */
export interface UnseenRow {
  id: string;
  text: string;
  speakerDist: number | null;
  /** Naturalness against the target's recordings (naturalness.ts); null without them. */
  gvDb: number | null;
  melDist: number | null;
  mcepFd: number | null;
  wer: number | null;
  hypothesis: string | null;
}

export interface UtteranceRow extends PairMetrics {
  id: string;
  text: string;
  wer: number | null;
  hypothesis: string | null;
}

export interface EvalResult {
  checkpoint: string;
  step: number;
  refs: string;
  split: string;
  steps: number;
  seed: number;
  /** The voice's speaker synthesized (null: a single-speaker voice). */
  speaker: string | null;
  /** Whose recordings of a multi-speaker --refs were compared with (null: all of --refs). */
  refSpeaker: string | null;
  n: number;
  /** Mean of each oriented metric over utterances (null when no utterance had a value). */
  aggregate: Record<string, number | null>;
  spread: Record<string, Spread>;
  notes: string[];
  utterances: UtteranceRow[];
  /** Mean speaker distance and WER over the unseen sentences (null when none or not computed). */
  unseenAggregate: { speakerDist: number | null; wer: number | null; gvDb: number | null; melDist: number | null; mcepFd: number | null };
  unseen: UnseenRow[];
  /**
   * The generated sets against the target's recordings (naturalness.ts): the split's utterances, the
   * unseen sentences, and both together; null without reference recordings (speakerRefs 0).
   */
  naturalness: { split: SetNaturalness | null; unseen: SetNaturalness | null; all: SetNaturalness | null } | null;
}

/**
 * The target speaker's statistics: the first `n` utterances of the references' train split, each
 * resynthesised through the same log-mel → Griffin-Lim path as the generated speech (`vocoded`), so
 * that the vocoder's own shift of the statistics (large for buzzy synthetic voices, see
 * scripts/speaker-validation.mjs) cancels; cached in the feature directory.
 */
function referenceSpeaker(
  refs: string,
  featuresDir: string,
  trainIds: string[],
  n: number,
  melConfig: MelConfig,
  iters: number,
  vocoded: boolean,
  tag = '',
): SpeakerStats {
  const rate = melConfig.sampleRate;
  const ids = trainIds.slice(0, n);
  if (ids.length === 0) throw new UserError(`${refs}: the train split is empty (no recordings for the speaker statistics)`);
  const cache = join(featuresDir, `speaker-${rate}-a${mcepAlpha(rate)}-n${ids.length}${vocoded ? `-gl${iters}` : ''}${tag}.json`);
  if (existsSync(cache)) return speakerStatsFromJson(JSON.parse(readFileSync(cache, 'utf8')));
  const cepstra = ids.map((id, i) => {
    const wav = refRecording(refs, id, 'train', rate);
    return melCepstrum(vocoded ? vocode(logMel(wav, melConfig), melConfig, iters, i) : wav, { alpha: mcepAlpha(rate) });
  });
  const stats = speakerStats(cepstra);
  writeFileAtomic(cache, JSON.stringify({ ...speakerStatsToJson(stats), ids, vocoded }) + '\n');
  return stats;
}

/**
 * The target's naturalness statistics: the first `n` utterances of the references' train split as
 * recorded (not vocoded: the measures ask how far generated speech is from the recordings, the
 * vocoder's share included; docs/METRICS.md gives Griffin-Lim's own), cached in the feature directory.
 */
export function referenceNaturalness(
  refs: string,
  featuresDir: string,
  trainIds: string[],
  n: number,
  melConfig: MelConfig,
  tag = '',
): NaturalnessRef {
  const rate = melConfig.sampleRate;
  const ids = trainIds.slice(0, n);
  const cache = join(featuresDir, `naturalness-${rate}-m${melConfig.nMels}-a${mcepAlpha(rate)}-n${ids.length}${tag}.json`);
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as NaturalnessRef;
  const stats = ids
    .map((id) => wavNaturalness(refRecording(refs, id, 'train', rate), melConfig))
    .filter((u): u is UtteranceNaturalness => u !== null);
  if (stats.length === 0)
    throw new UserError(`${refs}: no speech in the first ${ids.length} train-split recordings (needed for the naturalness measures)`);
  const ref = naturalnessRef(stats);
  writeFileAtomic(cache, JSON.stringify({ ...ref, ids }) + '\n');
  return ref;
}

/** A reference recording at the model's rate. */
function refRecording(refs: string, id: string, split: string, rate: number): Float32Array {
  const refPath = join(refs, 'wavs', `${id}.wav`);
  if (!existsSync(refPath)) throw new UserError(`${refPath}: reference recording missing for ${split} utterance '${id}'`);
  const ref = readWav(refPath);
  return ref.sampleRate === rate ? ref.samples : resample(ref.samples, ref.sampleRate, rate);
}

export async function evaluateRun(o: EvaluateRunOptions): Promise<EvalResult> {
  // Check the checkpoint before preparing anything, so a wrong --checkpoint leaves no files behind.
  const lm = loadModel(o.checkpoint);
  let ds: Awaited<ReturnType<typeof openDataset>>;
  try {
    ds = await openDataset(o.features ?? o.refs, { cacheDir: join(o.out, 'ref-features') });
  } catch (err) {
    lm.model.dispose();
    throw err;
  }
  let ids = ds.splits[o.split];
  let trainIds = ds.splits.train;
  let sentences: string[] = [];
  let tag = '';
  try {
    speakerRow(lm, o.speaker);
    // a multi-speaker reference corpus: one speaker's recordings only (split and reference statistics)
    const ref = o.refSpeaker ?? o.speaker;
    if (ref !== undefined && ds.speakers.length >= 2) {
      if (!ds.speakers.includes(ref))
        throw new UserError(
          `${o.refs}: names ${ds.speakers.length} speakers (${ds.speakers.join(', ')}) but not '${ref}' (the recordings ${o.refSpeaker !== undefined ? '--ref-speaker' : '--speaker'} is compared with)`,
        );
      const own = (id: string) => ds.utterances.get(id)?.speaker === ref;
      ids = ids.filter(own);
      trainIds = trainIds.filter(own);
      tag = `-s-${/^[A-Za-z0-9._-]{1,64}$/.test(ref) ? ref : createHash('sha256').update(ref).digest('hex').slice(0, 16)}`;
    } else if (o.refSpeaker !== undefined) {
      throw new UserError(
        `--ref-speaker: ${o.refs} names ${ds.speakers.length === 0 ? 'no speaker' : `one speaker (${ds.speakers[0]})`}; it is for references of several speakers`,
      );
    }
    if (o.max > 0) ids = ids.slice(0, o.max);
    if (ids.length === 0)
      throw new UserError(`${o.refs}: the ${o.split} split ${tag ? `has no utterance of '${ref}'` : 'is empty'} (nothing to evaluate)`);
    if (o.unseen !== undefined) sentences = readSentences(o.unseen);
  } catch (err) {
    lm.model.dispose();
    throw err;
  }
  const nSpeaker = o.speakerRefs ?? 40;
  let speaker: SpeakerStats | undefined;
  let naturalness: NaturalnessRef | null = null;
  try {
    speaker =
      nSpeaker > 0 ? referenceSpeaker(o.refs, ds.dir, trainIds, nSpeaker, lm.melConfig, o.iters, o.speakerVocoded ?? true, tag) : undefined;
    naturalness = nSpeaker > 0 ? referenceNaturalness(o.refs, ds.dir, trainIds, nSpeaker, lm.melConfig, tag) : null;
  } catch (err) {
    lm.model.dispose();
    throw err;
  }
  const notes: string[] = [];
  const bar = o.progress
    ? new cliProgress.SingleBar(
        { format: 'evaluate |{bar}| {value}/{total} utterances | {id}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  // unseen sentences: synthesis seeds continue after the split's, so every run draws the same ones
  const items: EvalItem[] = [
    ...ids.map((id, i) => ({ i, id, text: ds.utterances.get(id)!.text, unseen: false })),
    ...sentences.map((text, k) => ({ i: ids.length + k, id: `unseen-${String(k + 1).padStart(2, '0')}`, text, unseen: true })),
  ];
  const steps = o.steps ?? lm.synth.steps;
  const job: EvalJobArgs = {
    checkpoint: lm.checkpoint.dir,
    refs: o.refs,
    split: o.split,
    steps,
    seed: o.seed,
    out: o.out,
    iters: o.iters,
    wer: o.wer,
    speaker: speaker ? speakerStatsToJson(speaker) : null,
    naturalness,
    ...(o.speaker !== undefined ? { speakerName: o.speaker } : {}),
  };
  const n = resolveJobWorkers(o.workers ?? 1, items.length, capabilities().parallelisesOps);
  bar?.start(items.length, 0, { id: '' });
  let scored: Scored[];
  try {
    if (n > 1)
      scored = await mapInWorkers<EvalItem, Scored>(
        { module: import.meta.url, args: job },
        items,
        n,
        'evaluation',
        (d) => bar?.update(d, { id: items[d - 1]!.id }),
        (it) => scoreItem(lm, job, speaker, it),
      );
    else {
      scored = [];
      for (const it of items) {
        scored.push(await scoreItem(lm, job, speaker, it));
        bar?.increment(1, { id: it.id });
      }
    }
  } finally {
    bar?.stop();
    lm.model.dispose();
  }
  const werMissing = scored.some((r) => r.werMissing);
  const rows = scored.map((r) => r.row).filter((r): r is UtteranceRow => 'mcd' in r);
  const unseen = scored.map((r) => r.row).filter((r): r is UnseenRow => !('mcd' in r));
  const natOf = (unseenItems: boolean | null) =>
    scored
      .filter((_r, k) => unseenItems === null || items[k]!.unseen === unseenItems)
      .map((r) => r.nat)
      .filter((u): u is UtteranceNaturalness => u !== null);
  const sets = naturalness
    ? { split: scoreSet(natOf(false), naturalness), unseen: scoreSet(natOf(true), naturalness), all: scoreSet(natOf(null), naturalness) }
    : null;
  if (o.wer && werMissing)
    notes.push('WER skipped: pocketsphinx_continuous is not installed (apt-get install pocketsphinx pocketsphinx-en-us)');
  const spread = aggregate(rows);
  const agg: Record<string, number | null> = {};
  for (const k of Object.keys(METRICS)) agg[k] = spread[k] && spread[k].n > 0 ? spread[k].mean : null;
  const result: EvalResult = {
    checkpoint: o.checkpoint,
    step: lm.checkpoint.meta.step,
    refs: o.refs,
    split: o.split,
    steps,
    seed: o.seed,
    speaker: o.speaker ?? null,
    refSpeaker: tag ? (o.refSpeaker ?? o.speaker)! : null,
    n: rows.length,
    aggregate: agg,
    spread,
    notes,
    utterances: rows,
    unseenAggregate: {
      speakerDist: meanOf(unseen.map((r) => r.speakerDist)),
      wer: meanOf(unseen.map((r) => r.wer)),
      gvDb: meanOf(unseen.map((r) => r.gvDb)),
      melDist: meanOf(unseen.map((r) => r.melDist)),
      mcepFd: meanOf(unseen.map((r) => r.mcepFd)),
    },
    unseen,
    naturalness: sets,
  };
  writeFileAtomic(join(o.out, 'eval.csv'), toCsv(rows));
  writeFileAtomic(join(o.out, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
  if (sets) {
    const curves = (
      [
        ['split', `${o.split} split`],
        ['unseen', 'unseen sentences'],
      ] as const
    ).flatMap(([k, name]) => (sets[k] ? [{ name: `${name} (${sets[k]!.gvDb.toFixed(2)} dB)`, perBand: sets[k]!.gvPerBand }] : []));
    writeGvPng(
      join(o.out, 'gv.png'),
      curves,
      lm.melConfig,
      `GV of ln-mel per band vs ${nSpeaker} recordings (step ${lm.checkpoint.meta.step}, ${o.steps} steps)`,
    );
  }
  return result;
}

interface EvalJobArgs {
  /** The checkpoint directory the main thread loaded. */
  checkpoint: string;
  refs: string;
  split: string;
  steps: number;
  seed: number;
  out: string;
  iters: number;
  wer: boolean;
  /** The target speaker's reference statistics, or null for none. */
  speaker: ReturnType<typeof speakerStatsToJson> | null;
  /** The target's recordings' naturalness statistics, or null for none. */
  naturalness: NaturalnessRef | null;
  /** The voice's speaker to synthesize with (multi-speaker voices). */
  speakerName?: string;
}

/** Item i of the evaluation (its seeds are seed + i wherever it is scored): a split utterance, or an unseen sentence. */
interface EvalItem {
  i: number;
  id: string;
  text: string;
  unseen: boolean;
}

/** One scored item; `nat` its naturalness statistics for the set measures (null without speech or references). */
type Scored = { row: UtteranceRow | UnseenRow; werMissing: boolean; nat: UtteranceNaturalness | null };

/** Synthesizes one item, writes its WAV and scores it (against its recording, or reference-free for an unseen sentence). */
async function scoreItem(
  lm: LoadedModel,
  o: EvalJobArgs,
  speaker: SpeakerStats | undefined,
  { i, id, text, unseen }: EvalItem,
): Promise<Scored> {
  const rate = lm.melConfig.sampleRate;
  const seed = o.seed + i;
  const { samples: genWav, mel } = await speakText(
    lm,
    text,
    {
      steps: o.steps,
      temperature: lm.synth.temperature,
      lengthScale: lm.synth.lengthScale,
      startTime: lm.synth.startTime,
      stochastic: false,
      seed,
      ...(o.speakerName !== undefined ? { speaker: o.speakerName } : {}),
    },
    o.iters,
  );
  const wavPath = join(o.out, 'wavs', `${id}.wav`);
  writeWav(wavPath, genWav, rate, 'pcm16');
  let wer: number | null = null;
  let hypothesis: string | null = null;
  let werMissing = false;
  if (o.wer) {
    const heard = await scoreWav(text, wavPath);
    werMissing = heard === null;
    wer = heard?.wer ?? null;
    hypothesis = heard?.hypothesis ?? null;
  }
  // one mel-cepstral analysis of the generated audio serves MCD, speaker distance and naturalness
  const gen = { wav: genWav, mel: logMel(genWav, lm.melConfig), mcep: utteranceMcep({ wav: genWav, mel }, rate) };
  const nat = o.naturalness ? utteranceNaturalness(gen.mel, gen.mcep) : null;
  if (unseen) {
    const d = speaker ? speakerDistance(speakerStats([gen.mcep]), speaker) : NaN;
    const n = nat && o.naturalness ? scoreUtterance(nat, o.naturalness) : null;
    const fin = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    return {
      row: { id, text, speakerDist: fin(d), gvDb: fin(n?.gvDb), melDist: fin(n?.melDist), mcepFd: fin(n?.mcepFd), wer, hypothesis },
      werMissing,
      nat,
    };
  }
  const refWav = refRecording(o.refs, id, o.split, rate);
  const m = evaluatePair(gen, { wav: refWav, mel: logMel(refWav, lm.melConfig) }, rate, {
    speaker,
    ...(o.naturalness ? { naturalness: o.naturalness } : {}),
  });
  return { row: { id, text, ...m, wer, hypothesis }, werMissing, nat };
}

/** An evaluation worker (src/parallel/map-pool.ts): loads the checkpoint once, then scores one item per call. */
export async function setup(args: unknown): Promise<(item: unknown) => Promise<Scored>> {
  const a = args as EvalJobArgs;
  const lm = loadModel(a.checkpoint);
  const speaker = a.speaker ? speakerStatsFromJson(a.speaker) : undefined;
  return (item) => scoreItem(lm, a, speaker, item as EvalItem);
}

function meanOf(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? v.reduce((a, x) => a + x, 0) / v.length : null;
}

function toCsv(rows: UtteranceRow[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!) as (keyof UtteranceRow)[];
  const cell = (v: unknown) => {
    const s =
      v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(+v.toPrecision(6)) : '') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(','), ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n') + '\n';
}
