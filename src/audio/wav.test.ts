import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
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
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
  );
});

test('wav: skips unknown chunks (LIST) and handles odd-sized chunk padding', () => {
  const base = encode('16', 1, [[1, 2, 3, 4]]);
  // insert a 3-byte 'junk' chunk (+1 pad byte) right after the RIFF header
  const junk = Buffer.concat([Buffer.from('junk'), Buffer.from([3, 0, 0, 0, 9, 9, 9, 0])]);
  const bytes = Buffer.concat([Buffer.from(base.subarray(0, 12)), junk, Buffer.from(base.subarray(12))]);
  bytes.writeUInt32LE(bytes.length - 8, 4);
  const a = decodeWav(bytes, 'junk.wav');
  assert.deepEqual(
    Array.from(a.samples, (v) => v * 32768),
    [1, 2, 3, 4],
  );
});

/** A WAVE_FORMAT_EXTENSIBLE file by hand: fmt size 40, code 0xFFFE, SubFormat GUID starting with `sub`. */
function extensible(sub: number, bits: number, channels: number, body: Buffer): Buffer {
  const fmt = Buffer.alloc(48);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(40, 4);
  fmt.writeUInt16LE(0xfffe, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(16000, 12);
  fmt.writeUInt32LE(16000 * channels * (bits / 8), 16);
  fmt.writeUInt16LE(channels * (bits / 8), 20);
  fmt.writeUInt16LE(bits, 22);
  fmt.writeUInt16LE(22, 24); // cbSize
  fmt.writeUInt16LE(bits, 26); // valid bits
  fmt.writeUInt32LE(channels === 2 ? 3 : 4, 28); // channel mask
  fmt.writeUInt16LE(sub, 32); // SubFormat GUID: format code + KSDATAFORMAT suffix
  Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(fmt, 34);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.write('WAVE', 8, 'latin1');
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(body.length, 4);
  const all = Buffer.concat([head, fmt, data, body]);
  all.writeUInt32LE(all.length - 8, 4);
  return all;
}

test('wav: WAVE_FORMAT_EXTENSIBLE float and PCM are read by their SubFormat', () => {
  const f = Buffer.alloc(16);
  [0.5, -0.25, 0.125, 0.75].forEach((v, i) => f.writeFloatLE(v, 4 * i));
  const a = decodeWav(extensible(3, 32, 2, f), 'ext.wav');
  assert.equal(a.format, 'float');
  assert.equal(a.channels, 2);
  assert.deepEqual(Array.from(a.samples), [0.125, 0.4375]);
  const p = Buffer.alloc(6);
  p.writeIntLE(-4194304, 0, 3);
  p.writeIntLE(8388607, 3, 3);
  const b = decodeWav(extensible(1, 24, 1, p), 'ext24.wav');
  assert.deepEqual(Array.from(b.samples), [-0.5, 8388607 / 8388608]);
  assert.throws(() => decodeWav(extensible(6, 8, 1, Buffer.alloc(4)), 'extalaw.wav'), /extalaw\.wav: unsupported encoding A-law/);
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
  assert.throws(
    () => readWav(join(dir, 'nope.wav')),
    (e: unknown) => e instanceof UserError && /nope\.wav: cannot read \(ENOENT\)/.test(e.message),
  );
});

/**
 * The bytes `ffmpeg -i IN -f wav -` writes to a pipe (checked against ffmpeg 5.1's output): RIFF and data
 * sizes 0xFFFFFFFF because it cannot seek back, and a LIST/INFO/ISFT chunk naming the muxer before the data.
 */
function pipedWav(samples: number[], sizes: { riff: number; data: number } = { riff: 0xffffffff, data: 0xffffffff }): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8); // PCM
  fmt.writeUInt16LE(1, 10); // mono
  fmt.writeUInt32LE(8000, 12);
  fmt.writeUInt32LE(16000, 16); // byte rate
  fmt.writeUInt16LE(2, 20); // block align
  fmt.writeUInt16LE(16, 22);
  const isft = Buffer.from('Lavf59.27.100\0', 'latin1');
  const list = Buffer.alloc(8 + 4 + 8 + isft.length);
  list.write('LIST', 0, 'latin1');
  list.writeUInt32LE(list.length - 8, 4);
  list.write('INFO', 8, 'latin1');
  list.write('ISFT', 12, 'latin1');
  list.writeUInt32LE(isft.length, 16);
  isft.copy(list, 20);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(sizes.riff, 4);
  head.write('WAVE', 8, 'latin1');
  const data = Buffer.alloc(8 + 2 * samples.length);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(sizes.data, 4);
  samples.forEach((v, i) => data.writeInt16LE(v, 8 + 2 * i));
  return Buffer.concat([head, fmt, list, data]);
}

test("wav: streamed WAVs (sizes 0xFFFFFFFF, 0 or sox's 0x7FFFF000) are read to the end of the file; truncated ones still fail", () => {
  const ints = [0, 1000, -1000, 32767, -32768, 12345, -1, 7];
  const want = ints.map((v) => v / 32768);
  for (const sizes of [
    { riff: 0xffffffff, data: 0xffffffff },
    { riff: 0, data: 0 },
    { riff: 0x7ffff024, data: 0x7ffff000 },
  ]) {
    const a = decodeWav(pipedWav(ints, sizes), 'pipe.wav');
    assert.deepEqual(Array.from(a.samples), want, `sizes ${JSON.stringify(sizes)}`);
    assert.equal(a.durationSec, ints.length / 8000);
  }
  // a pipe cut mid-sample: the partial frame at the end is dropped, as libsndfile does
  const cut = pipedWav(ints);
  assert.deepEqual(Array.from(decodeWav(cut.subarray(0, cut.length - 1), 'cut.wav').samples), want.slice(0, -1));
  assert.throws(() => decodeWav(pipedWav([]), 'nothing.wav'), /nothing\.wav: no audio samples/);
  // any other size larger than what follows is a truncated file
  const lie = pipedWav(ints, { riff: 0xffffffff, data: 0xfffffffe });
  assert.throws(() => decodeWav(lie, 'lie.wav'), /lie\.wav: data chunk declares 4294967294 bytes but only 16 follow \(file truncated\?\)/);
  assert.throws(() => decodeWav(pipedWav(ints, { riff: 0, data: 18 }), 'short.wav'), /declares 18 bytes but only 16 follow/);
});

test('wav: what ffmpeg writes to a pipe decodes to the same samples as its source (skipped without ffmpeg)', (t) => {
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) return t.skip('ffmpeg is not installed');
  const src = join(dir, 'for-ffmpeg.wav');
  const x = Float32Array.from({ length: 4000 }, (_, i) => Math.round(16000 * Math.sin(i / 7)) / 32768);
  writeWav(src, x, 16000, 'pcm16');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', src, '-c:a', 'pcm_s16le', '-f', 'wav', '-'], {
    maxBuffer: 1 << 24,
  });
  assert.equal(r.status, 0, String(r.stderr));
  const piped = r.stdout as Buffer;
  assert.equal(piped.readUInt32LE(4), 0xffffffff, 'ffmpeg leaves the RIFF size unset on a pipe');
  assert.equal(piped.readUInt32LE(piped.indexOf('data', 12, 'latin1') + 4), 0xffffffff, 'and the data size');
  const a = decodeWav(piped, 'ffmpeg-pipe.wav');
  assert.equal(a.sampleRate, 16000);
  assert.deepEqual(a.samples, readWav(src).samples);
});
