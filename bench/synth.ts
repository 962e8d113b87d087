/**
 * Synthesis real-time factor of the `tiny` config: (text → mel with 10 reverse-diffusion steps →
 * Griffin-Lim 32 iterations) seconds / audio seconds, median over a few sentences; goal ≤ 0.5.
 *
 * Untrained weights predict ~1 frame per token, so a length scale brings the frames per token to
 * speech-like rates (~4); compute scales with frames, so the RTF is representative. Set
 * DIFFTTS_BENCH_CHECKPOINT to a run directory to time a trained model instead.
 * No peer: there is no PyTorch Grad-TTS + Griffin-Lim of the same configuration to compare with.
 * DIFFTTS_BENCH_AB=1 also times each sentence's mel with the fused GroupNorm/Mish kernel off
 * (src/kernels/norm-mish.ts), interleaved with the timed run, and reports the ratio.
 */
import type { BenchRow } from './common.js';
import { median } from './common.js';
import { initBackend } from '../src/backend/index.js';
import { GradTTS, MODEL_CONFIGS } from '../src/model/index.js';
import { DEFAULT_TEXT, symbolCount, textToIds } from '../src/text/index.js';
import { DEFAULT_MEL } from '../src/audio/mel.js';
import { Rng } from '../src/util/rng.js';
import { loadModel, vocode } from '../src/train/synthesize.js';
import { setFusedNormMish } from '../src/kernels/norm-mish.js';

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
  const ab = process.env.DIFFTTS_BENCH_AB === '1';
  let audioTotal = 0;
  // warm-up (kernel compilation, first allocations)
  await model.synthesize(textToIds(SENTENCES[0]!, textCfg).ids, { steps: 2, temperature: 1.5, lengthScale, stochastic: false, rng: new Rng(0) });
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
    if (ab) {
      setFusedNormMish(false);
      try {
        const t3 = process.hrtime.bigint();
        await model.synthesize(ids, { steps: 10, temperature: 1.5, lengthScale, stochastic: false, rng: new Rng(1) });
        abRatios.push(Number(t1 - t0) / Number(process.hrtime.bigint() - t3));
      } finally {
        setFusedNormMish(null);
      }
    }
  }
  model.dispose();
  const r = median(rtfs);
  const row: BenchRow = {
    name: 'synth tiny RTF (10 steps + Griffin-Lim 32)',
    difftts_s: r,
    peer_s: null,
    ratio: null,
    gflops: null,
    notes: `real-time factor (s per audio s), median of ${SENTENCES.length} sentences on ${backend.name}${ckpt ? ` (${ckpt})` : ', untrained weights, lengthScale 4'}; goal ≤ 0.5; ${(audioTotal / SENTENCES.length).toFixed(2)} s audio/sentence; mel ${median(melS).toFixed(2)} s + Griffin-Lim ${median(glS).toFixed(2)} s (medians); RTF range ${Math.min(...rtfs).toFixed(2)}–${Math.max(...rtfs).toFixed(2)}${ab ? `; mel time fused/unfused GroupNorm+Mish ${median(abRatios).toFixed(2)} (${Math.min(...abRatios).toFixed(2)}–${Math.max(...abRatios).toFixed(2)})` : ''}`,
  };
  console.log(`bench synth: ${row.notes}`);
  return [row];
}
