// The committed corpora (datasets/allison-mini and its donor) are usable as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { readCorpus } from './corpus.js';

const mini = join(repoRoot, 'datasets', 'allison-mini');
const donor = join(repoRoot, 'datasets', 'allison-mini-donor');

test('allison-mini: clean, 22050 Hz, 1–4 s, known symbols, licence shipped', () => {
  const r = readCorpus(mini);
  assert.deepEqual(r.problems, []);
  assert.ok(r.usable.length >= 140, `${r.usable.length} clips`);
  assert.deepEqual([...r.sampleRates.keys()], [22050]);
  for (const e of r.usable) assert.ok(e.durationSec >= 1 && e.durationSec <= 4.01, `${e.id}: ${e.durationSec} s`);
  const licence = readFileSync(join(mini, 'LICENSE'), 'utf8');
  assert.match(licence, /recorded by Allison Smith/);
  assert.match(licence, /License: CC-BY-SA-3\.0\nTHE WORK/);
  assert.match(readFileSync(join(mini, 'README.md'), 'utf8'), /Allison Smith/);
});

test('allison-mini-donor: the same ids and metadata, every wav readable', () => {
  assert.ok(existsSync(donor));
  assert.equal(readFileSync(join(donor, 'metadata.csv'), 'utf8'), readFileSync(join(mini, 'metadata.csv'), 'utf8'));
  assert.deepEqual(readdirSync(join(donor, 'wavs')).sort(), readdirSync(join(mini, 'wavs')).sort());
  // Within the default 0.5–15 s bounds, so `data prepare` of a replace-voice corpus needs no --skip-bad.
  const r = readCorpus(donor);
  assert.deepEqual(r.problems, []);
});
