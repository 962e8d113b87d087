/**
 * Intelligibility of synthesized speech without reference recordings: speak each sentence with
 * a loaded model, recognise it with pocketsphinx and score the words against the text.
 *
 * The corpus WER is Σ(substitutions + deletions + insertions) / Σ reference words — the figure
 * speech papers report — not the mean of per-sentence rates, which short prompts would dominate.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeWav } from '../audio/wav.js';
import type { LoadedModel } from '../synthesis/model.js';
import { speakText } from '../synthesis/speak.js';
import { recognize, wordErrorRate, type WerResult } from './wer.js';

export interface SentenceWer extends WerResult {
  text: string;
  hypothesis: string;
  wav: string;
}

/** Σ errors / Σ reference words over scored sentences (null when none). */
export function corpusWer(rows: readonly WerResult[]): number | null {
  const words = rows.reduce((s, r) => s + r.refWords, 0);
  if (rows.length === 0 || words === 0) return null;
  return rows.reduce((s, r) => s + r.substitutions + r.deletions + r.insertions, 0) / words;
}

/** Recognises `wav` and scores it against `text`; null when pocketsphinx is not installed. */
export async function scoreWav(text: string, wav: string): Promise<SentenceWer | null> {
  const hypothesis = await recognize(wav, { quiet: true });
  return hypothesis === null ? null : { text, hypothesis, wav, ...wordErrorRate(text, hypothesis) };
}

export interface SpeakOptions {
  /** Reverse-diffusion steps; 0 = the encoder's prior μ alone (src/synthesis/speak.ts). */
  steps: number;
  temperature?: number;
  /** Duration scale (default: the model's recipe). */
  lengthScale?: number;
  /** Reverse SDE instead of the probability-flow ODE (default false). */
  stochastic?: boolean;
  /** Shallow diffusion's start time t₀ (default 1). */
  startTime?: number;
  seed: number;
  /** The speaker, by name: required by a multi-speaker voice (src/synthesis/speak.ts speakerRow). */
  speaker?: string;
  /** Griffin-Lim iterations. */
  iters: number;
  /** Where the WAVs go (NNN.wav, in sentence order). */
  outDir: string;
}

/**
 * Speaks every text with `lm` (the sentence's seed is seed + index), writes OUT/NNN.wav and
 * scores it. Returns null when pocketsphinx is not installed.
 */
export async function speakAndScore(
  lm: LoadedModel,
  texts: readonly string[],
  o: SpeakOptions,
): Promise<{ corpusWer: number | null; rows: SentenceWer[] } | null> {
  mkdirSync(o.outDir, { recursive: true });
  const rows: SentenceWer[] = [];
  for (const [i, text] of texts.entries()) {
    const lengthScale = o.lengthScale ?? lm.synth.lengthScale;
    const { samples } = await speakText(
      lm,
      text,
      {
        steps: o.steps,
        temperature: o.temperature ?? lm.synth.temperature,
        lengthScale,
        stochastic: o.stochastic ?? false,
        startTime: o.startTime ?? lm.synth.startTime,
        seed: o.seed + i,
        speaker: o.speaker,
      },
      o.iters,
    );
    const wav = join(o.outDir, `${String(i + 1).padStart(3, '0')}.wav`);
    writeWav(wav, samples, lm.melConfig.sampleRate, 'pcm16');
    const r = await scoreWav(text, wav);
    if (r === null) return null;
    rows.push(r);
  }
  return { corpusWer: corpusWer(rows), rows };
}
