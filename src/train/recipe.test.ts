import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { repoRoot } from '../testing/paths.js';
import { loadRecipeFile, mergeChecked, parseRecipe } from './recipe.js';
import { applyOverrides, parseOverrideArgs } from './overrides.js';
import { resolveRecipe } from './run.js';

const userError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message) && !err.message.includes('\n');

test('recipe: defaults are filled (clipping on, l2 loss)', () => {
  const r = parseRecipe({}, 'x.json');
  assert.equal(r.model, 'tiny');
  assert.equal(r.train.gradClip, 1);
  assert.equal(r.train.maxBadSteps, 5);
  assert.equal(r.train.divergeFactor, undefined);
  assert.deepEqual(r.loss, { type: 'l2' });
  assert.equal(r.data.textMode, 'phonemes');
  assert.equal(r.synth.temperature, 1.5);
});

test('recipe: wrong type names the file and field path with what was expected and what came', () => {
  assert.throws(() => parseRecipe({ train: { lr: 'fast' } }, 'recipes/x.json'), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, 'recipes/x.json: train.lr: expected a number > 0, got "fast"');
    return true;
  });
  assert.throws(() => parseRecipe({ train: { lr: -1 } }, 'r.json'), userError(/^r\.json: train\.lr: expected a number > 0, got -1$/));
  assert.throws(() => parseRecipe({ train: { batchSize: 2.5 } }, 'r.json'), userError(/train\.batchSize: expected an integer ≥ 1, got 2\.5/));
  assert.throws(() => parseRecipe({ data: { textMode: 'ipa' } }, 'r.json'), userError(/data\.textMode: expected one of "phonemes", "characters", got "ipa"/));
});

test('recipe: unknown keys are rejected with the valid ones listed', () => {
  assert.throws(() => parseRecipe({ train: { learningRate: 1 } }, 'r.json'), userError(/^r\.json: train: unknown key 'learningRate' \(valid: steps, batchSize, accumulate, workers, lr, gradClip, seed/));
  assert.throws(() => parseRecipe({ optimiser: {} }, 'r.json'), userError(/^r\.json: unknown key 'optimiser' \(valid: model, loss, data, train, synth\)/));
  assert.throws(() => parseRecipe({ model: 'huge' }, 'r.json'), userError(/^r\.json: model: expected one of "tiny", "small", "full", got "huge"/));
});

test('recipe: bad JSON and unreadable files are one-line UserErrors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"train": ');
  assert.throws(() => loadRecipeFile(bad), userError(/bad\.json: not valid JSON/));
  assert.throws(() => loadRecipeFile(join(dir, 'missing.json')), userError(/missing\.json: cannot read/));
});

test('recipe: every shipped recipe validates, loss included', () => {
  const dir = join(repoRoot, 'recipes');
  // corruption-*.json in the same folder are experiment recipes (src/experiment), not training ones.
  const files = ['tiny.json', 'tiny-phuber-exp.json', 'tiny-phuber-snr.json', 'small.json', 'full.json'];
  assert.ok(files.every((f) => readdirSync(dir).includes(f)));
  for (const f of files) {
    const { recipe, loss } = resolveRecipe(join(dir, f));
    assert.ok(['tiny', 'small', 'full'].includes(recipe.model as string), f);
    assert.ok(loss.type === 'l2' || loss.type.startsWith('pseudo-huber'), f);
  }
});

test('overrides: --a.b value pairs are typed and applied; unknown keys list the valid ones', () => {
  const ov = parseOverrideArgs(['--loss.type', 'pseudo-huber', '--loss.schedule=snr', '--train.batchSize', '4', '--data.addBlank', 'false']);
  assert.deepEqual(
    ov.map((o) => [o.path.join('.'), o.value]),
    [
      ['loss.type', 'pseudo-huber'],
      ['loss.schedule', 'snr'],
      ['train.batchSize', 4],
      ['data.addBlank', false],
    ],
  );
  const lossKeys = ['type', 'schedule', 'c'];
  const out = applyOverrides({ model: 'tiny', loss: { type: 'l2' } }, ov, lossKeys);
  assert.deepEqual(out.loss, { type: 'pseudo-huber', schedule: 'snr' });
  assert.equal((out.train as { batchSize: number }).batchSize, 4);
  assert.throws(() => applyOverrides({}, parseOverrideArgs(['--train.lrr', '1']), lossKeys), userError(/^--train\.lrr: unknown train field \(valid: steps, batchSize, accumulate, workers, lr,/));
  assert.throws(() => applyOverrides({}, parseOverrideArgs(['--loss.delta', '1']), lossKeys), userError(/^--loss\.delta: unknown loss field \(valid: type, schedule, c\)/));
  assert.throws(() => applyOverrides({}, parseOverrideArgs(['--optim.lr', '1']), lossKeys), userError(/unknown recipe section 'optim'/));
  assert.throws(() => parseOverrideArgs(['stray']), userError(/unexpected argument 'stray'/));
  assert.throws(() => parseOverrideArgs(['--train.lr']), userError(/--train\.lr: expected a value/));
  // a model override turns the name into {"base": name, ...}
  const m = applyOverrides({ model: 'tiny' }, parseOverrideArgs(['--model.decoder.dim', '8']), lossKeys);
  assert.deepEqual(m.model, { base: 'tiny', decoder: { dim: 8 } });
});

test('overrides: a bad override value is reported with the flags, file and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny', loss: { type: 'l2' } }));
  assert.throws(() => resolveRecipe(f, parseOverrideArgs(['--train.lr', 'fast'])), userError(/r\.json with --train\.lr: train\.lr: expected a number > 0, got "fast"/));
  assert.throws(() => resolveRecipe(f, parseOverrideArgs(['--loss.type', 'l3'])), userError(/r\.json with --loss\.type: loss\.type: expected one of/));
  const { recipe, loss } = resolveRecipe(f, parseOverrideArgs(['--loss.type', 'pseudo-huber', '--loss.schedule', 'snr', '--train.batchSize', '4']));
  assert.equal(loss.type, 'pseudo-huber');
  assert.equal(loss.schedule, 'snr');
  assert.equal(recipe.train.batchSize, 4);
});

