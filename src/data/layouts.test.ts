import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCorpus, speakerSummary } from './corpus.js';
import { detectLayout } from './layouts.js';
import { writeWav } from '../audio/wav.js';
import { UserError } from '../errors.js';
import { makeCorpus, makeSpeakerCorpus, tone, SAMPLE_TEXTS } from '../testing/corpora.js';

test('VCTK layout: detected, one row per txt with its speaker, mic1 audio, orphans and gaps reported', () => {
  const dir = makeSpeakerCorpus('vctk', ['p225', 'p226'], 3);
  // p315 has audio but no transcripts (as in VCTK); p226_004 has a transcript but no audio.
  mkdirSync(join(dir, 'wav48_silence_trimmed', 'p315'));
  writeWav(join(dir, 'wav48_silence_trimmed', 'p315', 'p315_001_mic1.wav'), tone(0.8, 200), 22050);
  writeFileSync(join(dir, 'txt', 'p226', 'p226_004.txt'), 'No audio for this one.\n');
  assert.equal(detectLayout(dir), 'vctk');
  const r = readCorpus(dir);
  assert.equal(r.layout, 'vctk');
  assert.deepEqual(
    r.entries.map((e) => [e.id, e.speaker]),
    [
      ['p225_001', 'p225'],
      ['p225_002', 'p225'],
      ['p225_003', 'p225'],
      ['p226_001', 'p226'],
      ['p226_002', 'p226'],
      ['p226_003', 'p226'],
      ['p226_004', 'p226'],
    ],
  );
  assert.equal(r.entries[0]!.text, SAMPLE_TEXTS[0]);
  assert.equal(r.entries[3]!.text, SAMPLE_TEXTS[1]);
  assert.ok(r.entries[0]!.wav.endsWith(join('p225', 'p225_001_mic1.wav')));
  assert.ok(Math.abs(r.entries[0]!.durationSec - 0.6) < 1e-3, 'mic1 (0.6 s), not mic2 (0.3 s)');
  assert.deepEqual(
    r.problems.map((p) => [p.kind, p.fatal]),
    [
      ['extra-wav', false],
      ['missing-wav', true],
    ],
  );
  assert.match(r.problems[1]!.message, /p226_004\.txt: missing audio .*p226_004\.wav \(expected .*p226_004_mic1\.wav\)/);
  assert.match(r.problems[0]!.message, /p315_001_mic1\.wav: no transcript \(expected txt\/p315\/p315_001\.txt\)/);
  assert.deepEqual(
    speakerSummary(r.usable).map((s) => [s.speaker, s.utterances]),
    [
      ['p225', 3],
      ['p226', 3],
    ],
  );
  rmSync(dir, { recursive: true });
});

test('VCTK with FLAC only is one line naming the conversion; converted WAVs beside the FLACs are read', () => {
  const dir = makeSpeakerCorpus('vctk', ['p225'], 2);
  const spk = join(dir, 'wav48_silence_trimmed', 'p225');
  renameSync(join(spk, 'p225_002_mic1.wav'), join(spk, 'p225_002_mic1.flac'));
  rmSync(join(spk, 'p225_002_mic2.wav'));
  assert.throws(
    () => readCorpus(dir),
    (e: unknown) =>
      e instanceof UserError &&
      /1 utterances have only FLAC audio \(first: .*p225_002_mic1\.flac\); difftts reads WAV: .*ffmpeg .*sox/.test(e.message) &&
      !e.message.includes('\n'),
  );
  writeWav(join(spk, 'p225_002_mic1.wav'), tone(0.7, 220), 22050);
  const r = readCorpus(dir);
  assert.deepEqual([r.usable.length, r.problems.length], [2, 0]);
  rmSync(dir, { recursive: true });
});

test('LibriTTS layout: speaker/chapter, normalized text read, original kept, 24 kHz flagged for resampling', () => {
  const dir = makeSpeakerCorpus('libritts', ['103', '1034'], 2);
  writeFileSync(join(dir, 'SPEAKERS.txt'), 'not a speaker folder\n');
  writeWav(join(dir, '103', '1', 'stray.wav'), tone(0.8, 200, 24000), 24000);
  assert.equal(detectLayout(dir), 'libritts');
  const r = readCorpus(dir);
  assert.deepEqual(
    r.entries.map((e) => [e.id, e.speaker]),
    [
      ['103_1_000000', '103'],
      ['103_1_000001', '103'],
      ['1034_1_000000', '1034'],
      ['1034_1_000001', '1034'],
    ],
  );
  assert.equal(r.entries[0]!.text, SAMPLE_TEXTS[0]);
  assert.equal(r.entries[0]!.rawText, SAMPLE_TEXTS[0]!.toUpperCase());
  assert.deepEqual(r.problems.map((p) => p.kind).sort(), ['extra-wav', 'sample-rate', 'sample-rate', 'sample-rate', 'sample-rate']);
  assert.equal(r.usable.length, 4);
  rmSync(dir, { recursive: true });
});

test('layouts: --layout overrides detection; a folder that is none of them is one line naming all three', () => {
  const lj = makeCorpus(2);
  assert.equal(detectLayout(lj), 'ljspeech');
  assert.deepEqual(
    readCorpus(lj).entries.map((e) => e.speaker),
    [null, null],
  );
  assert.throws(() => readCorpus(lj, { layout: 'vctk' }), /not a VCTK corpus \(expected wav48…\/pNNN\/\*\.wav and txt\/pNNN\/\*\.txt\)/);
  const empty = mkdtempSync(join(tmpdir(), 'difftts-empty-'));
  assert.throws(
    () => detectLayout(empty),
    (e: unknown) => e instanceof UserError && /no metadata\.csv .*VCTK.*LibriTTS/.test(e.message),
  );
  assert.throws(() => readCorpus(join(empty, 'nope')), /not a directory/);
  rmSync(lj, { recursive: true });
  rmSync(empty, { recursive: true });
});

test('LJSpeech speaker column: a row without a speaker among named rows is unusable, in one line', () => {
  const dir = makeSpeakerCorpus('ljspeech', ['anna', 'ben'], 2);
  writeFileSync(join(dir, 'metadata.csv'), 'anna-u00|Hello.|Hello.|anna\nanna-u01|Hi.|Hi.\nben-u00|Yes.||ben\nben-u01|No.|No.|ben\n');
  const r = readCorpus(dir);
  assert.deepEqual(
    r.problems.map((p) => [p.kind, p.row, p.fatal]),
    [['missing-speaker', 2, true]],
  );
  assert.match(r.problems[0]!.message, /metadata\.csv row 2: no speaker for 'anna-u01' while other rows name one \(row 1: 'anna'/);
  assert.deepEqual(
    speakerSummary(r.usable).map((s) => [s.speaker, s.utterances]),
    [
      ['anna', 1],
      ['ben', 2],
    ],
  );
  rmSync(dir, { recursive: true });
});
