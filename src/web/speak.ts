/**
 * Text → audio for the page, one sentence at a time (so the first sentence plays before the last is
 * synthesized, and memory follows the longest sentence): ids (the voice's text config) → GradTTS
 * (or the encoder's prior μ alone, steps 0) → mel → Griffin-Lim, peak-limited to 0.95.
 *
 * MERGE NOTE (for the lead): this is a stand-in written before wt-synth's src/synthesis/speak.ts
 * (speakPieces, over src/text/sentences.ts's splitPieces) reached this branch; it keeps that
 * module's contract — piece k seeded seed + k·1000003, 0.3 s pause after a sentence — so the page
 * can import `speakPieces` from '../synthesis/speak.js' instead and this file can go
 * (`localSplit` below is the minimal sentence split to be replaced by splitPieces).
 */
import { griffinLim } from '../audio/griffinlim.js';
import type { Mel, MelConfig } from '../audio/mel.js';
import { UserError } from '../errors.js';
import type { GradTTS } from '../model/gradtts.js';
import { textToIds, type TextConfig } from '../text/index.js';
import { Rng } from '../util/rng.js';
// type-only: erased from the page bundle, which must not pull in synthesize.ts's Node file I/O
import type { SynthesisParams } from '../train/synthesize.js';

export interface SpeakingModel {
  model: GradTTS;
  textConfig: TextConfig;
  melConfig: MelConfig;
}

export interface SpokenPiece {
  index: number;
  count: number;
  text: string;
  /** The piece's samples followed by the pause after it (none after the last). */
  samples: Float32Array;
  unknown: string[];
  mel: Mel;
}

const SENTENCE_PAUSE_SEC = 0.3;

/** Sentences of at most `maxChars` (longer ones cut at spaces). Stand-in for src/text/sentences.ts. */
export function localSplit(text: string, maxChars: number): string[] {
  const out: string[] = [];
  for (const s of text.replace(/\s+/g, ' ').trim().split(/(?<=[.!?])\s+/)) {
    let cur = '';
    for (const w of s.split(' ')) {
      if (cur && cur.length + 1 + w.length > maxChars) {
        out.push(cur);
        cur = w;
      } else cur = cur ? `${cur} ${w}` : w;
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** Speaks `text` piece by piece; UserError when no piece has anything to speak. */
export async function* speakPieces(lm: SpeakingModel, text: string, p: SynthesisParams, iters: number, maxChars = 300): AsyncGenerator<SpokenPiece> {
  if (!(Number.isInteger(p.steps) && p.steps >= 0)) throw new UserError(`synthesize: steps ${p.steps} (expected an integer ≥ 0; 0 = the encoder's prior alone)`);
  const pieces = localSplit(text, maxChars)
    .map((t) => ({ text: t, ...textToIds(t, lm.textConfig) }))
    .filter((q) => q.ids.length > 0);
  if (pieces.length === 0) throw new UserError(`text ${JSON.stringify(text.slice(0, 40))}: nothing to speak after cleaning`);
  const rate = lm.melConfig.sampleRate;
  for (const [k, q] of pieces.entries()) {
    const seed = (p.seed + k * 1000003) >>> 0;
    const mel = p.steps === 0
      ? await lm.model.prior(q.ids, p.lengthScale)
      : await lm.model.synthesize(q.ids, { steps: p.steps, temperature: p.temperature, lengthScale: p.lengthScale, stochastic: p.stochastic, rng: new Rng(seed) });
    const wav = griffinLim(mel, { iters, cfg: lm.melConfig, seed });
    let peak = 0;
    for (const v of wav) peak = Math.max(peak, Math.abs(v));
    if (peak > 0.95) for (let i = 0; i < wav.length; i++) wav[i] = (wav[i]! * 0.95) / peak;
    const pause = k === pieces.length - 1 ? 0 : Math.round(SENTENCE_PAUSE_SEC * rate);
    const samples = new Float32Array(wav.length + pause);
    samples.set(wav);
    yield { index: k, count: pieces.length, text: q.text, samples, unknown: q.unknown, mel };
  }
}
