/** `difftts train` / `synthesize` as a user runs them: exit codes, one-line errors, overrides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { cliPath, fixturesDir } from '../testing/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'difftts-traincli-'));

function difftts(args: string[], toy = true) {
  const env = { ...process.env, DIFFTTS_DEBUG_TOY: toy ? '1' : '0' };
  const r = spawnSync(process.execPath, [cliPath, '--backend', 'cpu', ...args], { env, encoding: 'utf8' });
  const errLines = r.stderr.split('\n').filter((l) => l.startsWith('difftts: ') && !l.startsWith('difftts: using backend'));
  return { code: r.status, stdout: r.stdout, errLines, stderr: r.stderr };
}

const toyRecipe = join(dir, 'toy.json');
writeFileSync(
  toyRecipe,
  JSON.stringify({ model: 'toy', loss: { type: 'l2' }, train: { steps: 6, batchSize: 4, checkpointEvery: 3, logEvery: 2, pngEvery: 0 } }),
);

test('train CLI: a bad recipe field exits 2 with one line naming the file and field', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ model: 'tiny', train: { lr: 'fast' } }));
  const r = difftts(['train', '--recipe', bad, '--out', join(dir, 'x')]);
  assert.equal(r.code, 2);
  assert.deepEqual(r.errLines, [`difftts: ${bad}: train.lr: expected a number > 0, got "fast"`]);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(join(dir, 'x', 'recipe.json')), false, 'nothing written');
});

test('train CLI: unknown override keys list the valid ones; the toy model is hidden from users', () => {
  const r = difftts(['train', '--recipe', toyRecipe, '--out', join(dir, 'y'), '--train.learningRate', '1']);
  assert.equal(r.code, 2);
  assert.match(
    r.errLines[0]!,
    /^difftts: .*toy\.json with --train\.learningRate: train: unknown key 'learningRate' \(valid: steps, batchSize, accumulate, workers, lr, gradClip/,
  );
  const hidden = difftts(['train', '--recipe', toyRecipe, '--out', join(dir, 'y')], false);
  assert.equal(hidden.code, 2);
  assert.match(hidden.errLines[0]!, /toy\.json: model: expected one of "tiny", "small", "full", got "toy"/);
});

test('train CLI: overrides are typed, applied and stored in the run directory recipe', () => {
  const out = join(dir, 'ok');
  const r = difftts([
    'train',
    '--recipe',
    toyRecipe,
    '--out',
    out,
    '--loss.type',
    'pseudo-huber',
    '--loss.schedule=snr',
    '--train.batchSize',
    '2',
    '--train.lr',
    '0.01',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /trained .* to step 6\/6; checkpoint .*step-000006/);
  const stored = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
  assert.equal(stored.loss.type, 'pseudo-huber');
  assert.equal(stored.loss.schedule, 'snr');
  assert.equal(stored.train.batchSize, 2);
  assert.equal(stored.train.lr, 0.01);
  const again = difftts(['train', '--recipe', toyRecipe, '--out', out]);
  assert.equal(again.code, 2);
  assert.match(again.errLines[0]!, /recipe\.json: this run directory was started with a different recipe/);
});

/** Every file under `dir` (relative path → bytes as hex), to prove a command changed nothing. */
function filesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p).toString('hex'));
    }
  };
  walk(dir);
  return out;
}

