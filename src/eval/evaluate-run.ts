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
import { loadModel, synthesizeMel, vocode } from '../train/synthesize.js';
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
  const rate = lm.melConfig.sampleRate;
  const notes: string[] = [];
  const rows: UtteranceRow[] = [];
  const bar = o.progress ? new cliProgress.SingleBar({ format: 'evaluate |{bar}| {value}/{total} utterances | {id}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(ids.length, 0, { id: '' });
  let werMissing = false;
  try {
    for (const [i, id] of ids.entries()) {
      const u = ds.utterances.get(id)!;
      const { mel } = await synthesizeMel(lm, u.text, { steps: o.steps, temperature: lm.synth.temperature, lengthScale: lm.synth.lengthScale, stochastic: false, seed: o.seed + i });
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
      if (o.wer && !werMissing) {
        hypothesis = await recognize(wavPath);
        if (hypothesis === null) werMissing = true;
        else wer = wordErrorRate(u.text, hypothesis).wer;
      }
      rows.push({ id, text: u.text, ...m, wer, hypothesis });
      bar?.increment(1, { id });
    }
  } finally {
    bar?.stop();
    lm.model.dispose();
  }
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

function toCsv(rows: UtteranceRow[]): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]!) as (keyof UtteranceRow)[];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isFinite(v) ? String(+v.toPrecision(6)) : '') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [keys.join(','), ...rows.map((r) => keys.map((k) => cell(r[k])).join(','))].join('\n') + '\n';
}
