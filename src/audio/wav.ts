/**
 * WAV input/output. Reading parses the RIFF structure ourselves so that every defect gets a precise
 * one-line UserError (`<file>: <what is wrong> (expected ...)`); writing uses wavefile's encoder
 * and an atomic rename.
 *
 * Supported input: PCM 8 (unsigned), 16, 24, 32-bit and IEEE float 32/64-bit, plain or
 * WAVE_FORMAT_EXTENSIBLE, any channel count (downmixed to mono by the mean), any sample rate.
 * Integer samples are scaled by 1/2^(bits−1) (int16/32768, as Grad-TTS/HiFi-GAN do).
 * Streamed WAVs (sizes left as placeholders by a writer on a pipe) are read to the end of the file.
 */
import { readFileSync } from 'node:fs';
import wavefile from 'wavefile';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';

const { WaveFile } = wavefile;

/** Decoded audio: mono samples in [-1, 1] (float files may exceed it) plus the file's format. */
export interface WavAudio {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  bitDepth: number;
  format: 'pcm' | 'float';
  durationSec: number;
}

// biome-ignore-start lint/complexity/useSimpleNumberKeys: WAVE format tags in hex, as the format's registry lists them
const FORMAT_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MP3',
};
// biome-ignore-end lint/complexity/useSimpleNumberKeys: (see above)

/**
 * data-chunk sizes that mean "to the end of the file": a writer streaming to a pipe cannot seek back
 * to fill in the size, so it leaves a placeholder — 0xFFFFFFFF (ffmpeg `-f wav -`), 0 (some
 * recorders) or 0x7FFFF000 (sox `-t wav -`). sox and libsndfile read such files to the end; so do we.
 * The RIFF size is never used (it carries the same placeholders).
 */
const STREAMED_SIZES = new Set([0xffffffff, 0, 0x7ffff000]);

/** Human-readable format, e.g. "PCM 16-bit" or "float 32-bit" (for `audio info`). */
export function describeFormat(a: Pick<WavAudio, 'format' | 'bitDepth'>): string {
  return `${a.format === 'pcm' ? 'PCM' : 'float'} ${a.bitDepth}-bit`;
}

