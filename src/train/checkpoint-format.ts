/**
 * The parts of reading a checkpoint (or an exported voice) that need no file system: checking
 * state.json, cutting weights.bin into named tensors against its index, copying them into a model's
 * variables, and the synthesis settings a voice carries. checkpoint.ts reads the files with node:fs
 * and the page (src/web/voice.ts) fetches them; both go through these functions, so a voice is
 * judged the same way in Node and in a browser. Paths here are only used in messages.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MEL, type MelConfig } from '../audio/mel.js';
import { UserError } from '../errors.js';
import { mergeJson } from '../util/schema.js';
import { MODEL_CONFIGS, type ModelConfig } from '../model/configs.js';
import type { TextConfig } from '../text/index.js';
import type { CheckpointMeta, LoadedCheckpoint } from './checkpoint.js';

export const CHECKPOINT_FORMAT = 'difftts-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** A named float32 tensor of a packed file (weights.bin, ema.bin, optimizer.bin). */
export interface PackedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** `a/b` without node:path (message text only). */
export function pathIn(dir: string, file: string): string {
  return dir.endsWith('/') ? dir + file : `${dir}/${file}`;
}

/**
 * state.json's parsed JSON → the checkpoint's meta and whether it is weights-only (an exported voice).
 * Throws a UserError naming `statePath` for another format or version.
 */
export function parseCheckpointState(state: any, statePath: string): { meta: CheckpointMeta; weightsOnly: boolean } {
  if (state?.format !== CHECKPOINT_FORMAT || typeof state.step !== 'number') {
    throw new UserError(`${statePath}: not a difftts checkpoint (expected format "${CHECKPOINT_FORMAT}")`);
  }
  if (typeof state.version === 'number' && state.version > CHECKPOINT_VERSION) {
    throw new UserError(
      `${statePath}: written by a newer difftts (checkpoint version ${state.version}; this difftts reads version ${CHECKPOINT_VERSION}: update difftts)`,
    );
  }
  if (state.version !== CHECKPOINT_VERSION)
    throw new UserError(`${statePath}: checkpoint version ${JSON.stringify(state.version)}, this difftts reads ${CHECKPOINT_VERSION}`);
  const { format: _f, version: _v, weightsOnly, ...meta } = state;
  if (meta.loop && meta.loop.emaUpdates === undefined) meta.loop.emaUpdates = 0;
  return { meta: meta as CheckpointMeta, weightsOnly: weightsOnly === true };
}

/**
 * A packed file's bytes (float32 little-endian, one tensor after another) and its index JSON
 * ({entries: [{name, shape, offset, length}], bytes, sha256}) → the tensors, each with its own copy.
 * `sha256` is the hex digest of `bytes`, computed by the caller (node:crypto or SubtleCrypto).
 */
export function unpackTensors(bytes: Uint8Array, sha256: string, index: any, binPath: string, indexPath: string): PackedTensor[] {
  if (!index || !Array.isArray(index.entries) || typeof index.bytes !== 'number') {
    throw new UserError(`${indexPath}: expected {entries, bytes, sha256} (the checkpoint is damaged)`);
  }
  if (bytes.length < index.bytes) throw new UserError(`${binPath}: ${bytes.length} bytes, expected ${index.bytes} (truncated)`);
  if (bytes.length > index.bytes)
    throw new UserError(
      `${binPath}: ${bytes.length} bytes, expected ${index.bytes} (longer than its index says: the checkpoint is damaged)`,
    );
  if (sha256 !== index.sha256) throw new UserError(`${binPath}: checksum mismatch (the file is corrupted)`);
  // Float32Array is little-endian on every platform Node and the browsers run on.
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return index.entries.map((e: TensorEntry) => ({ name: e.name, shape: e.shape, data: all.slice(e.offset, e.offset + e.length) }));
}

/**
 * Copies checkpoint weights into live variables; names and shapes must match exactly. `source`
 * 'best' takes the moving average when the checkpoint has one (synthesis, --init).
 */
