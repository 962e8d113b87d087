/**
 * difftts as a library (package.json `exports`: `import { loadVoice } from 'difftts'`).
 *
 *   const voice = await loadVoice('allison-enc128-shallow');  // a shipped voice, or a run/checkpoint directory
 *   const audio = await voice.synthesize('Hello there.', { seed: 1 });  // { sampleRate, samples: Float32Array }
 *   writeFileSync('hello.wav', encodeWav(audio));
 *   // a multi-speaker voice: voice.speakers lists its names; voice.synthesize(text, { speaker: 'rms' })
 *
 * Training and evaluation load their modules on first use, so speaking does not pay for them.
 */
import { encodeWav as encodeWavSamples } from './audio/wav.js';
import type { TrainRunOptions, TrainRunResult } from './train/run.js';
import type { EvaluateRunOptions, EvalResult } from './eval/evaluate-run.js';
import type { Audio } from './synthesis/voice.js';

export { loadVoice, Voice, type Audio, type AudioPiece, type SynthesizeOptions, type LoadVoiceOptions } from './synthesis/voice.js';
export { listVoices, DEFAULT_VOICE } from './synthesis/voices.js';
export { MAX_PIECE_CHARS } from './synthesis/speak.js';
export { splitSentences } from './text/sentences.js';
export { cleanText, textToIds, type TextConfig } from './text/index.js';
export { decodeWav, readWav, type WavAudio } from './audio/wav.js';
export { initBackend, BACKEND_NAMES, type BackendName, type BackendChoice } from './backend/index.js';
export { UserError, WriteError } from './errors.js';
export type { TrainRunOptions, TrainRunResult, EvaluateRunOptions, EvalResult };

/** Audio → the bytes of a mono WAV file (16-bit PCM, or 32-bit float). */
export function encodeWav(audio: Audio, encoding: 'pcm16' | 'float32' = 'pcm16'): Uint8Array {
  return encodeWavSamples(audio.samples, audio.sampleRate, encoding);
}

/** `difftts train`: trains (or resumes) a run directory from a recipe file. */
export async function train(opts: TrainRunOptions): Promise<TrainRunResult> {
  const { runTraining } = await import('./train/run.js');
  return runTraining(opts);
}

/** `difftts evaluate`: synthesizes a corpus split with a checkpoint and scores it (eval.json in opts.out). */
export async function evaluate(opts: EvaluateRunOptions): Promise<EvalResult> {
  const { evaluateRun } = await import('./eval/evaluate-run.js');
  return evaluateRun(opts);
}
