/** `difftts train` / `synthesize` as a user runs them: exit codes, one-line errors, overrides. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../testing/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'difftts-traincli-'));

function difftts(args: string[], toy = true) {
  const env = { ...process.env, DIFFTTS_DEBUG_TOY: toy ? '1' : '0' };
  const r = spawnSync(process.execPath, [cliPath, '--backend', 'cpu', ...args], { env, encoding: 'utf8' });
  const errLines = r.stderr.split('\n').filter((l) => l.startsWith('difftts: ') && !l.startsWith('difftts: using backend'));
  return { code: r.status, stdout: r.stdout, errLines, stderr: r.stderr };
}

const toyRecipe = join(dir, 'toy.json');
writeFileSync(toyRecipe, JSON.stringify({ model: 'toy', loss: { type: 'l2' }, train: { steps: 6, batchSize: 4, checkpointEvery: 3, logEvery: 2, pngEvery: 0 } }));

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
  assert.match(r.errLines[0]!, /^difftts: --train\.learningRate: unknown train field \(valid: steps, batchSize, accumulate, workers, lr, gradClip/);
  const hidden = difftts(['train', '--recipe', toyRecipe, '--out', join(dir, 'y')], false);
  assert.equal(hidden.code, 2);
  assert.match(hidden.errLines[0]!, /toy\.json: model: expected one of "tiny", "small", "full", got "toy"/);
});

test('train CLI: overrides are typed, applied and stored in the run directory recipe', () => {
  const out = join(dir, 'ok');
  const r = difftts(['train', '--recipe', toyRecipe, '--out', out, '--loss.type', 'pseudo-huber', '--loss.schedule=snr', '--train.batchSize', '2', '--train.lr', '0.01']);
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
