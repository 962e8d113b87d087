import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { repoRoot } from '../testing/paths.js';
import { leafKind } from '../util/schema.js';
import { loadRecipeFile, mergeChecked, mergeRecipe, parseRecipe, RecipeSchema } from './recipe.js';
import { overridePatch, parseOverrideArgs } from './overrides.js';
import { resolveRecipe } from './run.js';

const userError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message) && !err.message.includes('\n');

test('recipe: defaults are filled (clipping on, l2 loss)', () => {
  const r = parseRecipe({}, 'x.json');
  assert.equal(r.model, 'tiny');
  assert.equal(r.train.gradClip, 1);
  assert.equal(r.train.maxBadSteps, 5);
  assert.equal(r.train.divergeFactor, undefined);
  assert.equal(r.loss.type, 'l2');
  assert.equal(r.data.textMode, 'phonemes');
  assert.equal(r.synth.temperature, 1.5);
});

test('recipe: wrong type names the file and field path with what was expected and what came', () => {
  assert.throws(
    () => parseRecipe({ train: { lr: 'fast' } }, 'recipes/x.json'),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, 'recipes/x.json: train.lr: expected a number > 0, got "fast"');
      return true;
    },
  );
  assert.throws(() => parseRecipe({ train: { lr: -1 } }, 'r.json'), userError(/^r\.json: train\.lr: expected a number > 0, got -1$/));
  assert.throws(
    () => parseRecipe({ train: { batchSize: 2.5 } }, 'r.json'),
    userError(/train\.batchSize: expected an integer ≥ 1, got 2\.5/),
  );
  assert.throws(
    () => parseRecipe({ data: { textMode: 'ipa' } }, 'r.json'),
    userError(/data\.textMode: expected one of "phonemes", "characters", got "ipa"/),
  );
});

test('recipe: unknown keys are rejected with the valid ones listed', () => {
  assert.throws(
    () => parseRecipe({ train: { learningRate: 1 } }, 'r.json'),
    userError(/^r\.json: train: unknown key 'learningRate' \(valid: steps, batchSize, accumulate, workers, lr, gradClip, seed/),
  );
  assert.throws(
    () => parseRecipe({ optimiser: {} }, 'r.json'),
    userError(/^r\.json: unknown key 'optimiser' \(valid: model, loss, data, train, synth\)/),
  );
  assert.throws(
    () => parseRecipe({ model: 'huge' }, 'r.json'),
    userError(/^r\.json: model: expected one of "tiny", "small", "full", got "huge"/),
  );
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
    const { recipe } = resolveRecipe({ recipePath: join(dir, f) });
    assert.ok(['tiny', 'small', 'full'].includes(recipe.model as string), f);
    assert.ok(recipe.loss.type === 'l2' || recipe.loss.type.startsWith('pseudo-huber'), f);
  }
});

