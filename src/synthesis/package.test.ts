/**
 * difftts as a user's project gets it: imported by its package name (through package.json
 * `exports`, from a project whose node_modules/difftts points here), and packed by `npm pack` with
 * the default voice and without corpora, tests or sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../testing/paths.js';
import { decodeWav } from '../audio/wav.js';
import { DEFAULT_VOICE } from './voices.js';

test("import { loadVoice, encodeWav, listVoices } from 'difftts' speaks in a project of its own", () => {
  const project = mkdtempSync(join(tmpdir(), 'difftts-user-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(repoRoot, join(project, 'node_modules', 'difftts'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  writeFileSync(
    join(project, 'speak.mjs'),
    `import { loadVoice, encodeWav, listVoices, splitSentences } from 'difftts';
import { writeFileSync } from 'node:fs';
const voices = listVoices();
const voice = await loadVoice(voices[0], { backend: 'wasm' });
const again = await loadVoice(voices[0]);
const audio = await voice.synthesize('Please hold while I transfer your call.', { steps: 0, seed: 3, iters: 4 });
writeFileSync('hello.wav', encodeWav(audio));
const pieces = [];
for await (const p of voice.stream('First sentence here. And a second one.', { steps: 0, iters: 2 })) pieces.push(p.samples.length);
console.log(JSON.stringify({ voices, same: voice === again, rate: audio.sampleRate, n: audio.samples.length, pieces, split: splitSentences('One two. Three four.', 100) }));
`,
  );
  const r = spawnSync(process.execPath, ['speak.mjs'], { cwd: project, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(got.voices[0], DEFAULT_VOICE, 'the default voice first');
  assert.equal(got.same, true, 'a voice loads once');
  assert.equal(got.rate, 22050);
  assert.ok(got.n > 0.8 * 22050 && got.n < 5 * 22050, `${got.n / 22050} s for seven words`);
  assert.equal(got.pieces.length, 1, 'two short sentences fit one piece');
  assert.deepEqual(got.split, ['One two.', 'Three four.']);
  const wav = decodeWav(readFileSync(join(project, 'hello.wav')), 'hello.wav');
  assert.equal(wav.samples.length, got.n);
});

test('npm pack: the default voice, the compiled library with types, no corpora, tests or sources', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [pack] = JSON.parse(r.stdout) as { size: number; entryCount: number; files: { path: string }[] }[];
  const paths = pack!.files.map((f) => f.path);
  for (const need of [
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'bin/difftts.js',
    'dist/src/parallel/map-worker.js',
    `pretrained/${DEFAULT_VOICE}/weights.bin`,
    `pretrained/${DEFAULT_VOICE}/state.json`,
    `pretrained/${DEFAULT_VOICE}/LICENSE`,
  ]) {
    assert.ok(paths.includes(need), `${need} missing from the package`);
  }
  const unwanted = paths.filter((p) => /^(datasets|src|test|scripts|bench|docs)\/|\.test\.|\.map$|^dist\/src\/testing\//.test(p));
  assert.deepEqual(unwanted, []);
  assert.ok(pack!.size < 12e6, `packed size ${pack!.size} bytes`);
});
