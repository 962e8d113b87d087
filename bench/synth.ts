/**
 * Synthesis real-time factor of the `tiny` config: (text → mel with 10 reverse-diffusion steps →
 * Griffin-Lim 32 iterations) seconds / audio seconds, median over a few sentences; goal ≤ 0.5.
 *
 * Untrained weights predict ~1 frame per token, so a length scale brings the frames per token to
 * speech-like rates (~4); compute scales with frames, so the RTF is representative. Set
 * DIFFTTS_BENCH_CHECKPOINT to a run directory to time a trained model instead.
 * No peer: there is no PyTorch Grad-TTS + Griffin-Lim of the same configuration to compare with.
 * DIFFTTS_BENCH_AB=1 also times each sentence's mel with the fused GroupNorm/Mish kernel off
 * (src/kernels/norm-mish.ts), interleaved with the timed run, and reports the ratio. Every run
 * times each mel once more with the direct 3×3 kernels instead of Winograd (src/kernels/winograd.ts).
 *
 * The file rows time `synthesizeToFiles` on a 10-sentence file (what `synthesize --text-file`
 * runs) from a checkpoint, in this thread and with one worker thread per core (src/parallel):
 * wall seconds, worker start-up and checkpoint loading included, over the audio seconds.
 * The default-voice rows time the same file with the shipped default voice (DEFAULT_VOICE) and
 * its own synthesis defaults (steps, start time, temperature): what `npx difftts synthesize` runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../src/train/checkpoint.js';
import { freshLoopState } from '../src/train/loop.js';
import { synthesizeToFiles, type SynthesizeToFilesOptions } from '../src/synthesis/batch.js';
import { cores } from '../src/parallel/workers.js';
import type { BenchRow } from './common.js';
import { median } from './common.js';
import { initBackend } from '../src/backend/index.js';
import { GradTTS, MODEL_CONFIGS } from '../src/model/index.js';
import { DEFAULT_TEXT, symbolCount, textToIds } from '../src/text/index.js';
import { DEFAULT_MEL } from '../src/audio/mel.js';
import { TfAdam } from '../src/train/optimizer.js';
import { Rng } from '../src/util/rng.js';
import { loadModel } from '../src/synthesis/model.js';
import { vocode } from '../src/synthesis/speak.js';
import { setFusedNormMish } from '../src/kernels/norm-mish.js';
import { setWinogradMode } from '../src/kernels/winograd.js';
import { DEFAULT_VOICE, resolveVoice } from '../src/synthesis/voices.js';

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Please enter your password, followed by the pound key.',
  'All circuits are busy now, please try again later.',
  'Thank you for calling, goodbye.',
  'She sells sea shells by the sea shore.',
];

export async function run(): Promise<BenchRow[]> {
  const backend = await initBackend(process.env.DIFFTTS_BACKEND);
  const ckpt = process.env.DIFFTTS_BENCH_CHECKPOINT;
  const lm = ckpt ? loadModel(ckpt) : null;
  const model = lm?.model ?? GradTTS.create(MODEL_CONFIGS.tiny, symbolCount(DEFAULT_TEXT), 1);
  const textCfg = lm?.textConfig ?? DEFAULT_TEXT;
  const melCfg = lm?.melConfig ?? DEFAULT_MEL;
  const lengthScale = lm ? 1 : 4;
  const rtfs: number[] = [];
  const melS: number[] = [];
  const glS: number[] = [];
  const abRatios: number[] = [];
  const winoRatios: number[] = [];
  const ab = process.env.DIFFTTS_BENCH_AB === '1';
  let audioTotal = 0;
  // warm-up (kernel compilation, first allocations)
  await model.synthesize(textToIds(SENTENCES[0]!, textCfg).ids, {
    steps: 2,
    temperature: 1.5,
    lengthScale,
    stochastic: false,
    rng: new Rng(0),
  });
  for (const s of SENTENCES) {
    const ids = textToIds(s, textCfg).ids;
    const t0 = process.hrtime.bigint();
    const mel = await model.synthesize(ids, { steps: 10, temperature: 1.5, lengthScale, stochastic: false, rng: new Rng(1) });
    const t1 = process.hrtime.bigint();
    const wav = vocode(mel, melCfg, 32);
    const t2 = process.hrtime.bigint();
    const audio = wav.length / melCfg.sampleRate;
    const secs = Number(t2 - t0) / 1e9;
    melS.push(Number(t1 - t0) / 1e9);
    glS.push(Number(t2 - t1) / 1e9);
    rtfs.push(secs / audio);
    audioTotal += audio;
    /** This sentence's mel time over its time with `off()` in effect (which returns the undo). */
    const ratioWith = async (off: () => () => void) => {
      const undo = off();
      try {
        const t3 = process.hrtime.bigint();
        await model.synthesize(ids, { steps: 10, temperature: 1.5, lengthScale, stochastic: false, rng: new Rng(1) });
        return Number(t1 - t0) / Number(process.hrtime.bigint() - t3);
      } finally {
        undo();
      }
    };
    winoRatios.push(
      await ratioWith(() => {
        const prev = setWinogradMode('off');
        return () => setWinogradMode(prev);
      }),
    );
    if (ab)
      abRatios.push(
        await ratioWith(() => {
          setFusedNormMish(false);
          return () => setFusedNormMish(null);
        }),
      );
  }
  model.dispose();
  const r = median(rtfs);
  const row: BenchRow = {
    name: 'synth tiny RTF (10 steps + Griffin-Lim 32)',
    difftts_s: r,
    peer_s: null,
    ratio: null,
    gflops: null,
    notes: `real-time factor (s per audio s), median of ${SENTENCES.length} sentences on ${backend.name}${ckpt ? ` (${ckpt})` : ', untrained weights, lengthScale 4'}; goal ≤ 0.5; ${(audioTotal / SENTENCES.length).toFixed(2)} s audio/sentence; mel ${median(melS).toFixed(2)} s + Griffin-Lim ${median(glS).toFixed(2)} s (medians); RTF range ${Math.min(...rtfs).toFixed(2)}–${Math.max(...rtfs).toFixed(2)}; mel time Winograd/direct 3×3 convs ${median(winoRatios).toFixed(2)} (${Math.min(...winoRatios).toFixed(2)}–${Math.max(...winoRatios).toFixed(2)})${ab ? `; mel time fused/unfused GroupNorm+Mish ${median(abRatios).toFixed(2)} (${Math.min(...abRatios).toFixed(2)}–${Math.max(...abRatios).toFixed(2)})` : ''}`,
  };
  console.log(`bench synth: ${row.notes}`);
  return [row, ...(await fileRows(ckpt)), ...(await defaultVoiceRows())];
}

