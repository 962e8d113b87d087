/**
 * A checkpoint → a model ready to speak: the GradTTS weights (the moving average when the run kept
 * one), the text and mel configs it was trained with, and its recipe's synthesis defaults.
 */
import { join } from 'node:path';
import type { MelConfig } from '../audio/mel.js';
import { GradTTS } from '../model/index.js';
import type { TextConfig } from '../text/index.js';
import { assignWeights, openCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';
import { voiceSettings, type SynthDefaults } from '../train/checkpoint-format.js';

export interface LoadedModel {
  model: GradTTS;
  textConfig: TextConfig;
  melConfig: MelConfig;
  /** The recipe's synth defaults. */
  synth: SynthDefaults;
  /** The voice's speakers: one name per embedding row, or its single speaker's name, or [] (unnamed). */
  speakers: string[];
  checkpoint: LoadedCheckpoint;
}

/**
 * A run directory (its newest loadable checkpoint) or a checkpoint directory → a ready model.
 * `notice` receives the checkpoints skipped on the way (default: stderr).
 */
export function loadModel(path: string, notice: (msg: string) => void = (m) => process.stderr.write(`difftts: ${m}\n`)): LoadedModel {
  return modelFromCheckpoint(openCheckpoint(path, notice));
}

/** An opened checkpoint (openCheckpoint) → a ready model, as loadModel. */
export function modelFromCheckpoint(ckpt: LoadedCheckpoint): LoadedModel {
  const v = voiceSettings(ckpt.meta, join(ckpt.dir, 'state.json'));
  const model = GradTTS.create(v.config, v.nSymbols, 0);
  try {
    assignWeights(model.variables, ckpt, 'best');
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, textConfig: v.textConfig, melConfig: v.melConfig, synth: v.synth, speakers: v.speakers, checkpoint: ckpt };
}
