import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../testing/paths.js';
import { makeCorpus, makeSpeakerCorpus } from '../testing/corpora.js';
import { loadFeatures } from '../data/features.js';
import { acquireDirLock } from '../util/lock.js';
import { writeMicroRecipe } from '../testing/recipes.js';

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
  for (const args of [
    ['--mode', 'noise', '--fraction', '2', '--snr', '5'],
    ['--mode', 'echo', '--fraction', '0.5'],
    ['--mode', 'replace-voice', '--fraction', '0.5', '--donor', join(work, 'nowhere')],
  ]) {
    const r = run('corrupt', corpus, '--out', out, ...args);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(!existsSync(out));
  }
  const ok = run('corrupt', corpus, '--out', out, '--mode', 'swap-text', '--fraction', '0.5', '--seed', '3');
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(readFileSync(join(out, 'corruption.json'), 'utf8')).count, 3);
});

/** `difftts ARGS` as a child process that runs while others do. */
function runAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => done({ status, stderr }));
  });
}

/** Every file manifest.json names exists with the size its frames say; returns the manifest. */
function assertConsistent(out: string): { utterances: { id: string; file: string; frames: number }[] } {
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  for (const u of m.utterances) assert.equal(statSync(join(out, u.file)).size, 80 * u.frames * 4, u.file);
  assert.equal(loadFeatures(out).utterances.size, m.utterances.length);
  return m;
}

test('data prepare: two at once into one --out (other corpora, so other mel files) leave a consistent cache, or the second stops in one line', async () => {
  const a = makeCorpus(30);
  const b = makeCorpus(30, { rate: 16000 }); // resampled: every mel file differs from a's
  const out = join(work, 'shared-features');
  try {
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all([runAsync(['data', 'prepare', a, '--out', out]), runAsync(['data', 'prepare', b, '--out', out])]);
      for (const r of rs) {
        if (r.status === 0) continue;
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`^difftts: ${out}: in use by another data prepare \\(pid \\d+ on .*\\n$`));
      }
      assert.ok(rs.some((r) => r.status === 0));
      const m = assertConsistent(out);
      const corpus = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).corpus;
      assert.ok([a, b].includes(corpus));
      assert.equal(m.utterances.length, 30);
      assert.ok(!existsSync(join(out, 'prepare.lock')));
    }
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('data prepare: a directory another prepare holds is refused in one line naming it; nothing changes', () => {
  const out = join(work, 'held-features');
  const first = run('prepare', corpus, '--out', out, '--skip-bad');
  assert.equal(first.status, 0, first.stderr);
  const before = readFileSync(join(out, 'manifest.json'), 'utf8');
  const lock = acquireDirLock(out, { name: 'prepare.lock' });
  try {
    const r = run('prepare', corpus, '--out', out, '--skip-bad', '--text-mode', 'characters');
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`^difftts: ${out}: in use by another data prepare \\(pid ${process.pid} on .*; wait for it to finish or stop it\\n$`),
    );
  } finally {
    lock.release();
  }
  assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), before);
});

test('a missing, unreadable or cut mel file stops training in one line naming it and the fix, exit 2', () => {
  const out = join(work, 'mel-features');
  const p = run('prepare', corpus, '--out', out, '--skip-bad', '--text-mode', 'characters');
  assert.equal(p.status, 0, p.stderr);
  const recipe = writeMicroRecipe(join(work, 'micro.json'), {
    steps: 1,
    batchSize: 2,
    checkpointEvery: 1,
    logEvery: 1,
    pngEvery: 0,
    seed: 1,
  });
  const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  const mel = join(out, m.utterances[3].file);
  const train = () =>
    spawnSync(
      process.execPath,
      [cliPath, '--backend', 'cpu', 'train', '--recipe', recipe, '--data', out, '--out', join(work, 'mel-run'), '--force'],
      { encoding: 'utf8' },
    );
  const lastLine = (stderr: string) =>
    stderr
      .trim()
      .split('\n')
      .filter((l) => !/using backend|looks like you are running|^=+$/.test(l));

  rmSync(mel);
  let r = train();
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(lastLine(r.stderr), [`difftts: ${mel}: missing (manifest.json lists it; run difftts data prepare again)`]);
  mkdirSync(mel);
  r = train();
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(lastLine(r.stderr), [`difftts: ${mel}: cannot read (EISDIR; run difftts data prepare again)`]);
  rmSync(mel, { recursive: true });
  writeFileSync(mel, new Uint8Array(80 * m.utterances[3].frames * 4));
  truncateSync(mel, 100);
  r = train();
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(lastLine(r.stderr), [
    `difftts: ${mel}: 100 bytes (expected ${80 * m.utterances[3].frames * 4} for the frames in manifest.json; run difftts data prepare again)`,
  ]);
  // the fix works
  assert.equal(run('prepare', corpus, '--out', out, '--skip-bad', '--text-mode', 'characters').status, 0);
  assertConsistent(out);
});

test('data check and prepare: speakers and minutes per speaker; --layout picks the reader', () => {
  const vctk = makeSpeakerCorpus('vctk', ['p225', 'p226'], 3);
  const r = run('check', vctk);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\(vctk layout\)/);
  assert.match(r.stdout, /speakers {5}2\n {2}p225 +3 utterances +0\.03 min\n {2}p226 +3 utterances/);
  const j = JSON.parse(run('check', vctk, '--json').stdout);
  assert.deepEqual(
    j.speakers.map((s: { speaker: string; utterances: number }) => [s.speaker, s.utterances]),
    [
      ['p225', 3],
      ['p226', 3],
    ],
  );
  assert.ok(Math.abs(j.speakers[0].minutes - (0.6 + 0.64 + 0.68) / 60) < 1e-4);
  assert.match(run('check', corpus).stdout, /speakers {5}1 \(unnamed\)\n/);
  const wrong = run('check', vctk, '--layout', 'libritts');
  assert.equal(wrong.status, 0); // a LibriTTS reading finds no transcripts: every wav is reported as extra
  assert.match(wrong.stdout, /rows {9}0 .*\n[\s\S]*extra-wav: 12/);
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
