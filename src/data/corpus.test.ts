import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus } from './corpus.js';
import { parseMetadata } from './metadata.js';
import { computeSplit } from './split.js';
import { writeWav } from '../audio/wav.js';
import { makeCorpus, tone } from '../testing/corpora.js';
import wavefile from 'wavefile';

test('a clean corpus has no problems and the right durations', () => {
  const dir = makeCorpus(4);
  const r = readCorpus(dir);
  assert.deepEqual(r.problems, []);
  assert.equal(r.usable.length, 4);
  assert.deepEqual([...r.sampleRates], [[22050, 4]]);
  assert.ok(Math.abs(r.entries[0]!.durationSec - 0.6) < 1e-3);
  rmSync(dir, { recursive: true });
});

test('metadata parsing: BOM, CRLF, optional columns, speaker, blank lines', () => {
  const { rows, problems } = parseMetadata('\uFEFFa|Hello there.|Hello there.\r\nb|Two fields\r\n\r\nc|raw 5|raw five|spk1\r\n', 'm.csv');
  assert.deepEqual(problems, []);
  assert.deepEqual(
    rows.map((r) => [r.row, r.id, r.text, r.speaker]),
    [
      [1, 'a', 'Hello there.', null],
      [2, 'b', 'Two fields', null],
      [4, 'c', 'raw five', 'spk1'],
    ],
  );
});

test('validation catches every problem kind, with file and row', () => {
  const dir = makeCorpus(10);
  const meta = join(dir, 'metadata.csv');
  const lines = readFileSync(meta, 'utf8').trim().split('\n');
  lines[1] = 'u01|'; // empty text
  lines[2] = 'u02|#### €€'; // only unknown symbols
  lines[3] = lines[0]!; // duplicate of u00
  lines[4] = 'u04'; // missing fields
  lines[5] = 'u05|a|b|c|d'; // extra pipes
  lines.push('ghost|A row without audio.');
  lines.push('../evil|Path traversal.');
  writeFileSync(meta, `\uFEFF${lines.join('\r\n')}\r\n`);
  writeFileSync(join(dir, 'wavs', 'u06.wav'), 'not a wav at all'); // unreadable
  writeWav(join(dir, 'wavs', 'u07.wav'), tone(0.2, 300), 22050); // too short
  writeWav(join(dir, 'wavs', 'u08.wav'), tone(0.8, 300, 16000), 16000); // other rate
  // u09: stereo
  const st = new wavefile.WaveFile();
  const ch = Array.from(tone(0.8, 440), (v) => Math.round(v * 32767));
  st.fromScratch(2, 22050, '16', [ch, ch]);
  writeFileSync(join(dir, 'wavs', 'u09.wav'), st.toBuffer());
  copyFileSync(join(dir, 'wavs', 'u00.wav'), join(dir, 'wavs', 'orphan.wav')); // extra file
  const r = readCorpus(dir);
  const kinds = (k: string) => r.problems.filter((p) => p.kind === k);
  assert.deepEqual(
    kinds('empty-text').map((p) => p.row),
    [2],
  );
  assert.deepEqual(
    kinds('unknown-only').map((p) => p.row),
    [3],
  );
  assert.deepEqual(
    kinds('duplicate-id').map((p) => p.row),
    [4],
  );
  assert.deepEqual(
    kinds('bad-fields').map((p) => p.row),
    [5, 6],
  );
  assert.deepEqual(
    kinds('missing-wav').map((p) => p.id),
    ['ghost'],
  );
  assert.deepEqual(
    kinds('bad-id').map((p) => p.row),
    [12],
  );
  assert.deepEqual(
    kinds('unreadable-audio').map((p) => p.id),
    ['u06'],
  );
  assert.deepEqual(
    kinds('duration').map((p) => p.id),
    ['u07'],
  );
  assert.deepEqual(
    kinds('sample-rate').map((p) => [p.id, p.fatal]),
    [['u08', false]],
  );
  assert.deepEqual(
    kinds('multichannel').map((p) => [p.id, p.fatal]),
    [['u09', false]],
  );
  // u03's row was overwritten by the duplicate, so its wav has no row any more.
  assert.deepEqual(
    kinds('extra-wav').map((p) => p.file),
    [join(dir, 'wavs', 'orphan.wav'), join(dir, 'wavs', 'u03.wav')],
  );
  // Messages are one line and name the file (and row).
  for (const p of r.problems) {
    assert.ok(!p.message.includes('\n'), p.message);
    assert.ok(p.message.includes(p.file), p.message);
  }
  assert.match(kinds('empty-text')[0]!.message, /metadata\.csv row 2: /);
  assert.match(kinds('unreadable-audio')[0]!.message, /u06\.wav/);
  // u00, u08 (resampled), u09 (downmixed) stay usable.
  assert.deepEqual(
    r.usable.map((e) => e.id),
    ['u00', 'u08', 'u09'],
  );
  assert.equal(r.entries.find((e) => e.id === 'u09')!.channels, 2);
  rmSync(dir, { recursive: true });
});

