/**
 * `npm run bench -- quality`: speech quality per CPU-minute of training.
 *
 * Trains a recipe for a time budget (or takes an existing run), then evaluates evenly spaced
 * checkpoints on the corpus's test split — WER (pocketsphinx, corpus-level) and MCD against the
 * recordings — and WER on unseen telephony sentences (datasets/sentences/unseen.txt,
 * none of them in the Allison corpus). Two references frame the curve: the recordings themselves
 * and their log-mel → Griffin-Lim resynthesis (the vocoder's ceiling for any model here).
 * Naturalness beside WER (src/eval/naturalness.ts): global variance of ln-mel (dB vs 40 train-split
 * recordings; < 0 over-smoothed), mean log-mel distance and the Fréchet distance of mel-cepstral frames,
 * for the test split and the unseen sentences, with the test recordings and their Griffin-Lim as the floor.
 * Writes docs/quality/<name>.json and <name>-wer.png / <name>-mcd.png / <name>-gv.png.
 *
 * Environment:
 *   DIFFTTS_QUALITY_RUN      an existing run directory to evaluate (no training)
 *   DIFFTTS_QUALITY_RECIPE   recipe to train otherwise (default recipes/tiny.json)
 *   DIFFTTS_QUALITY_DATA     its corpus (default datasets/allison-mini)
 *   DIFFTTS_QUALITY_MINUTES  training budget (default 20; the run resumes, so a rerun adds to it)
 *   DIFFTTS_QUALITY_POINTS   checkpoints to evaluate (default 6, always including the last)
 *   DIFFTTS_QUALITY_NAME     output name (default: the run directory's name)
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { BenchRow } from './common.js';
import { initBackend } from '../src/backend/index.js';
import { DEFAULT_MEL, logMel } from '../src/audio/mel.js';
import { readWav, writeWav } from '../src/audio/wav.js';
import { resample } from '../src/audio/resample.js';
import { griffinLim } from '../src/audio/griffinlim.js';
import { openDataset } from '../src/data/index.js';
import { evaluatePair } from '../src/eval/evaluate.js';
import { evaluateRun, referenceNaturalness } from '../src/eval/evaluate-run.js';
import { scoreSet, wavNaturalness, type SetNaturalness, type UtteranceNaturalness } from '../src/eval/naturalness.js';
import { corpusWer, scoreWav, speakAndScore, type SentenceWer } from '../src/eval/intelligibility.js';
import { findOnPath, wordErrorRate } from '../src/eval/wer.js';
import { listCheckpoints } from '../src/train/checkpoint.js';
import { readMetrics } from '../src/train/metrics.js';
import { runTraining } from '../src/train/run.js';
import { loadModel } from '../src/synthesis/model.js';
import { readSentences } from '../src/eval/sentences.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { writeLinePlotPng } from '../src/util/plot.js';
import { repoRoot } from '../src/testing/paths.js';

export interface QualityPoint {
  step: number;
  /** Wall-clock training minutes up to this step (Σ s/step of the logged steps × logEvery). */
  minutes: number;
  testWer: number | null;
  testMcd: number | null;
  unseenWer: number | null;
  /** Naturalness of the test-split and unseen-sentence sets against the recordings (null: none measurable). */
  testNaturalness: SetNaturalness | null;
  unseenNaturalness: SetNaturalness | null;
}

/** The set measures of WAV files against the recordings' statistics, without the per-band curve (kept short in the JSON). */
function naturalnessOf(wavs: Float32Array[], ref: Parameters<typeof scoreSet>[1]): SetNaturalness | null {
  return scoreSet(
    wavs.map((w) => wavNaturalness(w)).filter((u): u is UtteranceNaturalness => u !== null),
    ref,
  );
}

/** Training minutes at each step of a run, from metrics.jsonl (logged steps stand for logEvery steps). */
export function minutesByStep(runDir: string): (step: number) => number {
  const lines = readMetrics(join(runDir, 'metrics.jsonl'));
  const steps = lines.map((l) => l.step as number);
  const cum: number[] = [];
  let acc = 0;
  lines.forEach((l, i) => {
    acc += (l.sPerStep as number) * (steps[i]! - (i ? steps[i - 1]! : 0));
    cum.push(acc / 60);
  });
  return (step) => {
    let k = -1;
    while (k + 1 < steps.length && steps[k + 1]! <= step) k++;
    return k < 0 ? 0 : cum[k]!;
  };
}

function pick<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round(((i + 1) * (xs.length - 1)) / n)]!).filter((x, i, a) => a.indexOf(x) === i);
}

