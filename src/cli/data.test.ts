import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../testing/paths.js';
import { makeCorpus, makeSpeakerCorpus } from '../data/testutil.js';

const corpus = makeCorpus(12);
const work = mkdtempSync(join(tmpdir(), 'difftts-cli-data-'));
after(() => {
  rmSync(corpus, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});
const run = (...args: string[]) => spawnSync(process.execPath, [cliPath, 'data', ...args], { encoding: 'utf8' });

test('data check: summary, --fix-list, exit 2 with one line on stderr when rows are unusable', () => {
  const ok = run('check', corpus, '--json');
  assert.equal(ok.status, 0, ok.stderr);
  const s = JSON.parse(ok.stdout);
  assert.deepEqual([s.rows, s.usable, s.unusable, s.problems.length], [12, 12, 0, 0]);
  writeFileSync(join(corpus, 'metadata.csv'), `${readFileSync(join(corpus, 'metadata.csv'), 'utf8')}ghost|No audio here.\nu99|\n`);
  const fixList = join(work, 'usable.txt');
  const bad = run('check', corpus, '--fix-list', fixList);
  assert.equal(bad.status, 2);
  assert.match(bad.stdout, /missing-wav: 1 \(unusable\)/);
  assert.match(bad.stdout, /empty-text: 1 \(unusable\)/);
  assert.match(bad.stderr, /^difftts: .*metadata\.csv: 2 unusable rows/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.equal(readFileSync(fixList, 'utf8'), Array.from({ length: 12 }, (_, i) => `u${String(i).padStart(2, '0')}\n`).join(''));
});

test('data prepare fails in one line without --skip-bad, succeeds with it', () => {
  const out = join(work, 'features');
  const fail = run('prepare', corpus, '--out', out);
  assert.equal(fail.status, 2);
  assert.match(fail.stderr, /2 unusable rows; first: .*row 13: missing audio/);
  assert.ok(!existsSync(join(out, 'manifest.json')));
  const ok = run('prepare', corpus, '--out', out, '--skip-bad', '--text-mode', 'characters');
  assert.equal(ok.status, 0, ok.stderr);
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.equal(m.utterances.length, 12);
  assert.deepEqual(m.textConfig, { mode: 'characters', addBlank: true });
  assert.equal(m.skipped.length, 2);
});

test('data corrupt: bad options exit 2 before writing; a good run writes corruption.json', () => {
  const out = join(work, 'corrupted');
  for (const args of [['--mode', 'noise', '--fraction', '2', '--snr', '5'], ['--mode', 'echo', '--fraction', '0.5'], ['--mode', 'replace-voice', '--fraction', '0.5', '--donor', join(work, 'nowhere')]]) {
    const r = run('corrupt', corpus, '--out', out, ...args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(out));
  }
  const ok = run('corrupt', corpus, '--out', out, '--mode', 'swap-text', '--fraction', '0.5', '--seed', '3');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(readFileSync(join(out, 'corruption.json'), 'utf8')).count, 3);
});

test('data check and prepare: speakers and minutes per speaker; --layout picks the reader', () => {
  const vctk = makeSpeakerCorpus('vctk', ['p225', 'p226'], 3);
  const r = run('check', vctk);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\(vctk layout\)/);
  assert.match(r.stdout, /speakers {5}2\n {2}p225 +3 utterances +0\.03 min\n {2}p226 +3 utterances/);
  const j = JSON.parse(run('check', vctk, '--json').stdout);
  assert.deepEqual(j.speakers.map((s: { speaker: string; utterances: number }) => [s.speaker, s.utterances]), [['p225', 3], ['p226', 3]]);
  assert.ok(Math.abs(j.speakers[0].minutes - (0.6 + 0.64 + 0.68) / 60) < 1e-4);
  assert.match(run('check', corpus).stdout, /speakers {5}1 \(unnamed\)\n/);
  const wrong = run('check', vctk, '--layout', 'libritts');
  assert.equal(wrong.status, 0); // a LibriTTS reading finds no transcripts: every wav is reported as extra
  assert.match(wrong.stdout, /rows {9}0 .*\n[^]*extra-wav: 12/);
  const bad = run('check', vctk, '--layout', 'timit');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--layout: expected auto, ljspeech, vctk, libritts, got 'timit'/);
  const out = join(work, 'vctk-features');
  const prep = run('prepare', vctk, '--out', out, '--valid', '1', '--test', '1');
  assert.equal(prep.status, 0, prep.stderr);
  // 3 rows per speaker is below the per-speaker minimum (10): the sizes stay as asked.
  assert.match(prep.stderr, /split train 4 \/ valid 1 \/ test 1; 2 speakers \(split per speaker\)/);
  rmSync(vctk, { recursive: true });
});