test('recipe: the loss is typed inside the recipe, defaults filled, one-line errors naming loss.<field>', () => {
  assert.deepEqual(parseRecipe({}, 'x.json').loss, {
    type: 'l2',
    schedule: 'constant',
    c: 1,
    scale: 1,
    reversed: false,
    deltaPer: 'sample',
    tPer: 'item',
    scope: 'diffusion',
    tMax: 1,
  });
  assert.equal(parseRecipe({ loss: { type: 'pseudo-huber', c: 0.1 } }, 'x.json').loss.c, 0.1);
  assert.throws(
    () => parseRecipe({ loss: { type: 'l2', shedule: 'snr' } }, 'x.json'),
    userError(/^x\.json: loss: unknown key 'shedule' \(valid: type, schedule, c, scale, reversed, deltaPer, tPer, scope, tMax\)$/),
  );
  assert.throws(() => parseRecipe({ loss: { c: 1 } }, 'x.json'), userError(/^x\.json: loss\.type: missing \(expected one of "l2", "l1"/));
});

test("recipe: an old recipe's loss.beta0/beta1 are dropped when they equal the model's SDE, refused in one line when they differ", () => {
  const old = { model: 'tiny', loss: { type: 'pseudo-huber', schedule: 'snr', c: 0.1, beta0: 0.05, beta1: 20 } };
  assert.deepEqual(parseRecipe(old, 'old.json').loss, {
    type: 'pseudo-huber',
    schedule: 'snr',
    c: 0.1,
    scale: 1,
    reversed: false,
    deltaPer: 'sample',
    tPer: 'item',
    scope: 'diffusion',
    tMax: 1,
  });
  // a model whose SDE was changed too
  assert.equal(parseRecipe({ model: { base: 'small', beta1: 10 }, loss: { type: 'l2', beta1: 10 } }, 'old.json').loss.type, 'l2');
  assert.throws(
    () => parseRecipe({ model: 'tiny', loss: { type: 'l2', beta0: 0.1 } }, 'old.json'),
    userError(
      /^old\.json: loss\.beta0\/beta1 \(0\.1, 20\) differ from the model's noise schedule \(0\.05, 20\): the VP-SDE is the model's now \(model\.beta0, model\.beta1\)/,
    ),
  );
});

test('overrides: --a.b value pairs become a typed partial recipe; unknown keys list the valid ones', () => {
  const ov = parseOverrideArgs([
    '--loss.type',
    'pseudo-huber',
    '--loss.schedule=snr',
    '--train.batchSize',
    '4',
    '--data.addBlank',
    'false',
  ]);
  assert.deepEqual(overridePatch(ov), {
    loss: { type: 'pseudo-huber', schedule: 'snr' },
    train: { batchSize: 4 },
    data: { addBlank: false },
  });
  const out = mergeRecipe({ model: 'tiny', loss: { type: 'l2', c: 2 } }, overridePatch(ov));
  assert.deepEqual(out.loss, { type: 'pseudo-huber', schedule: 'snr', c: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny' }));
  const bad = (args: string[]) => () => resolveRecipe({ recipePath: f, overrides: parseOverrideArgs(args) });
  assert.throws(
    bad(['--train.lrr', '1']),
    userError(/^.*r\.json with --train\.lrr: train: unknown key 'lrr' \(valid: steps, batchSize, accumulate, workers, lr,/),
  );
  assert.throws(
    bad(['--loss.delta', '1']),
    userError(
      /r\.json with --loss\.delta: loss: unknown key 'delta' \(valid: type, schedule, c, scale, reversed, deltaPer, tPer, scope, tMax\)$/,
    ),
  );
  assert.throws(
    bad(['--optim.lr', '1']),
    userError(/r\.json with --optim\.lr: unknown key 'optim' \(valid: model, loss, data, train, synth\)$/),
  );
  assert.throws(() => parseOverrideArgs(['stray']), userError(/unexpected argument 'stray'/));
  assert.throws(() => parseOverrideArgs(['--train.lr']), userError(/--train\.lr: expected a value/));
  // a model override turns the name into {"base": name, ...}; a model name replaces the model
  assert.deepEqual(mergeRecipe({ model: 'tiny' }, overridePatch(parseOverrideArgs(['--model.decoder.dim', '8']))).model, {
    base: 'tiny',
    decoder: { dim: 8 },
  });
  assert.deepEqual(mergeRecipe({}, { model: { beta1: 10 } }).model, { base: 'tiny', beta1: 10 });
  assert.equal(mergeRecipe({ model: { base: 'tiny', beta1: 10 } }, { model: 'small' }).model, 'small');
});

test('overrides: a bad override value is reported with the flags, file and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny', loss: { type: 'l2' } }));
  const resolve = (args: string[]) => resolveRecipe({ recipePath: f, overrides: parseOverrideArgs(args) });
  assert.throws(() => resolve(['--train.lr', 'fast']), userError(/r\.json with --train\.lr: train\.lr: expected a number > 0, got "fast"/));
  assert.throws(() => resolve(['--loss.type', 'l3']), userError(/r\.json with --loss\.type: loss\.type: expected one of/));
  const { recipe } = resolve(['--loss.type', 'pseudo-huber', '--loss.schedule', 'snr', '--train.batchSize', '4']);
  assert.equal(recipe.loss.type, 'pseudo-huber');
  assert.equal(recipe.loss.schedule, 'snr');
  assert.equal(recipe.train.batchSize, 4);
});

test('train.workers: "auto" by default, an integer ≥ 1 or "auto" from the file or --train.workers, else one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny' }));
  const resolve = (args: string[] = []) => resolveRecipe({ recipePath: f, overrides: parseOverrideArgs(args) });
  assert.equal(resolve().recipe.train.workers, 'auto');
  assert.equal(resolve(['--train.workers', '3']).recipe.train.workers, 3);
  assert.equal(resolve(['--train.workers', 'auto']).recipe.train.workers, 'auto');
  assert.throws(() => resolve(['--train.workers', '0']), userError(/train\.workers: expected an integer ≥ 1 or "auto"/));
  assert.throws(
    () => parseRecipe({ train: { workers: 'all' } }, 'r.json'),
    userError(/^r\.json: train\.workers: expected an integer ≥ 1 or "auto"/),
  );
});

test('mergeChecked: model overrides must name existing keys with the same type', () => {
  const base = { decoder: { dim: 64, mults: [1, 2] }, beta0: 0.05 };
  assert.deepEqual(mergeChecked(base, { decoder: { dim: 8 } }, 'r.json: model'), { decoder: { dim: 8, mults: [1, 2] }, beta0: 0.05 });
  assert.deepEqual(base.decoder.dim, 64, 'the base is not changed');
  assert.throws(
    () => mergeChecked(base, { decoder: { dimm: 8 } }, 'r.json: model'),
    userError(/^r\.json: model\.decoder\.dimm: unknown key \(valid: dim, mults\)/),
  );
  assert.throws(() => mergeChecked(base, { beta0: 'x' }, 'r.json: model'), userError(/^r\.json: model\.beta0: expected a number, got "x"/));
});