const FILE_SENTENCES = [
  ...SENTENCES,
  'The birch canoe slid on the smooth planks.',
  'Glue the sheet to the dark blue background.',
  'It is easy to tell the depth of a well.',
  'These days a chicken leg is a rare dish.',
  'Rice is often served in round bowls.',
];

/** An untrained tiny checkpoint (as the rows above use), so the file rows need no training run. */
async function untrainedCheckpoint(dir: string): Promise<string> {
  const model = GradTTS.create(MODEL_CONFIGS.tiny, symbolCount(DEFAULT_TEXT), 1);
  const opt = new TfAdam(1e-3);
  const ck = join(dir, 'step-000000');
  await saveCheckpoint(ck, model.variables, opt, {
    step: 0,
    data: { rng: new Rng(0).state(), epoch: 0, pos: 0, order: [] },
    modelRng: new Rng(0).state(),
    loop: freshLoopState(),
    model: { kind: 'gradtts', config: MODEL_CONFIGS.tiny },
    nSymbols: symbolCount(DEFAULT_TEXT),
    textConfig: DEFAULT_TEXT,
    melConfig: DEFAULT_MEL,
    recipe: { synth: { steps: 10, temperature: 1.5, lengthScale: 4 } },
  });
  opt.dispose();
  model.dispose();
  return ck;
}

/** One timing of the 10-sentence file: wall seconds (start-up and loading included) and audio seconds. */
interface FileRun {
  s: number;
  audio: number;
}