test('duration bounds are configurable', () => {
  const dir = makeCorpus(4); // 0.6, 0.88, 0.76, 0.64 s
  const r = readCorpus(dir, { minDur: 0.7, maxDur: 0.8 });
  assert.deepEqual(
    r.usable.map((e) => e.id),
    ['u02'],
  );
  rmSync(dir, { recursive: true });
});

test('split: deterministic, disjoint, order-independent, default sizes', () => {
  const ids = Array.from({ length: 146 }, (_, i) => `id${i}`);
  const a = computeSplit(ids, { seed: 7 });
  const b = computeSplit([...ids].reverse(), { seed: 7 });
  assert.deepEqual(a, b);
  assert.equal(a.valid.length, 4);
  assert.equal(a.test.length, 8);
  assert.equal(a.train.length, 134);
  assert.equal(new Set([...a.train, ...a.valid, ...a.test]).size, 146);
  assert.notDeepEqual(computeSplit(ids, { seed: 8 }).test, a.test);
  const big = computeSplit(Array.from({ length: 1000 }, (_, i) => `x${i}`));
  assert.deepEqual([big.valid.length, big.test.length], [20, 40]);
  const frac = computeSplit(ids, { valid: 0.1, test: 3 });
  assert.deepEqual([frac.valid.length, frac.test.length], [15, 3]);
  const tiny = computeSplit(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  assert.deepEqual([tiny.valid.length, tiny.test.length, tiny.train.length], [2, 2, 4]);
  assert.throws(() => computeSplit(['a', 'b'], { valid: 1, test: 1 }), /no training utterances/);
});

test('a silent recording (all zeros, or below −80 dBFS) is an unusable row; quiet speech is not', () => {
  const dir = makeCorpus(3);
  writeWav(join(dir, 'wavs', 'u00.wav'), new Float32Array(22050), 22050);
  const sine = (amp: number) => Float32Array.from({ length: 17640 }, (_, i) => amp * Math.sin((2 * Math.PI * 220 * i) / 22050));
  writeWav(join(dir, 'wavs', 'u01.wav'), sine(5e-5), 22050, 'float32');
  writeWav(join(dir, 'wavs', 'u02.wav'), sine(1e-3), 22050, 'float32'); // −60 dBFS: quiet, usable
  const r = readCorpus(dir);
  const silent = r.problems.filter((p) => p.kind === 'silent');
  assert.deepEqual(
    silent.map((p) => p.id),
    ['u00', 'u01'],
  );
  assert.ok(silent.every((p) => p.fatal && p.row !== undefined && p.message.includes('silent')));
  assert.match(silent[0]!.message, /u00\.wav: silent \(peak 0; expected speech above -80 dBFS\)/);
  assert.deepEqual(
    r.usable.map((e) => e.id),
    ['u02'],
  );
  rmSync(dir, { recursive: true });
});