test('train.workers: "auto" by default, an integer ≥ 1 or "auto" from the file or --train.workers, else one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny' }));
  assert.equal(resolveRecipe(f).recipe.train.workers, 'auto');
  assert.equal(resolveRecipe(f, parseOverrideArgs(['--train.workers', '3'])).recipe.train.workers, 3);
  assert.equal(resolveRecipe(f, parseOverrideArgs(['--train.workers', 'auto'])).recipe.train.workers, 'auto');
  assert.throws(() => resolveRecipe(f, parseOverrideArgs(['--train.workers', '0'])), userError(/train\.workers: expected an integer ≥ 1 or "auto"/));
  assert.throws(() => parseRecipe({ train: { workers: 'all' } }, 'r.json'), userError(/^r\.json: train\.workers: expected an integer ≥ 1 or "auto"/));
});

test('mergeChecked: model overrides must name existing keys with the same type', () => {
  const base = { decoder: { dim: 64, mults: [1, 2] }, beta0: 0.05 };
  assert.deepEqual(mergeChecked(base, { decoder: { dim: 8 } }, 'r.json: model'), { decoder: { dim: 8, mults: [1, 2] }, beta0: 0.05 });
  assert.throws(() => mergeChecked(base, { decoder: { dimm: 8 } }, 'r.json: model'), userError(/^r\.json: model\.decoder\.dimm: unknown key \(valid: dim, mults\)/));
  assert.throws(() => mergeChecked(base, { beta0: 'x' }, 'r.json: model'), userError(/^r\.json: model\.beta0: expected a number, got "x"/));
});

test('overrides: values are typed by the field they set', async () => {
  const { recipeLeafKind } = await import('./run.js');
  assert.deepEqual(['data.path', 'data.textMode', 'train.lr', 'data.addBlank', 'loss.type', 'loss.c', 'model.decoder.dim'].map((p) => recipeLeafKind(p.split('.'))), [
    'string', 'enum', 'number', 'boolean', 'enum', 'number', 'unknown',
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny', loss: { type: 'l2' } }));
  const { recipe, loss } = resolveRecipe(f, parseOverrideArgs(['--data.path', '123', '--train.steps', '1e3', '--data.addBlank', 'false', '--loss.c', '0.5', '--model.decoder.dim', '8']));
  assert.equal(recipe.data.path, '123');
  assert.equal(recipe.train.steps, 1000);
  assert.equal(recipe.data.addBlank, false);
  assert.equal(loss.c, 0.5);
  assert.deepEqual(recipe.model, { base: 'tiny', decoder: { dim: 8 } });
  assert.throws(() => resolveRecipe(f, parseOverrideArgs(['--data.addBlank', 'yes'])), userError(/data\.addBlank: expected true or false, got "yes"/));
});

test('recipe: train.freeze takes a list of model parts (default none)', () => {
  assert.deepEqual(parseRecipe({}, 'r.json').train.freeze, []);
  assert.deepEqual(parseRecipe({ train: { freeze: ['encoder', 'durationPredictor'] } }, 'r.json').train.freeze, ['encoder', 'durationPredictor']);
  assert.throws(() => parseRecipe({ train: { freeze: ['unet'] } }, 'r.json'), userError(/^r\.json: train\.freeze\.0: expected one of "encoder", "durationPredictor", "decoder", got "unet"$/));
  assert.throws(() => parseRecipe({ train: { freeze: 'encoder' } }, 'r.json'), userError(/^r\.json: train\.freeze: expected a list of/));
});
