/**
 * A checkpoint → a model ready to speak: the GradTTS weights (the moving average when the run kept
 * one), the text and mel configs it was trained with, and its recipe's synthesis defaults.
 */
import { join } from 'node:path';
import { DEFAULT_MEL, type MelConfig } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { GradTTS, MODEL_CONFIGS, type ModelConfig } from '../model/index.js';
import type { TextConfig } from '../text/index.js';
import { assignWeights, openCheckpoint, type LoadedCheckpoint } from '../train/checkpoint.js';

/** Synthesis defaults when a recipe has no synth section. */
export const SYNTH_DEFAULTS = { steps: 10, temperature: 1.5, lengthScale: 1 } as const;

export interface LoadedModel {
  model: GradTTS;
  textConfig: TextConfig;
  melConfig: MelConfig;
  /** The recipe's synth defaults (steps, temperature, lengthScale). */
  synth: { steps: number; temperature: number; lengthScale: number };
  checkpoint: LoadedCheckpoint;
}

/**
 * A run directory (its newest loadable checkpoint) or a checkpoint directory → a ready model.
 * `notice` receives the checkpoints skipped on the way (default: stderr).
 */
export function loadModel(path: string, notice: (msg: string) => void = (m) => process.stderr.write(`difftts: ${m}\n`)): LoadedModel {
  const ckpt = openCheckpoint(path, notice);
  const where = join(ckpt.dir, 'state.json');
  const m = ckpt.meta;
  if (m.model?.kind !== 'gradtts' || typeof m.nSymbols !== 'number' || !m.textConfig) {
    throw new UserError(`${where}: not a GradTTS checkpoint (model kind '${m.model?.kind}')`);
  }
  const model = GradTTS.create(withDefaults(m.model.config as ModelConfig), m.nSymbols, 0);
  try {
    assignWeights(model.variables, ckpt, 'best');
  } catch (err) {
    model.dispose();
    throw err;
  }
  const recipeSynth = (m.recipe as { synth?: Partial<LoadedModel['synth']> } | null)?.synth ?? {};
  return {
    model,
    textConfig: m.textConfig as TextConfig,
    melConfig: (m.melConfig as MelConfig | null) ?? DEFAULT_MEL,
    synth: { steps: recipeSynth.steps ?? SYNTH_DEFAULTS.steps, temperature: recipeSynth.temperature ?? SYNTH_DEFAULTS.temperature, lengthScale: recipeSynth.lengthScale ?? SYNTH_DEFAULTS.lengthScale },
    checkpoint: ckpt,
  };
}

/** A stored model config with fields added since it was written filled from today's named config. */
function withDefaults(stored: ModelConfig): ModelConfig {
  const base = (MODEL_CONFIGS as Record<string, ModelConfig>)[stored.name];
  if (!base) return stored;
  const merge = (d: any, v: any): any =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && d !== null && typeof d === 'object' && !Array.isArray(d)
      ? Object.fromEntries([...new Set([...Object.keys(d), ...Object.keys(v)])].map((k) => [k, k in v ? merge(d[k], v[k]) : d[k]]))
      : v;
  return merge(base, stored) as ModelConfig;
}
