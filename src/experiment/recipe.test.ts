import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readJsonFile } from '../util/schema.js';
import { parseRecipe } from '../train/recipe.js';
import { parseLossConfig } from '../loss/index.js';
import { loadExperimentRecipe } from './recipe.js';
import { deepMerge } from './plan.js';

test('shipped experiment recipes load, and every run recipe they produce is a valid training recipe', () => {
  for (const name of ['corruption-allison-mini.json', 'corruption-ljspeech.json']) {
    const path = join(repoRoot, 'recipes', name);
    const r = loadExperimentRecipe(path);
    assert.deepEqual(r.fractions, [0, 0.15, 0.3, 0.45]);
    assert.deepEqual(r.losses.map((l) => l.name), ['l2', 'phuber-const', 'phuber-exp', 'phuber-snr']);
    const base = readJsonFile(r.train.recipe);
    for (const l of r.losses) {
      parseLossConfig(l.loss, path);
      parseRecipe(deepMerge(deepMerge(base, r.train.overrides), { loss: l.loss }), path);
    }
  }
  const mini = loadExperimentRecipe(join(repoRoot, 'recipes', 'corruption-allison-mini.json'));
  assert.ok(existsSync(join(mini.corpus, 'metadata.csv')), 'allison-mini ships with the repo');
  assert.ok(existsSync(join(String(mini.corruption.options.donor), 'metadata.csv')), 'its donor corpus ships too');
});
