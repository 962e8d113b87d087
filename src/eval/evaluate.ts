/**
 * All reference-based metrics of one generated utterance against a recording of the same text,
 * and their aggregation over utterances or seeds.
 */
import type { Mel } from '../audio/mel.js';
import { compareF0 } from './f0compare.js';
import { mcd as mcdOf } from './mcd.js';
import { mcepAlpha, melCepstrum, type McepOptions, type MelCepstra } from './mcep.js';
import { spread, type Spread } from './resilience.js';
import { speakerDistance, speakerStats, type SpeakerStats } from './speaker.js';
import { scoreUtterance, utteranceNaturalness, type NaturalnessRef } from './naturalness.js';
import { lsdAligned, meanMelCosine, melStatsCosine } from './spectral.js';
import { medianF0, voicedFraction, yin, type YinOptions } from './yin.js';

export interface Utterance {
  /** Mono waveform in [-1, 1] at the evaluation sample rate. */
  wav: Float32Array;
  /** Natural-log mel [nMels, frames] of the same audio (e.g. `logMel(wav)`). */
  mel: Mel;
  /** SPTK mel-cepstra of the same audio (computed from `wav` when absent). */
  mcep?: MelCepstra;
}

export interface PairMetrics {
  /** MCD-DTW over SPTK mel-cepstra c̃(1…24), dB (mcd.ts). */
  mcd: number;
  /** Speaker distance of the generated utterance to the target speaker's reference set, dB (speaker.ts); NaN without one. */
  speakerDist: number;
  lsd: number;
  /** log-F0 RMSE in cents over DTW pairs voiced in both. */
  f0Rmse: number;
  vde: number;
  gpe: number;
  /** Cosine similarity of centred mean log-mel vectors. */
  melCosine: number;
  melStatsCosine: number;
  /** Naturalness of the generated utterance against the target's recordings (naturalness.ts); NaN without them. */
  gvDb: number;
  melDist: number;
  mcepFd: number;
  /** Diagnostics (not oriented metrics). */
  genF0Median: number;
  refF0Median: number;
  genVoiced: number;
  refVoiced: number;
  genFrames: number;
  refFrames: number;
  pathLength: number;
}

export interface EvaluateOptions {
  /** Mel-cepstral analysis for MCD and the speaker distance (defaults: order 24, α = mcepAlpha(sampleRate)). */
  mcep?: McepOptions;
  /** The target speaker's reference statistics, for `speakerDist`. */
  speaker?: SpeakerStats;
  /** The target's recordings' statistics, for `gvDb`, `melDist` and `mcepFd` (naturalness.ts). */
  naturalness?: NaturalnessRef;
  /** YIN settings; frameLength/hop should match the mel's nFft/hop (defaults 1024/256). */
  yin?: YinOptions;
}

/** Mel-cepstra of an utterance (its own when given) with the evaluation's analysis settings. */
export function utteranceMcep(u: Utterance, sampleRate: number, opts: EvaluateOptions = {}): MelCepstra {
  return u.mcep ?? melCepstrum(u.wav, { alpha: mcepAlpha(sampleRate), ...opts.mcep });
}

/**
 * Every metric for one utterance. The MCD DTW path (mel-cepstrum frames, centred at t·hop) is reused
 * for LSD and for the F0 comparison on mel/YIN frames of the same hop (centred half a hop later:
 * 5.8 ms at 22.05 kHz, well inside a frame); path pairs beyond either sequence's length are dropped.
 *
 * Generated speech is Griffin-Lim audio; Griffin-Lim alone already costs (Allison clip vs its own GL
 * resynthesis, 32 iterations): MCD 4.3–5.1 dB (test/fixtures/sptk/sptk-reference.json); on the LibriVox
 * fixtures LSD 1.1–1.2 dB, F0 RMSE 14–16 cents, VDE 0.17–0.33 (GL phase makes YIN call fewer frames
 * voiced). To measure the acoustic model rather than the vocoder, pass references resynthesised
 * through the same Griffin-Lim as `ref`.
 */
export function evaluatePair(gen: Utterance, ref: Utterance, sampleRate: number, opts: EvaluateOptions = {}): PairMetrics {
  const gm = utteranceMcep(gen, sampleRate, opts);
  const { mcd, alignment } = mcdOf(gm, utteranceMcep(ref, sampleRate, opts));
  const tg = yin(gen.wav, sampleRate, opts.yin);
  const tr = yin(ref.wav, sampleRate, opts.yin);
  const pairs = alignment.path.filter(([i, j]) => i < tg.f0.length && j < tr.f0.length);
  const f0 = compareF0(tg, tr, pairs);
  const melPairs = alignment.path.filter(([i, j]) => i < gen.mel.frames && j < ref.mel.frames);
  const nat = opts.naturalness ? utteranceNaturalness(gen.mel, gm) : null;
  const natScores = nat && opts.naturalness ? scoreUtterance(nat, opts.naturalness) : { gvDb: NaN, melDist: NaN, mcepFd: NaN };
  return {
    mcd,
    speakerDist: opts.speaker ? speakerDistance(speakerStats([gm]), opts.speaker) : NaN,
    lsd: lsdAligned(gen.mel, ref.mel, melPairs),
    f0Rmse: f0.f0RmseCents,
    vde: f0.vde,
    gpe: f0.gpe,
    melCosine: meanMelCosine(gen.mel, ref.mel),
    melStatsCosine: melStatsCosine(gen.mel, ref.mel),
    ...natScores,
    genF0Median: medianF0(tg),
    refF0Median: medianF0(tr),
    genVoiced: voicedFraction(tg),
    refVoiced: voicedFraction(tr),
    genFrames: gen.mel.frames,
    refFrames: ref.mel.frames,
    pathLength: alignment.path.length,
  };
}

/**
 * Spread (mean, std, min, max, n) of every numeric field over rows; non-finite values (e.g. an
 * F0 RMSE with no frame voiced in both) are left out of that field's statistics.
 */
export function aggregate<T extends object>(rows: readonly T[]): Record<string, Spread> {
  const keys = new Set<string>();
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v === 'number') keys.add(k);
  const out: Record<string, Spread> = {};
  for (const k of keys)
    out[k] = spread(rows.map((r) => (r as Record<string, unknown>)[k]).filter((v): v is number => typeof v === 'number'));
  return out;
}
