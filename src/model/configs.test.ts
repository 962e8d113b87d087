import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import { MODEL_CONFIGS, fixLen, validateModelConfig, type ModelConfig } from './configs.js';

test('shipped configs are valid; full carries Grad-TTS’s published hyper-parameters', () => {
  for (const cfg of Object.values(MODEL_CONFIGS)) validateModelConfig(cfg);
  const f = MODEL_CONFIGS.full;
  assert.deepEqual(
    [
      f.encoder.channels,
      f.encoder.filterChannels,
      f.encoder.layers,
      f.encoder.heads,
      f.encoder.kernel,
      f.encoder.dropout,
      f.durationPredictor.channels,
    ],
    [192, 768, 6, 2, 3, 0.1, 256],
  );
  assert.deepEqual(
    [f.decoder.dim, f.decoder.mults, f.decoder.groups, f.segmentFrames, f.beta0, f.beta1],
    [64, [1, 2, 4], 8, 172, 0.05, 20],
  );
  assert.deepEqual(f.training, { batchSize: 16, lr: 1e-4, gradClip: 1 });
});

test('fixLen pads frames to a multiple of 2^(levels − 1)', () => {
  const cfg = MODEL_CONFIGS.tiny;
  assert.deepEqual(
    [1, 4, 5, 172, 173].map((n) => fixLen(n, cfg)),
    [4, 4, 8, 172, 176],
  );
});

test('invalid configs are one-line UserErrors naming the field', () => {
  const bad = (patch: (c: ModelConfig) => void, field: RegExp) => {
    const c = structuredClone(MODEL_CONFIGS.tiny);
    patch(c);
    assert.throws(
      () => validateModelConfig(c, 'recipe.json: model'),
      (e: unknown) => e instanceof UserError && field.test(e.message) && !e.message.includes('\n'),
    );
  };
  bad((c) => (c.decoder.groups = 3), /decoder\.groups 3/);
  bad((c) => (c.encoder.heads = 3), /encoder\.channels 64 \/ encoder\.heads 3/);
  bad((c) => (c.nFeats = 82), /nFeats 82 must be divisible by 4/);
  bad((c) => (c.encoder.dropout = 1), /encoder\.dropout/);
  bad((c) => (c.segmentFrames = 0), /segmentFrames/);
  bad((c) => (c.decoder.mults = []), /decoder\.mults/);
});