export function assignWeights(variables: Map<string, tf.Variable>, ckpt: LoadedCheckpoint, source: 'weights' | 'best' = 'weights'): void {
  const where = pathIn(ckpt.dir, 'weights.json');
  const weights = source === 'best' && ckpt.ema ? ckpt.ema : ckpt.weights;
  for (const [name, v] of variables) {
    const w = ckpt.weights.get(name);
    if (!w) throw new UserError(`${where}: no weights for '${name}' (the checkpoint is from another model config)`);
    if (w.shape.join('x') !== v.shape.join('x')) {
      throw new UserError(
        `${where}: '${name}' has shape [${w.shape}], the model expects [${v.shape}] (the checkpoint is from another model config)`,
      );
    }
  }
  if (ckpt.weights.size !== variables.size) {
    const extra = [...ckpt.weights.keys()].find((k) => !variables.has(k));
    throw new UserError(`${where}: unexpected weights '${extra}' (the checkpoint is from another model config)`);
  }
  const opt = ckpt.optimizer?.tensors ?? [];
  if (opt.length !== 0) {
    const names = [...variables.keys()];
    const ok =
      opt.length === 2 * names.length &&
      opt.every((t, i) => t.shape.join('x') === variables.get(names[i % names.length]!)!.shape.join('x'));
    if (!ok)
      throw new UserError(
        `${pathIn(ckpt.dir, 'optimizer.json')}: the optimizer state does not match the model's variables (the checkpoint is from another model config)`,
      );
  }
  tf.tidy(() => {
    for (const [name, v] of variables) {
      const w = weights.get(name)!;
      v.assign(tf.tensor(w.data, w.shape, 'float32'));
    }
  });
}

/** What a GradTTS checkpoint says about synthesis: the model to build and how to speak with it. */
export interface VoiceSettings {
  config: ModelConfig;
  nSymbols: number;
  textConfig: TextConfig;
  melConfig: MelConfig;
  /** The recipe's synth defaults. */
  synth: SynthDefaults;
  /** The name of each speaker embedding row, or the single speaker's name, or [] (unnamed; checkpoints from before speakers). */
  speakers: string[];
}

/** How a voice speaks unless told otherwise: the recipe's `synth` section (src/train/recipe.ts). */
export interface SynthDefaults {
  /** Reverse-diffusion (or flow) steps; 0 = the encoder's prior μ alone. */
  steps: number;
  /** Prior temperature τ (> 0). */
  temperature: number;
  /** Duration multiplier (> 1 slower). */
  lengthScale: number;
  /** Diffusion time the score sampler starts from, in (0, 1] (1 = Grad-TTS). */
  startTime: number;
}

/** Synthesis defaults for the fields a recipe does not set (recipes older than a field included). */
export const SYNTH_DEFAULTS: Readonly<SynthDefaults> = { steps: 10, temperature: 1.5, lengthScale: 1, startTime: 1 };

/** A GradTTS checkpoint's meta → its voice settings; UserError naming `statePath` for another model kind. */
export function voiceSettings(m: CheckpointMeta, statePath: string): VoiceSettings {
  if (m.model?.kind !== 'gradtts' || typeof m.nSymbols !== 'number' || !m.textConfig) {
    throw new UserError(`${statePath}: not a GradTTS checkpoint (model kind '${m.model?.kind}')`);
  }
  const recipeSynth = (m.recipe as { synth?: Partial<SynthDefaults> } | null)?.synth ?? {};
  const synth = { ...SYNTH_DEFAULTS };
  for (const k of Object.keys(SYNTH_DEFAULTS) as (keyof SynthDefaults)[]) if (typeof recipeSynth[k] === 'number') synth[k] = recipeSynth[k];
  return {
    config: withDefaults(m.model.config as ModelConfig),
    nSymbols: m.nSymbols,
    textConfig: m.textConfig as TextConfig,
    melConfig: (m.melConfig as MelConfig | null) ?? DEFAULT_MEL,
    synth,
    speakers: checkedSpeakers(m, statePath),
  };
}

/**
 * state.json's speaker names, checked against its model: one per embedding row (nSpeakers > 1), at
 * most one for a single-speaker model; absent (checkpoints from before speakers) = [].
 */
function checkedSpeakers(m: CheckpointMeta, statePath: string): string[] {
  const names = m.speakers ?? [];
  const n = (m.model.config as ModelConfig).nSpeakers ?? 1;
  const ok =
    Array.isArray(names) &&
    names.every((s) => typeof s === 'string') &&
    new Set(names).size === names.length &&
    (n > 1 ? names.length === n : names.length <= 1);
  if (!ok)
    throw new UserError(
      `${statePath}: speakers ${JSON.stringify(names)} do not fit the model's ${n} speaker${n === 1 ? '' : 's'} (expected ${n > 1 ? `${n} distinct names` : 'at most one name'}; the checkpoint is damaged)`,
    );
  return names;
}

/** A stored model config with fields added since it was written filled from today's named config. */
function withDefaults(stored: ModelConfig): ModelConfig {
  const base = (MODEL_CONFIGS as Record<string, ModelConfig>)[stored.name];
  return base ? (mergeJson(base, stored) as ModelConfig) : stored;
}
