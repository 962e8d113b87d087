import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, repoRoot } from '../testing/paths.js';
import { writeToyExperiment } from '../testing/toy-experiment.js';
import { modelBase, parseRecipe } from '../train/recipe.js';
import { loadExperimentRecipe, runRecipeJson } from './recipe.js';
import { readSentences } from '../eval/sentences.js';

test('shipped experiment recipes load, and every run recipe they produce is a valid training recipe', () => {
  // the fine-tuning protocol runs the grid that fits this 2-core machine in an hour: the clean and the largest fraction, L2 and the two scheduled variants
  const full = { fractions: [0, 0.15, 0.3, 0.45], losses: ['l2', 'phuber-const', 'phuber-exp', 'phuber-snr'] };
  const grids: Record<string, typeof full> = {
    'corruption-allison-mini.json': full,
    'corruption-allison-finetune.json': { fractions: [0, 0.45], losses: ['l2', 'phuber-exp', 'phuber-snr'] },
    'corruption-ljspeech.json': full,
  };
  for (const [name, grid] of Object.entries(grids)) {
    const path = join(repoRoot, 'recipes', name);
    const r = loadExperimentRecipe(path);
    assert.deepEqual(r.fractions, grid.fractions, name);
    assert.deepEqual(
      r.losses.map((l) => l.name),
      grid.losses,
      name,
    );
    // loadExperimentRecipe checked every run recipe; they all train a shipped model size
    for (const l of r.losses) assert.ok(['tiny', 'small', 'full'].includes(modelBase(parseRecipe(runRecipeJson(r, l, 0), path))), name);
  }
  const mini = loadExperimentRecipe(join(repoRoot, 'recipes', 'corruption-allison-mini.json'));
  assert.ok(existsSync(join(mini.corpus, 'metadata.csv')), 'allison-mini ships with the repo');
  assert.ok(existsSync(join(String(mini.corruption.options.donor), 'metadata.csv')), 'its donor corpus ships too');
});

test('the fine-tuning protocol: a base checkpoint, a target corpus, a donor voice and unseen sentences, all resolved against the recipe file', () => {
  const r = loadExperimentRecipe(join(repoRoot, 'recipes', 'corruption-allison-finetune.json'));
  assert.equal(r.init, join(repoRoot, 'pretrained', 'allison-tiny'));
  assert.equal(r.corpus, join(repoRoot, 'datasets', 'allison-mini-slthts'));
  assert.equal(r.corruption.options.donor, join(repoRoot, 'datasets', 'allison-mini-rms'));
  for (const dir of [r.corpus, String(r.corruption.options.donor)])
    assert.ok(existsSync(join(dir, 'metadata.csv')), `${dir} ships with the repo`);
  assert.ok(r.evaluate.unseen && existsSync(r.evaluate.unseen));
  assert.ok(r.seeds.length >= 3);
  assert.equal(r.analysis.primaryMetric, 'speakerDist');
  const scratch = loadExperimentRecipe(join(repoRoot, 'recipes', 'corruption-allison-mini.json'));
  assert.equal(scratch.init, undefined, 'the from-scratch protocol has no init');
  assert.equal(scratch.evaluate.maxUtterances, 0, 'the whole test split');
});

test('unseen sentences are new: none is an Allison transcript', () => {
  const unseen = readSentences(join(repoRoot, 'datasets', 'sentences', 'unseen.txt'));
  assert.ok(unseen.length >= 30);
  const norm = (t: string) =>
    t
      .toLowerCase()
      .replace(/[^a-z0-9 ]/g, '')
      .trim();
  const known = new Set(
    readFileSync(join(repoRoot, 'datasets', 'allison-mini', 'metadata.csv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => norm(l.split('|')[1]!)),
  );
  for (const s of unseen) assert.ok(!known.has(norm(s)), s);
});

test('difftts experiment: a typo in a loss exits 2 with one line naming the field, before anything is written under --out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-exp-typo-'));
  const recipe = writeToyExperiment(dir, {
    losses: [
      { name: 'l2', loss: { type: 'l2' } },
      { name: 'ph', loss: { type: 'pseudo-huber', shedule: 'snr' } },
    ],
  });
  const out = join(dir, 'out');
  const r = spawnSync(process.execPath, [cliPath, '--backend', 'cpu', 'experiment', '--recipe', recipe, '--out', out], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('difftts: using backend'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /exp\.json: losses\[1\] \("ph"\) over .*base\.json: loss: unknown key 'shedule' \(valid: type, schedule, c, scale, reversed, deltaPer, tPer, scope, tMax\)$/,
  );
  assert.equal(existsSync(out), false, 'nothing written under --out');
  // the same for an unknown training override
  mkdirSync(join(dir, 'b'));
  const bad = writeToyExperiment(join(dir, 'b'), { train: { recipe: 'base.json', overrides: { train: { stepz: 3 } } } });
  const r2 = spawnSync(process.execPath, [cliPath, '--backend', 'cpu', 'experiment', '--recipe', bad, '--out', out], { encoding: 'utf8' });
  assert.equal(r2.status, 2, r2.stderr);
  assert.match(r2.stderr, /exp\.json: train\.overrides over .*base\.json: train: unknown key 'stepz'/);
  assert.equal(existsSync(out), false);
});

test('evaluate.speaker: a multi-speaker experiment evaluates and samples as that speaker (--speaker); absent, no flag', async () => {
  const { ExperimentRecipeSchema } = await import('./recipe.js');
  const { speakerArgs } = await import('./runner.js');
  const base = { corpus: 'c', corruption: { mode: 'noise' }, train: { recipe: 'r.json' } };
  const multi = ExperimentRecipeSchema.parse({ ...base, evaluate: { speaker: 'rms' } });
  assert.deepEqual(speakerArgs(multi), ['--speaker', 'rms']);
  assert.deepEqual(speakerArgs(ExperimentRecipeSchema.parse(base)), []);
  assert.equal(ExperimentRecipeSchema.safeParse({ ...base, evaluate: { speaker: '' } }).success, false);
});
