/**
 * A minute-long corruption experiment for end-to-end tests: 16 real clips of datasets/allison-mini,
 * a shrunken tiny model trained for two steps, fractions 0 and 0.5 of white-noise corruption.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

export const TOY_LOSSES = [
  { name: 'l2', loss: { type: 'l2' } },
  { name: 'phuber-exp', loss: { type: 'pseudo-huber', schedule: 'exponential', c: 0.1 } },
];

/** Writes DIR/corpus, DIR/base.json and DIR/exp.json (with `fields` merged over the toy recipe); returns exp.json's path. */
export function writeToyExperiment(dir: string, fields: Record<string, unknown> = {}): string {
  const src = join(repoRoot, 'datasets', 'allison-mini');
  const corpus = join(dir, 'corpus');
  mkdirSync(join(corpus, 'wavs'), { recursive: true });
  const rows = readFileSync(join(src, 'metadata.csv'), 'utf8').trim().split('\n').slice(0, 16);
  writeFileSync(join(corpus, 'metadata.csv'), rows.join('\n') + '\n');
  for (const r of rows) copyFileSync(join(src, 'wavs', `${r.split('|')[0]}.wav`), join(corpus, 'wavs', `${r.split('|')[0]}.wav`));
  const base = {
    model: {
      base: 'tiny',
      encoder: { channels: 16, filterChannels: 32, layers: 1, heads: 2 },
      decoder: { dim: 8, mults: [1, 2], groups: 4, peScale: 1000 },
      segmentFrames: 32,
    },
    loss: { type: 'l2' },
    train: { steps: 2, batchSize: 2, lr: 0.001, checkpointEvery: 2, keepCheckpoints: 1, pngEvery: 0, logEvery: 1 },
    synth: { steps: 2, temperature: 1.5, lengthScale: 1 },
  };
  writeFileSync(join(dir, 'base.json'), JSON.stringify(base));
  const recipe = {
    name: 'toy',
    corpus: 'corpus',
    corruption: { mode: 'noise', options: { snr: 0, noise: 'white' } },
    fractions: [0, 0.5],
    losses: TOY_LOSSES,
    seeds: [0],
    train: { recipe: 'base.json' },
    evaluate: { split: 'test', steps: 2, maxUtterances: 1 },
    sampleText: 'Hello.',
    jobs: 2,
    ...fields,
  };
  const path = join(dir, 'exp.json');
  writeFileSync(path, JSON.stringify(recipe));
  return path;
}
