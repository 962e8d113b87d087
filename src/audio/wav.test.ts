import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { readWav, writeWav, decodeWav, describeFormat } from './wav.js';
import { UserError } from '../errors.js';
import { speechFixtures } from '../testing/paths.js';

const { WaveFile } = wavefile;
const dir = mkdtempSync(join(tmpdir(), 'difftts-wav-'));

/** A 440 Hz sine at 0.5 amplitude (exactly representable shape, checked against each format's step). */
const N = 1000;
const sine = Float64Array.from({ length: N }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 8000));

/** Encodes with wavefile, an independent encoder, so the reader is checked against someone else's writer. */
function encode(bitDepth: string, channels: number, samples: ArrayLike<number>[]): Uint8Array {
  const w = new WaveFile();
  w.fromScratch(channels, 8000, bitDepth, channels === 1 ? samples[0]! : samples);
  return w.toBuffer();
}

test('wav: decodes PCM 8/16/24/32-bit and float 32/64-bit written by wavefile, within one quantisation step', () => {
  const cases: [string, number, 'pcm' | 'float', (v: number) => number, number][] = [
    ['8', 8, 'pcm', (v) => Math.round(v * 128 + 128), 1 / 128],
    ['16', 16, 'pcm', (v) => Math.round(v * 32768), 1 / 32768],
    ['24', 24, 'pcm', (v) => Math.round(v * 8388608), 1 / 8388608],
    ['32', 32, 'pcm', (v) => Math.round(v * 2147483648), 1e-7],
    ['32f', 32, 'float', (v) => v, 1e-7],
    ['64', 64, 'float', (v) => v, 1e-7],
  ];
  for (const [code, bits, format, q, tol] of cases) {
    const a = decodeWav(encode(code, 1, [Array.from(sine, q)]), `t${code}.wav`);
    assert.equal(a.bitDepth, bits);
    assert.equal(a.format, format);
    assert.equal(a.sampleRate, 8000);
    assert.equal(a.channels, 1);
    assert.equal(a.samples.length, N);
    assert.equal(a.durationSec, N / 8000);
    let maxErr = 0;
    for (let i = 0; i < N; i++) maxErr = Math.max(maxErr, Math.abs(a.samples[i]! - sine[i]!));
    assert.ok(maxErr <= tol, `${code}: max error ${maxErr} > ${tol}`);
  }
  assert.equal(describeFormat({ format: 'pcm', bitDepth: 16 }), 'PCM 16-bit');
  assert.equal(describeFormat({ format: 'float', bitDepth: 32 }), 'float 32-bit');
});

test('wav: multi-channel is downmixed to mono by the mean', () => {
  const left = Array.from({ length: 8 }, (_, i) => i * 1000);
  const right = Array.from({ length: 8 }, (_, i) => -i * 500 + 100);
  const third = Array.from({ length: 8 }, () => 3000);
  const a = decodeWav(encode('16', 3, [left, right, third]), 'multi.wav');
  assert.equal(a.channels, 3);
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(a.samples[i]! - (left[i]! + right[i]! + third[i]!) / 3 / 32768) < 1e-7);
});

test('wav: writes PCM16 losslessly for int16-derived audio and float32 exactly; atomically', () => {
  const f = speechFixtures()[2]!;
  const a = readWav(f.wav);
  assert.equal(a.sampleRate, 22050);
  assert.equal(describeFormat(a), 'PCM 16-bit');
  const p16 = join(dir, 'o16.wav');
  writeWav(p16, a.samples, a.sampleRate, 'pcm16');
  const b = readWav(p16);
  assert.deepEqual(b.samples, a.samples);
  // the sample bytes are identical to the fixture's
  const src = readFileSync(f.wav);
  const out = readFileSync(p16);
  assert.ok(Buffer.compare(src.subarray(src.length - 200), out.subarray(out.length - 200)) === 0);

  const pf = join(dir, 'of.wav');
  const x = Float32Array.from([0, 0.1, -0.7, 1.5, -2]);
  writeWav(pf, x, 16000, 'float32');
  const c = readWav(pf);
  assert.equal(c.format, 'float');
  assert.equal(c.bitDepth, 32);
  assert.equal(c.sampleRate, 16000);
  assert.deepEqual(c.samples, x);
  // PCM16 clips instead of wrapping
  writeWav(p16, Float32Array.from([1.5, -1.5]), 8000, 'pcm16');
  assert.deepEqual(Array.from(readWav(p16).samples), [32767 / 32768, -1]);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp-')), []);
});

test('wav: skips unknown chunks (LIST) and handles odd-sized chunk padding', () => {
  const base = encode('16', 1, [[1, 2, 3, 4]]);
  // insert a 3-byte 'junk' chunk (+1 pad byte) right after the RIFF header
  const junk = Buffer.concat([Buffer.from('junk'), Buffer.from([3, 0, 0, 0, 9, 9, 9, 0])]);
  const bytes = Buffer.concat([Buffer.from(base.subarray(0, 12)), junk, Buffer.from(base.subarray(12))]);
  bytes.writeUInt32LE(bytes.length - 8, 4);
  const a = decodeWav(bytes, 'junk.wav');
  assert.deepEqual(Array.from(a.samples, (v) => v * 32768), [1, 2, 3, 4]);
});

test('wav: bad files are one-line UserErrors naming the file and what was expected', () => {
  const good = Buffer.from(encode('16', 1, [Array.from({ length: 100 }, (_, i) => i)]));
  const withFormat = (code: number, bits = 8) => {
    const b = Buffer.from(good);
    b.writeUInt16LE(code, 20);
    b.writeUInt16LE(bits, 34);
    b.writeUInt16LE(bits / 8, 32);
    return b;
  };
  const floatNaN = Buffer.from(encode('32f', 1, [[0.1, NaN, 0.2]]));
  const floatInf = Buffer.from(encode('32f', 1, [[0.1, 0.2, Infinity]]));
  const empty = Buffer.from(encode('16', 1, [[]]));
  const cases: [Uint8Array, RegExp][] = [
    [Buffer.from('hello world, not audio'), /not a WAV file \(expected a RIFF\/WAVE header\)/],
    [Buffer.from('RIFF'), /too short/],
    [good.subarray(0, good.length - 50), /data chunk declares 200 bytes but only 150 follow/],
    [good.subarray(0, 30), /truncated fmt chunk|no data chunk/],
    [withFormat(6), /unsupported encoding A-law \(expected PCM or IEEE float\)/],
    [withFormat(7), /unsupported encoding µ-law/],
    [withFormat(0x55), /unsupported encoding MP3/],
    [withFormat(2, 4), /unsupported encoding Microsoft ADPCM/],
    [withFormat(1, 12), /unsupported PCM bit depth 12/],
    [empty, /no audio samples \(expected a non-empty data chunk\)/],
    [floatNaN, /sample 1 of channel 0 is NaN \(expected finite float samples\)/],
    [floatInf, /sample 2 of channel 0 is Infinity/],
  ];
  for (const [bytes, re] of cases) {
    const p = join(dir, 'bad.wav');
    writeFileSync(p, bytes);
    assert.throws(
      () => readWav(p),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`${p}: `) && re.test(e.message) && !e.message.includes('\n'),
      `expected ${re}`,
    );
  }
  assert.throws(() => readWav(join(dir, 'nope.wav')), (e: unknown) => e instanceof UserError && /nope\.wav: cannot read \(ENOENT\)/.test(e.message));
});
