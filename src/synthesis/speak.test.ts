/**
 * Long text with the shipped default voice (steps 0, one Griffin-Lim iteration: fast): spoken a
 * piece at a time into one WAV whose length grows linearly with the text, no tensor left behind;
 * and the piece planner on hostile text.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend/index.js';
import { readWav } from '../audio/wav.js';
import { UserError } from '../errors.js';
import { cleanText, DEFAULT_TEXT } from '../text/index.js';
import { Rng } from '../util/rng.js';
import { assertNoLeak } from '../testing/tensors.js';
import { loadModel, type LoadedModel } from './model.js';
import { synthesizeToFiles } from './batch.js';
import { MAX_PIECE_CHARS, speakPieces, textPieces } from './speak.js';
import { resolveVoice, DEFAULT_VOICE } from './voices.js';
import { printable } from '../util/printable.js';

let lm: LoadedModel;
before(async () => {
  await initBackend('wasm');
  lm = loadModel(resolveVoice(DEFAULT_VOICE));
});
after(() => lm.model.dispose());

const SENTENCE = 'The library stays open until nine on weekdays, and volunteers help at the desk. ';
const p = { steps: 0, temperature: 1, lengthScale: 1, stochastic: false, seed: 1 };

test('a long text is one WAV whose length grows linearly with the text (pieces of ≤ MAX_PIECE_CHARS)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'difftts-long-'));
  const seconds: number[] = [];
  for (const n of [5, 10, 20]) {
    const text = SENTENCE.repeat(n).trim(); // 410, 820, 1640 characters
    const [f] = await assertNoLeak(
      () => synthesizeToFiles({ checkpoint: '', loaded: lm, texts: [text], out: join(out, `n${n}.wav`), steps: 0, iters: 1 }),
      'long text',
    );
    assert.equal(readWav(f!.wav).samples.length / 22050, f!.seconds);
    seconds.push(f!.seconds);
  }
  // each doubling of the text doubles the audio (within 10 %: pieces pack different sentence counts)
  for (let i = 1; i < seconds.length; i++) assert.ok(Math.abs(seconds[i]! / seconds[i - 1]! - 2) < 0.2, `${seconds.join(', ')} s`);
  assert.ok(seconds[0]! > 5 * 2, `${seconds[0]} s for five sentences`);
});

test('speakPieces: each piece ≤ the bound, a pause after each but the last, the same samples for the same seed', async () => {
  const text = SENTENCE.repeat(4);
  const a = [];
  for await (const piece of speakPieces(lm, text, p, 1, 100)) a.push(piece);
  assert.equal(a.length, 4, 'one sentence (81 characters) per piece at a 100-character bound');
  for (const piece of a) assert.ok(piece.text.length <= 100 && piece.count === 4);
  const tail = (s: Float32Array) => s.subarray(s.length - Math.round(0.3 * 22050));
  assert.ok(
    tail(a[0]!.samples).every((v) => v === 0),
    'a sentence pause of silence',
  );
  assert.ok(!tail(a[3]!.samples).every((v) => v === 0), 'no pause after the last piece');
  const b = [];
  for await (const piece of speakPieces(lm, text, p, 1, 100)) b.push(piece);
  assert.deepEqual(b[2]!.samples, a[2]!.samples);
});

test('textPieces on random hostile text: every piece within the bound after cleaning, or one UserError', () => {
  const rng = new Rng(11);
  const parts = [
    'hello',
    'world',
    '. ',
    ', ',
    ' ',
    '\n',
    '\n\n',
    '😀',
    '\u0000',
    '\u001b[31m',
    '\u0007',
    'ümlaut',
    '中文',
    '12/05/2024',
    '3pm',
    '$1,000,000',
    '9'.repeat(40),
    '1'.repeat(400),
    '\u202e',
    'Mr.',
    '...',
    '—',
  ];
  const fake = { textConfig: DEFAULT_TEXT } as LoadedModel;
  let spoken = 0;
  for (let trial = 0; trial < 150; trial++) {
    const text = Array.from({ length: rng.int(60) }, () => parts[rng.int(parts.length)]).join('');
    try {
      const pieces = textPieces(fake, text);
      spoken++;
      for (const q of pieces) assert.ok(q.text.length > 0 && cleanText(q.text).length <= MAX_PIECE_CHARS, `${cleanText(q.text).length}`);
    } catch (err) {
      assert.ok(err instanceof UserError, `${(err as Error).stack}`);
      assert.doesNotMatch(err.message, /[\u0000-\u001f]/, 'control characters escaped');
      assert.match(err.message, /nothing to speak after cleaning/);
    }
  }
  assert.ok(spoken > 100, `${spoken} of 150 spoken`);
  assert.equal(printable('a\u001b[2Jb\u0007\u0000\u202e'), 'a\\x1b[2Jb\\x07\\x00\\u202e');
});
