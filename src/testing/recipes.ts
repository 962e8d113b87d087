/** Recipe pieces shared by tests. */
import { writeFileSync } from 'node:fs';

/** The `model` section of a recipe for the smallest GradTTS that trains end to end (a few seconds on wasm). */
export const MICRO_MODEL = {
  base: 'tiny',
  encoder: { channels: 8, filterChannels: 16, layers: 1, heads: 2, prenetLayers: 1 },
  durationPredictor: { channels: 8 },
  decoder: { dim: 4, groups: 2 },
  segmentFrames: 16,
};

/** Writes a characters-mode, L2 recipe for MICRO_MODEL with the given `train` (and other) sections to `path`. */
export function writeMicroRecipe(path: string, train: Record<string, unknown>, more: Record<string, unknown> = {}): string {
  writeFileSync(path, JSON.stringify({ model: MICRO_MODEL, loss: { type: 'l2' }, data: { textMode: 'characters' }, train, ...more }));
  return path;
}