/** Reads a WAV file into mono float samples. Throws UserError for anything unreadable. */
export function readWav(path: string): WavAudio {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}) (expected a WAV file)`);
  }
  return decodeWav(buf, path);
}

/** Decodes WAV bytes; `name` is used in error messages. */
export function decodeWav(buf: Uint8Array, name: string): WavAudio {
  const fail = (what: string): never => {
    throw new UserError(`${name}: ${what}`);
  };
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (off: number) => String.fromCharCode(buf[off]!, buf[off + 1]!, buf[off + 2]!, buf[off + 3]!);
  if (buf.length < 12) fail(`file is too short (${buf.length} bytes) to be a WAV file (expected a RIFF/WAVE header)`);
  const riff = tag(0);
  if (riff === 'RIFX' || riff === 'RF64') fail(`${riff} container is not supported (expected little-endian RIFF WAVE)`);
  if (riff !== 'RIFF' || tag(8) !== 'WAVE') fail('not a WAV file (expected a RIFF/WAVE header)');

  let fmt: { code: number; channels: number; rate: number; blockAlign: number; bits: number } | null = null;
  let dataOff = -1;
  let dataLen = 0;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = tag(off);
    const size = dv.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > buf.length) fail('truncated fmt chunk (expected at least 16 bytes)');
      let code = dv.getUint16(body, true);
      const channels = dv.getUint16(body + 2, true);
      const rate = dv.getUint32(body + 4, true);
      const blockAlign = dv.getUint16(body + 12, true);
      const bits = dv.getUint16(body + 14, true);
      if (code === 0xfffe) {
        // WAVE_FORMAT_EXTENSIBLE: the real format code is the first two bytes of the SubFormat GUID.
        if (size < 40) fail('truncated WAVE_FORMAT_EXTENSIBLE fmt chunk (expected 40 bytes)');
        code = dv.getUint16(body + 24, true);
      }
      fmt = { code, channels, rate, blockAlign, bits };
    } else if (id === 'data') {
      const rest = buf.length - body;
      const streamed = STREAMED_SIZES.has(size);
      if (!streamed && size > rest) fail(`data chunk declares ${size} bytes but only ${rest} follow (file truncated?)`);
      dataOff = body;
      // A trailing partial frame of a streamed file is dropped below (frames = ⌊dataLen / blockAlign⌋).
      dataLen = streamed ? rest : size;
      break;
    }
    off = body + size + (size & 1); // chunks are padded to an even length
  }
  if (!fmt) fail('no fmt chunk before the data (expected a RIFF WAVE with fmt and data chunks)');
  const { code, channels, rate, blockAlign, bits } = fmt!;
  if (dataOff < 0) fail('no data chunk (file truncated?)');

  let format: 'pcm' | 'float';
  if (code === 1) format = 'pcm';
  else if (code === 3) format = 'float';
  else return fail(`unsupported encoding ${FORMAT_NAMES[code] ?? `format code 0x${code.toString(16)}`} (expected PCM or IEEE float)`);
  if (channels < 1) fail('fmt chunk says 0 channels (expected ≥ 1)');
  if (rate < 1) fail('fmt chunk says sample rate 0 (expected > 0 Hz)');
  const okBits = format === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!okBits.includes(bits)) fail(`unsupported ${format === 'pcm' ? 'PCM' : 'float'} bit depth ${bits} (expected ${okBits.join('/')})`);
  const bytes = bits / 8;
  if (blockAlign !== bytes * channels)
    fail(`fmt block align ${blockAlign} does not match ${channels} × ${bits}-bit (expected ${bytes * channels})`);
  const frames = Math.floor(dataLen / blockAlign);
  if (frames === 0) fail('no audio samples (expected a non-empty data chunk)');

  const samples = new Float32Array(frames);
  const inv = 1 / channels;
  for (let c = 0; c < channels; c++) {
    let p = dataOff + c * bytes;
    for (let i = 0; i < frames; i++, p += blockAlign) {
      let v: number;
      if (format === 'float') {
        v = bytes === 4 ? dv.getFloat32(p, true) : dv.getFloat64(p, true);
        if (!Number.isFinite(v)) fail(`sample ${i} of channel ${c} is ${v} (expected finite float samples)`);
      } else if (bytes === 2) v = dv.getInt16(p, true) / 32768;
      else if (bytes === 1) v = (buf[p]! - 128) / 128;
      else if (bytes === 3) v = (buf[p]! | (buf[p + 1]! << 8) | ((buf[p + 2]! << 24) >> 8)) / 8388608;
      else v = dv.getInt32(p, true) / 2147483648;
      samples[i] += channels === 1 ? v : v * inv;
    }
  }
  return { samples, sampleRate: rate, channels, bitDepth: bits, format, durationSec: frames / rate };
}

/**
 * Mono samples in [-1, 1] → the bytes of a WAV file: 16-bit PCM (clipped, NaN → 0) or 32-bit float
 * (every sample must be finite).
 */
export function encodeWav(samples: Float32Array, sampleRate: number, encoding: 'pcm16' | 'float32' = 'pcm16'): Uint8Array {
  if (!(Number.isInteger(sampleRate) && sampleRate > 0))
    throw new Error(`encodeWav: sample rate must be a positive integer, got ${sampleRate}`);
  const wav = new WaveFile();
  if (encoding === 'pcm16') {
    const ints = new Int16Array(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const v = Math.round(samples[i]! * 32768);
      ints[i] = Math.max(-32768, Math.min(32767, v)); // NaN rounds to NaN and becomes 0
    }
    wav.fromScratch(1, sampleRate, '16', ints);
  } else {
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i]!)) throw new Error(`encodeWav: sample ${i} is ${samples[i]} (expected finite)`);
    }
    wav.fromScratch(1, sampleRate, '32f', samples);
  }
  return wav.toBuffer();
}

/**
 * Writes mono `samples` as a WAV file atomically. 'pcm16' scales by 32768 with rounding and
 * clipping to the int16 range (so int16 → readWav → writeWav is lossless); 'float32' stores as is.
 */
export function writeWav(path: string, samples: Float32Array, sampleRate: number, encoding: 'pcm16' | 'float32' = 'pcm16'): void {
  writeFileAtomic(path, encodeWav(samples, sampleRate, encoding));
}