/**
 * Times the 10-sentence file from `checkpoint` with 1 worker (this thread) and with one per core,
 * alternated twice against load; `extra` are synthesizeToFiles's settings (none: the voice's own).
 * Returns each worker count's runs and the best (shortest) of them.
 */
async function timeFileByWorkers(
  checkpoint: string,
  dir: string,
  extra: Pick<SynthesizeToFilesOptions, 'steps' | 'lengthScale' | 'iters'>,
): Promise<{ counts: number[]; runs: Map<number, FileRun[]>; best: (w: number) => FileRun }> {
  const n = Math.min(cores(), FILE_SENTENCES.length);
  const counts = n > 1 ? [1, n] : [1];
  const runs = new Map<number, FileRun[]>(counts.map((w) => [w, []]));
  for (let rep = 0; rep < 2; rep++)
    for (const w of counts) {
      const t0 = process.hrtime.bigint();
      const files = await synthesizeToFiles({
        checkpoint,
        texts: FILE_SENTENCES,
        out: join(dir, `w${w}.wav`),
        many: true,
        workers: w,
        ...extra,
      });
      runs.get(w)!.push({ s: Number(process.hrtime.bigint() - t0) / 1e9, audio: files.reduce((a, f) => a + f.seconds, 0) });
    }
  return { counts, runs, best: (w) => runs.get(w)!.reduce((a, b) => (b.s < a.s ? b : a)) };
}

/** A file row: RTF of the best run with `w` workers; `ratio` = its wall against 1 worker's. */
function fileRow(name: string, w: number, t: Awaited<ReturnType<typeof timeFileByWorkers>>, notes: string): BenchRow {
  const b = t.best(w);
  return {
    name: `${name} — ${w === 1 ? '1 worker (this thread)' : `${w} workers (src/parallel, all cores)`}`,
    difftts_s: b.s / b.audio,
    peer_s: null,
    ratio: w === 1 ? null : b.s / t.best(1).s,
    gflops: null,
    notes: `${notes}wall ${t.runs
      .get(w)!
      .map((r) => r.s.toFixed(1))
      .join(
        '/',
      )} s for ${b.audio.toFixed(1)} s of audio (best of 2, alternated)${w > 1 ? '; ratio = wall vs 1 worker; worker start-up and checkpoint loads included' : ''}`,
  };
}

/** RTF of a 10-sentence file: 1 worker (this thread), then all cores; alternated twice against load. */
async function fileRows(ckpt: string | undefined): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-bench-synth-'));
  try {
    const checkpoint = ckpt ?? (await untrainedCheckpoint(dir));
    const t = await timeFileByWorkers(checkpoint, dir, { steps: 10, lengthScale: ckpt ? undefined : 4, iters: 32 });
    const rows = t.counts.map((w) =>
      fileRow(
        'synth tiny 10-sentence file RTF (10 steps + Griffin-Lim 32)',
        w,
        t,
        `goal RTF ≤ 0.2${ckpt ? '' : '; untrained weights, lengthScale 4'}; `,
      ),
    );
    for (const r of rows) console.log(`bench synth: ${r.name}: ${r.difftts_s.toFixed(3)}; ${r.notes}`);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * RTF of the 10-sentence file with the shipped default voice at its own synthesis defaults, 1 worker
 * and all cores, alternated twice; wall seconds (start-up and loading included) over audio seconds.
 */
async function defaultVoiceRows(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-bench-voice-'));
  try {
    const checkpoint = resolveVoice(DEFAULT_VOICE);
    const lm = loadModel(checkpoint);
    const d = lm.synth;
    lm.model.dispose();
    const t = await timeFileByWorkers(checkpoint, dir, {});
    const rows = t.counts.map((w) =>
      fileRow(
        `synth default voice ${DEFAULT_VOICE} 10-sentence file RTF`,
        w,
        t,
        `its defaults: ${d.steps} steps${d.startTime < 1 ? ` from t₀ ${d.startTime}` : ''}, temperature ${d.temperature}, Griffin-Lim default iterations; goal (issue #25) RTF ≤ 0.3 on 2 cores; `,
      ),
    );
    for (const r of rows) console.log(`bench synth: ${r.name}: ${r.difftts_s.toFixed(3)}; ${r.notes}`);
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