test('train CLI: --resume with no loadable checkpoint exits 2 naming each one and why, and changes nothing', () => {
  const out = join(dir, 'unloadable');
  assert.equal(difftts(['train', '--recipe', toyRecipe, '--out', out]).code, 0);
  // step 3: cut short by an interrupted copy; step 6: written by a newer difftts
  const w3 = join(out, 'checkpoints', 'step-000003', 'weights.bin');
  writeFileSync(w3, readFileSync(w3).subarray(0, 5));
  const s6 = join(out, 'checkpoints', 'step-000006', 'state.json');
  writeFileSync(s6, JSON.stringify({ ...JSON.parse(readFileSync(s6, 'utf8')), version: 2 }));
  const before = filesOf(out);
  const r = difftts(['train', '--recipe', toyRecipe, '--out', out, '--resume', '--steps', '12']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.errLines.length, 1, r.stderr);
  assert.match(
    r.errLines[0]!,
    /unloadable: no checkpoint loads, so nothing was resumed or changed: .*step-000006\/state\.json: written by a newer difftts \(checkpoint version 2; this difftts reads version 1.*; .*step-000003\/weights\.bin: 5 bytes, expected \d+ \(truncated\).*\(to start over: another --out, or --force without --resume\)$/,
  );
  assert.deepEqual(filesOf(out), before, 'metrics.jsonl, checkpoints and the recipe are byte-for-byte as they were');
  // starting over is an explicit choice
  const again = difftts(['train', '--recipe', toyRecipe, '--out', out, '--force']);
  assert.equal(again.code, 0, again.stderr);
});

test("train CLI: --resume --steps below the run's step says the run is already past it and writes nothing", () => {
  const out = join(dir, 'past');
  assert.equal(difftts(['train', '--recipe', toyRecipe, '--out', out]).code, 0);
  const before = filesOf(out);
  const r = difftts(['train', '--recipe', toyRecipe, '--out', out, '--resume', '--steps', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /past is already at step 6, past the requested 3 steps: nothing trained \(checkpoint .*step-000006; give a larger --steps to train on\)/,
  );
  assert.doesNotMatch(r.stdout, /trained .* to step 6\/3/);
  assert.deepEqual(filesOf(out), before);
});

test("train CLI: --out RUN --resume alone continues with the run's own recipe; more --steps is compatible, another override needs --force", () => {
  const out = join(dir, 'own');
  assert.equal(difftts(['train', '--recipe', toyRecipe, '--out', out, '--loss.type', 'huber', '--train.lr', '0.01']).code, 0);
  const r = difftts(['train', '--out', out, '--resume', '--steps', '9']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming .*own from .*step-000006 \(step 6\)/);
  assert.match(r.stdout, /trained .*own to step 9\/9/);
  const stored = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
  assert.deepEqual([stored.loss.type, stored.train.lr, stored.train.steps], ['huber', 0.01, 9]);
  const changed = difftts(['train', '--out', out, '--resume', '--steps', '12', '--train.lr', '0.02']);
  assert.equal(changed.code, 2);
  assert.match(
    changed.errLines[0]!,
    /recipe\.json: this run directory was started with a different recipe \(use another --out, or --force to resume with the new recipe\)/,
  );
  assert.equal(difftts(['train', '--out', out, '--resume', '--steps', '12', '--train.lr', '0.02', '--force']).code, 0);
  const none = difftts(['train', '--out', join(dir, 'never')]);
  assert.equal(none.code, 2);
  assert.deepEqual(none.errLines, [
    'difftts: --recipe: required (only --resume in a run directory that has a recipe.json can do without it)',
  ]);
});

test('train CLI: a run written by the previous version (loss.beta0/beta1 in its recipe) resumes with --resume alone', () => {
  const out = join(dir, 'old-run');
  cpSync(join(fixturesDir, 'old-run-v1'), out, { recursive: true });
  assert.equal(JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8')).loss.beta0, 0.05, 'the fixture is in the old format');
  const r = difftts(['train', '--out', out, '--resume', '--steps', '9']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming .*old-run from .*step-000006 \(step 6\)/);
  assert.doesNotMatch(r.stderr, /differ/);
  const stored = JSON.parse(readFileSync(join(out, 'recipe.json'), 'utf8'));
  assert.deepEqual(stored.loss, {
    type: 'pseudo-huber',
    schedule: 'snr',
    c: 1,
    scale: 1,
    reversed: false,
    deltaPer: 'sample',
    tPer: 'item',
    scope: 'diffusion',
    tMax: 1,
  });
  // and with the recipe given again, as the old version needed
  const again = difftts([
    'train',
    '--recipe',
    toyRecipe,
    '--out',
    out,
    '--resume',
    '--steps',
    '12',
    '--loss.type',
    'pseudo-huber',
    '--loss.schedule',
    'snr',
    '--train.keepCheckpoints',
    '1',
  ]);
  assert.equal(again.code, 0, again.stderr);
});

test('synthesize CLI: a missing checkpoint or missing text is a one-line error (exit 2)', () => {
  const r = difftts(['synthesize', '--checkpoint', join(dir, 'none'), '--text', 'hi', '--out', join(dir, 'a.wav')]);
  assert.equal(r.code, 2);
  assert.match(r.errLines[0]!, /none: no such run or checkpoint directory/);
  const t = difftts(['synthesize', '--checkpoint', join(dir, 'ok'), '--out', join(dir, 'a.wav')]);
  assert.equal(t.code, 2);
  assert.match(t.errLines[0]!, /synthesize: nothing to speak \(give --text/);
  const toy = difftts(['synthesize', '--checkpoint', join(dir, 'ok'), '--text', 'hi', '--out', join(dir, 'a.wav')]);
  assert.equal(toy.code, 2);
  assert.match(toy.errLines[0]!, /state\.json: not a GradTTS checkpoint \(model kind 'toy'\)/);
  assert.equal(existsSync(join(dir, 'a.wav')), false);
});
