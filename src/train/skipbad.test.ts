/**
 * A corpus with some bad rows: `difftts train` refuses it with one line naming the file and row,
 * and trains on the usable rows with --skip-bad, saying what it skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, appendFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../testing/paths.js';
import { writeMicroRecipe } from '../testing/recipes.js';
import { makeCorpus } from '../testing/corpora.js';
import { readCheckpoint, listCheckpoints } from './checkpoint.js';

test('train: bad rows stop the run with one line (exit 2, nothing written); --skip-bad trains on the rest and reports them', {
  timeout: 300_000,
}, () => {
  const root = mkdtempSync(join(tmpdir(), 'difftts-skipbad-'));
  const corpus = makeCorpus(8);
  const meta = join(corpus, 'metadata.csv');
  // Two bad rows: one without a wav, one with empty text.
  appendFileSync(meta, 'ghost|No file for me.|No file for me.\nblank||\n');
  const rows = readFileSync(meta, 'utf8').trim().split('\n').length;
  const recipe = writeMicroRecipe(join(root, 'micro.json'), { steps: 2, batchSize: 2, checkpointEvery: 2, logEvery: 1, pngEvery: 0 });
  const train = (out: string, extra: string[]) =>
    spawnSync(process.execPath, [cliPath, '--backend', 'wasm', 'train', '--recipe', recipe, '--data', corpus, '--out', out, ...extra], {
      encoding: 'utf8',
    });

  const refused = train(join(root, 'run-strict'), []);
  assert.equal(refused.status, 2, refused.stderr);
  const errLines = refused.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('difftts: using backend'));
  assert.equal(errLines.length, 1, refused.stderr);
  assert.match(errLines[0]!, /metadata\.csv/);
  assert.equal(listCheckpoints(join(root, 'run-strict')).length, 0, 'no checkpoint for a refused run');

  const out = join(root, 'run-skip');
  const ok = train(out, ['--skip-bad']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /ghost/, 'the row without a wav is reported');
  assert.match(ok.stderr, /blank/, 'the row with empty text is reported');
  const ck = listCheckpoints(out);
  assert.equal(ck.at(-1)!.step, 2);
  assert.ok(readCheckpoint(ck.at(-1)!.dir));
  const manifest = JSON.parse(readFileSync(join(out, 'features', 'manifest.json'), 'utf8')) as { utterances: { id: string }[] };
  const ids = manifest.utterances.map((u) => u.id);
  assert.equal(ids.length, rows - 2);
  assert.ok(!ids.includes('ghost') && !ids.includes('blank'));
  assert.ok(existsSync(join(out, 'metrics.jsonl')));
});
