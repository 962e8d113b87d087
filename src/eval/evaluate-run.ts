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
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { logMel } from '../audio/mel.js';
import { readWav, writeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { openDataset } from '../data/index.js';
import { UserError } from '../errors.js';
import { loadModel, synthesizeMel, vocode, type LoadedModel } from '../train/synthesize.js';
import { isNativeBackend } from '../backend/index.js';
import { mapInWorkers } from '../parallel/map-pool.js';
import { resolveJobWorkers, type WorkersSetting } from '../parallel/workers.js';
import { writeFileAtomic } from '../util/atomic.js';
import { aggregate, evaluatePair, type PairMetrics } from './evaluate.js';
import { METRICS, type Spread } from './resilience.js';
import { recognize, wordErrorRate } from './wer.js';

export interface EvaluateRunOptions {
  /** Run directory or checkpoint directory. */
  checkpoint: string;
  /** Clean LJSpeech-layout corpus: texts, recordings and the split. */
  refs: string;
  /** Its feature cache (default: prepared into OUT/ref-features). */
  features?: string;
  split: 'test' | 'valid' | 'train';
  /** Reverse-diffusion steps. */
  steps: number;
  seed: number;
  /** Evaluate at most this many utterances of the split (0 = all). */
  max: number;
  out: string;
  /** Griffin-Lim iterations. */
  iters: number;
  /** Also score intelligibility with pocketsphinx when installed. */
  wer: boolean;
  progress: boolean;
  /** Worker threads scoring utterances in parallel, each with its own model copy (default 1). */
  workers?: WorkersSetting;
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
  n: number;
  /** Mean of each oriented metric over utterances (null when no utterance had a value). */
  aggregate: Record<string, number | null>;
  spread: Record<string, Spread>;
  notes: string[];
  utterances: UtteranceRow[];
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
  if (o.max > 0) ids = ids.slice(0, o.max);
  if (ids.length === 0) {
    lm.model.dispose();
    throw new UserError(`${o.refs}: the ${o.split} split is empty (nothing to evaluate)`);
  }
  const notes: string[] = [];
  const rows: UtteranceRow[] = [];
  const bar = o.progress ? new cliProgress.SingleBar({ format: 'evaluate |{bar}| {value}/{total} utterances | {id}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(ids.length, 0, { id: '' });
  const job: EvalJobArgs = { checkpoint: lm.checkpoint.dir, refs: o.refs, split: o.split, steps: o.steps, seed: o.seed, out: o.out, iters: o.iters, wer: o.wer };
  const items = ids.map((id, i) => ({ i, id, text: ds.utterances.get(id)!.text }));
  const n = resolveJobWorkers(o.workers ?? 1, items.length, isNativeBackend());
  let scored: Scored[];
  try {
    if (n > 1) scored = await mapInWorkers<EvalItem, Scored>({ module: import.meta.url, args: job }, items, n, 'evaluation', (d) => bar?.update(d, { id: items[d - 1]!.id }));
    else {
      scored = [];
      for (const it of items) {
        scored.push(await scoreUtterance(lm, job, it));
        bar?.increment(1, { id: it.id });
      }
    }
  } finally {
    bar?.stop();
    lm.model.dispose();
  }
  const werMissing = scored.some((r) => r.werMissing);
  rows.push(...scored.map(({ werMissing: _w, ...r }) => r));
  if (o.wer && werMissing) notes.push('WER skipped: pocketsphinx_continuous is not installed (apt-get install pocketsphinx pocketsphinx-en-us)');
  const spread = aggregate(rows);
  const agg: Record<string, number | null> = {};
  for (const k of Object.keys(METRICS)) agg[k] = spread[k] && spread[k].n > 0 ? spread[k].mean : null;
  const result: EvalResult = {
    checkpoint: o.checkpoint,
    step: lm.checkpoint.meta.step,
    refs: o.refs,
    split: o.split,
    steps: o.steps,
    seed: o.seed,
    n: rows.length,
    aggregate: agg,
    spread,
    notes,
    utterances: rows,
  };
  writeFileAtomic(join(o.out, 'eval.csv'), toCsv(rows));
  writeFileAtomic(join(o.out, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
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
}

/** Utterance i of the split (its seeds are seed + i wherever it is scored). */
interface EvalItem {
  i: number;
  id: string;
  text: string;
}

type Scored = UtteranceRow & { werMissing: boolean };

/** Synthesizes one utterance, writes its WAV and scores it against its recording (and WER when asked and installed). */
async function scoreUtterance(lm: LoadedModel, o: EvalJobArgs, { i, id, text }: EvalItem): Promise<Scored> {
  const rate = lm.melConfig.sampleRate;
  const { mel } = synthesizeMel(lm, text, { steps: o.steps, temperature: lm.synth.temperature, lengthScale: lm.synth.lengthScale, stochastic: false, seed: o.seed + i });
  const genWav = vocode(mel, lm.melConfig, o.iters, o.seed + i);
  const wavPath = join(o.out, 'wavs', `${id}.wav`);
  writeWav(wavPath, genWav, rate, 'pcm16');
  const refPath = join(o.refs, 'wavs', `${id}.wav`);
  if (!existsSync(refPath)) throw new UserError(`${refPath}: reference recording missing for ${o.split} utterance '${id}'`);
  const ref = readWav(refPath);
  const refWav = ref.sampleRate === rate ? ref.samples : resample(ref.samples, ref.sampleRate, rate);
  const m = evaluatePair({ wav: genWav, mel: logMel(genWav, lm.melConfig) }, { wav: refWav, mel: logMel(refWav, lm.melConfig) }, rate);
  let wer: number | null = null;
  let hypothesis: string | null = null;
  let werMissing = false;
  if (o.wer) {
    hypothesis = await recognize(wavPath);
    if (hypothesis === null) werMissing = true;
    else wer = wordErrorRate(text, hypothesis).wer;
  }
  return { id, text, ...m, wer, hypothesis, werMissing };
}

/** An evaluation worker (src/parallel/map-pool.ts): loads the checkpoint once, then scores one utterance per item. */
export async function setup(args: unknown): Promise<(item: unknown) => Promise<Scored>> {
  const a = args as EvalJobArgs;
  const lm = loadModel(a.checkpoint);
  return (item) => scoreUtterance(lm, a, item as EvalItem);
}

function toCsv(rows: UtteranceRow[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!) as (keyof UtteranceRow)[];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(+v.toPrecision(6)) : '') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(','), ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n') + '\n';
}