export async function run(): Promise<BenchRow[]> {
  await initBackend(process.env.DIFFTTS_BACKEND);
  if (!findOnPath('pocketsphinx_continuous')) {
    console.error('bench quality: skipped — pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)');
    return [];
  }
  const env = process.env;
  let runDir = env.DIFFTTS_QUALITY_RUN ? resolve(env.DIFFTTS_QUALITY_RUN) : '';
  if (!runDir) {
    runDir = join(repoRoot, 'bench', 'quality-run');
    const minutes = Number(env.DIFFTTS_QUALITY_MINUTES ?? 20);
    console.error(`bench quality: training ${env.DIFFTTS_QUALITY_RECIPE ?? 'recipes/tiny.json'} for ${minutes} min into ${runDir}`);
    await runTraining({
      recipePath: env.DIFFTTS_QUALITY_RECIPE ?? join(repoRoot, 'recipes', 'tiny.json'),
      dataPath: env.DIFFTTS_QUALITY_DATA ?? join(repoRoot, 'datasets', 'allison-mini'),
      outDir: runDir,
      resume: true,
      maxSeconds: minutes * 60,
      overrides: [{ flag: '--train.keepCheckpoints', path: ['train', 'keepCheckpoints'], raw: '1000' }],
      progress: process.stderr.isTTY,
    });
  }
  const name = env.DIFFTTS_QUALITY_NAME ?? basename(runDir);
  const recipe = JSON.parse(readFileSync(join(runDir, 'recipe.json'), 'utf8'));
  const corpus: string = recipe.data.path;
  const features = join(runDir, 'features');
  const ds = await openDataset(existsSync(features) ? features : corpus, {});
  const testIds = ds.splits.test;
  const unseen = readSentences(join(repoRoot, 'datasets', 'sentences', 'unseen.txt'));
  const work = mkdtempSync(join(tmpdir(), 'difftts-quality-'));
  const synthSteps = Number(env.DIFFTTS_QUALITY_STEPS ?? recipe.synth?.steps ?? 10);

  try {
    // References: the recordings, and the recordings through log-mel → Griffin-Lim.
    const rec: SentenceWer[] = [];
    const gl: SentenceWer[] = [];
    const glMcd: number[] = [];
    const recWavs: Float32Array[] = [];
    const glWavs: Float32Array[] = [];
    for (const id of testIds) {
      const u = ds.utterances.get(id)!;
      const path = join(corpus, 'wavs', `${id}.wav`);
      const w = readWav(path);
      const x = w.sampleRate === 22050 ? w.samples : resample(w.samples, w.sampleRate, 22050);
      rec.push((await scoreWav(u.text, path))!);
      const y = griffinLim(logMel(x), { iters: 32, seed: 0 });
      const glPath = join(work, `gl-${id}.wav`);
      writeWav(glPath, y, 22050, 'pcm16');
      gl.push((await scoreWav(u.text, glPath))!);
      glMcd.push(evaluatePair({ wav: y, mel: logMel(y) }, { wav: x, mel: logMel(x) }, 22050).mcd);
      recWavs.push(x);
      glWavs.push(y);
    }
    const natRef = referenceNaturalness(corpus, ds.dir, ds.splits.train, 40, DEFAULT_MEL);
    const refs = {
      recordingsWer: corpusWer(rec),
      griffinLimWer: corpusWer(gl),
      griffinLimMcd: glMcd.reduce((a, b) => a + b, 0) / glMcd.length,
      recordingsNaturalness: naturalnessOf(recWavs, natRef),
      griffinLimNaturalness: naturalnessOf(glWavs, natRef),
    };
    console.error(
      `bench quality: ${testIds.length} test utterances; recordings WER ${refs.recordingsWer?.toFixed(3)}, Griffin-Lim WER ${refs.griffinLimWer?.toFixed(3)}, MCD ${refs.griffinLimMcd.toFixed(2)} dB`,
    );

    const minutesAt = minutesByStep(runDir);
    const points: QualityPoint[] = [];
    const ckpts = pick(listCheckpoints(runDir), Number(env.DIFFTTS_QUALITY_POINTS ?? 6));
    for (const c of ckpts) {
      const ev = await evaluateRun({
        checkpoint: c.dir,
        refs: corpus,
        features: existsSync(features) ? features : undefined,
        split: 'test',
        steps: synthSteps,
        seed: 1234,
        max: 0,
        out: join(work, `eval-${c.step}`),
        iters: 32,
        wer: true,
        progress: false,
      });
      const testRows = ev.utterances.map((u) => wordErrorRate(u.text, u.hypothesis ?? ''));
      const lm = loadModel(c.dir);
      let unseenWer: number | null = null;
      let unseenNaturalness: SetNaturalness | null = null;
      try {
        const spoken = await speakAndScore(lm, unseen, {
          steps: synthSteps,
          seed: 1234,
          iters: 32,
          outDir: join(work, `unseen-${c.step}`),
        });
        unseenWer = spoken?.corpusWer ?? null;
        unseenNaturalness = spoken
          ? naturalnessOf(
              spoken.rows.map((r) => readWav(r.wav).samples),
              natRef,
            )
          : null;
      } finally {
        lm.model.dispose();
      }
      const p: QualityPoint = {
        step: c.step,
        minutes: minutesAt(c.step),
        testWer: corpusWer(testRows),
        testMcd: ev.aggregate.mcd ?? null,
        unseenWer,
        testNaturalness: ev.naturalness?.split ?? null,
        unseenNaturalness,
      };
      points.push(p);
      console.error(
        `bench quality: step ${p.step} (${p.minutes.toFixed(1)} min): test WER ${p.testWer?.toFixed(3)}, MCD ${p.testMcd?.toFixed(2)} dB, unseen WER ${p.unseenWer?.toFixed(3)}, unseen GV ${p.unseenNaturalness?.gvDb.toFixed(2)} dB, FD ${p.unseenNaturalness?.setFd.toFixed(3)}`,
      );
    }

    const outDir = join(repoRoot, 'docs', 'quality');
    mkdirSync(outDir, { recursive: true });
    const result = {
      name,
      run: runDir,
      recipe,
      testUtterances: testIds.length,
      unseenSentences: unseen.length,
      synthSteps,
      references: refs,
      points,
    };
    writeFileAtomic(join(outDir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
    const xs = points.map((p) => p.minutes);
    const flat = (v: number | null) => xs.map(() => v ?? NaN);
    writeLinePlotPng(join(outDir, `${name}-wer.png`), {
      title: `${name}: word error rate (pocketsphinx) vs training time`,
      xLabel: 'training time (minutes, wall clock)',
      yLabel: 'WER (fraction of words)',
      series: [
        { name: 'test split', x: xs, y: points.map((p) => p.testWer ?? NaN) },
        { name: 'unseen sentences', x: xs, y: points.map((p) => p.unseenWer ?? NaN) },
        { name: 'recordings', x: xs, y: flat(refs.recordingsWer) },
        { name: 'recordings via Griffin-Lim', x: xs, y: flat(refs.griffinLimWer) },
      ],
    });
    writeLinePlotPng(join(outDir, `${name}-mcd.png`), {
      title: `${name}: mel-cepstral distortion vs training time (test split)`,
      xLabel: 'training time (minutes, wall clock)',
      yLabel: 'MCD (dB)',
      series: [
        { name: 'model', x: xs, y: points.map((p) => p.testMcd ?? NaN) },
        { name: 'recordings via Griffin-Lim', x: xs, y: flat(refs.griffinLimMcd) },
      ],
    });
    writeLinePlotPng(join(outDir, `${name}-gv.png`), {
      title: `${name}: global variance of ln-mel vs the recordings (0 dB = theirs)`,
      xLabel: 'training time (minutes, wall clock)',
      yLabel: 'GV, mean over bands (dB)',
      series: [
        { name: 'test split', x: xs, y: points.map((p) => p.testNaturalness?.gvDb ?? NaN) },
        { name: 'unseen sentences', x: xs, y: points.map((p) => p.unseenNaturalness?.gvDb ?? NaN) },
        { name: 'test recordings', x: xs, y: flat(refs.recordingsNaturalness?.gvDb ?? null) },
        { name: 'recordings via Griffin-Lim', x: xs, y: flat(refs.griffinLimNaturalness?.gvDb ?? null) },
      ],
    });
    console.error(`bench quality: wrote docs/quality/${name}.json, ${name}-wer.png, ${name}-mcd.png, ${name}-gv.png`);
    const last = points.at(-1);
    return last
      ? [
          {
            name: `quality ${name} step ${last.step}: test WER / unseen WER`,
            difftts_s: last.minutes * 60,
            peer_s: null,
            ratio: null,
            gflops: null,
            notes: `test WER ${last.testWer?.toFixed(3)}, unseen WER ${last.unseenWer?.toFixed(3)}, MCD ${last.testMcd?.toFixed(2)} dB, unseen GV ${last.unseenNaturalness?.gvDb.toFixed(2)} dB (recordings ${refs.recordingsNaturalness?.gvDb.toFixed(2)}); recordings WER ${refs.recordingsWer?.toFixed(3)}, Griffin-Lim ${refs.griffinLimWer?.toFixed(3)}`,
          },
        ]
      : [];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