test('overrides: values are typed by the field they set', () => {
  assert.deepEqual(
    ['data.path', 'data.textMode', 'train.lr', 'data.addBlank', 'loss.type', 'loss.c', 'model.decoder.dim'].map((p) =>
      leafKind(RecipeSchema, p.split('.')),
    ),
    ['string', 'enum', 'number', 'boolean', 'enum', 'number', 'unknown'],
  );
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny', loss: { type: 'l2' } }));
  const resolve = (args: string[]) => resolveRecipe({ recipePath: f, overrides: parseOverrideArgs(args) });
  const { recipe } = resolve([
    '--data.path',
    '123',
    '--train.steps',
    '1e3',
    '--data.addBlank',
    'false',
    '--loss.c',
    '0.5',
    '--model.decoder.dim',
    '8',
  ]);
  assert.equal(recipe.data.path, '123');
  assert.equal(recipe.train.steps, 1000);
  assert.equal(recipe.data.addBlank, false);
  assert.equal(recipe.loss.c, 0.5);
  assert.deepEqual(recipe.model, { base: 'tiny', decoder: { dim: 8 } });
  assert.throws(() => resolve(['--data.addBlank', 'yes']), userError(/data\.addBlank: expected true or false, got "yes"/));
});

test('resolveRecipe: --data, --steps and --skip-bad are merged over the recipe; without --recipe only --resume in a run with recipe.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-recipe-'));
  const f = join(dir, 'r.json');
  writeFileSync(f, JSON.stringify({ model: 'tiny', data: { path: 'a' }, train: { steps: 5 } }));
  const { recipe } = resolveRecipe({ recipePath: f, dataPath: 'b', steps: 9, skipBad: true });
  assert.deepEqual([recipe.data.path, recipe.train.steps, recipe.data.skipBad], ['b', 9, true]);
  assert.equal(resolveRecipe({ recipePath: f, skipBad: false }).recipe.data.path, 'a');
  assert.throws(
    () => resolveRecipe({ outDir: dir }),
    userError(/^--recipe: required \(only --resume in a run directory that has a recipe\.json can do without it\)$/),
  );
  assert.throws(() => resolveRecipe({ outDir: join(dir, 'none'), resume: true }), userError(/none\/recipe\.json does not exist/));
  writeFileSync(join(dir, 'recipe.json'), JSON.stringify({ model: 'small' }));
  assert.equal(resolveRecipe({ outDir: dir, resume: true, steps: 3 }).recipe.model, 'small');
});

test('recipe: train.freeze takes a list of model parts (default none)', () => {
  assert.deepEqual(parseRecipe({}, 'r.json').train.freeze, []);
  assert.deepEqual(parseRecipe({ train: { freeze: ['encoder', 'durationPredictor'] } }, 'r.json').train.freeze, [
    'encoder',
    'durationPredictor',
  ]);
  assert.throws(
    () => parseRecipe({ train: { freeze: ['unet'] } }, 'r.json'),
    userError(/^r\.json: train\.freeze\.0: expected one of "encoder", "durationPredictor", "decoder", "speakers", got "unet"$/),
  );
  assert.throws(() => parseRecipe({ train: { freeze: 'encoder' } }, 'r.json'), userError(/^r\.json: train\.freeze: expected a list of/));
});

test('recipe: synth.startTime (shallow diffusion) defaults to 1, lives in (0, 1], and reaches a voice stored before it existed as 1', async () => {
  assert.equal(parseRecipe({}, 'x.json').synth.startTime, 1);
  assert.equal(parseRecipe({ synth: { startTime: 0.3 } }, 'x.json').synth.startTime, 0.3);
  assert.throws(
    () => parseRecipe({ synth: { startTime: 0 } }, 'r.json'),
    userError(/^r\.json: synth\.startTime: expected a number in \(0, 1\], got 0$/),
  );
  assert.throws(
    () => parseRecipe({ synth: { startTime: 1.5 } }, 'r.json'),
    userError(/^r\.json: synth\.startTime: expected a number in \(0, 1\], got 1\.5$/),
  );
  assert.equal(parseRecipe({ loss: { type: 'l2', tMax: 0.4 } }, 'x.json').loss.tMax, 0.4);
  assert.throws(
    () => parseRecipe({ loss: { type: 'l2', tMax: 2 } }, 'r.json'),
    userError(/^r\.json: loss\.tMax: expected a number in \(0, 1\], got 2$/),
  );
  const { voiceSettings } = await import('./checkpoint-format.js');
  const meta = (synth: object) =>
    ({ model: { kind: 'gradtts', config: { name: 'tiny' } }, nSymbols: 10, textConfig: {}, melConfig: null, recipe: { synth } }) as never;
  assert.deepEqual(voiceSettings(meta({ steps: 0, temperature: 1, lengthScale: 1 }), 's.json').synth, {
    steps: 0,
    temperature: 1,
    lengthScale: 1,
    startTime: 1,
  });
  assert.deepEqual(voiceSettings(meta({ steps: 10, startTime: 0.3 }), 's.json').synth, {
    steps: 10,
    temperature: 1.5,
    lengthScale: 1,
    startTime: 0.3,
  });
});
