/**
 * PNG encoding (pngjs, written atomically, optional tEXt chunks) and the raw pixels of a spectrogram.
 *
 * Spectrogram pixels: time runs left → right, low frequencies at the bottom, colours from a magma
 * approximation over a FIXED log-mel range (default ln(1e-5) .. 2.5, i.e. the HiFi-GAN floor to a
 * little above loud speech) so that two images are comparable by eye. Each mel cell becomes a
 * scale × scale block. src/util/spectrogram.ts puts these pixels into a figure with a title, axes
 * and a colour bar — what every spectrogram PNG difftts writes looks like.
 */
import pngjs from 'pngjs';
import { writeFileAtomic } from './atomic.js';
import type { Mel } from '../audio/mel.js';

const { PNG } = pngjs;

export interface SpectrogramPngOptions {
  /** Integer upscaling per mel cell (default: ⌈240 / nMels⌉, i.e. 3 for 80 mels). */
  scale?: number;
  /** Integer width per frame when it differs from `scale` (short mels drawn wider); default `scale`. */
  xScale?: number;
  /** Log-mel value mapped to the darkest colour (default ln(1e-5)). */
  min?: number;
  /** Log-mel value mapped to the brightest colour (default 2.5). */
  max?: number;
}

export const SPECTROGRAM_RANGE = { min: Math.log(1e-5), max: 2.5 };

/** matplotlib's magma sampled at 0, 1/8, …, 1 (sRGB); interpolated linearly in between. */
const MAGMA: [number, number, number][] = [
  [0, 0, 4],
  [28, 16, 68],
  [79, 18, 123],
  [129, 37, 129],
  [181, 54, 122],
  [229, 80, 100],
  [251, 135, 97],
  [254, 194, 135],
  [252, 253, 191],
];

/** Colour of u ∈ [0, 1] (clamped) on the magma approximation. */
export function magma(u: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, Number.isNaN(u) ? 0 : u)) * (MAGMA.length - 1);
  const i = Math.min(MAGMA.length - 2, Math.floor(v));
  const f = v - i;
  const a = MAGMA[i]!;
  const b = MAGMA[i + 1]!;
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** Renders a mel as RGBA pixels [height = nMels·scale, width = frames·xScale]. */
export function renderSpectrogram(mel: Mel, opts: SpectrogramPngOptions = {}): { width: number; height: number; rgba: Uint8Array } {
  const scale = opts.scale ?? Math.max(1, Math.ceil(240 / Math.max(1, mel.nMels)));
  const xs = opts.xScale ?? scale;
  if (!(Number.isInteger(scale) && scale >= 1 && Number.isInteger(xs) && xs >= 1)) throw new Error(`renderSpectrogram: scale must be a positive integer, got ${scale} × ${xs}`);
  const lo = opts.min ?? SPECTROGRAM_RANGE.min;
  const hi = opts.max ?? SPECTROGRAM_RANGE.max;
  const width = Math.max(1, mel.frames * xs);
  const height = Math.max(1, mel.nMels * scale);
  const rgba = new Uint8Array(width * height * 4);
  // 256-entry palette: one lookup per cell instead of interpolating per pixel
  const lut = Array.from({ length: 256 }, (_, i) => magma(i / 255));
  for (let m = 0; m < mel.nMels; m++) {
    const rowTop = (mel.nMels - 1 - m) * scale; // mel bin 0 (lowest frequency) at the bottom
    for (let t = 0; t < mel.frames; t++) {
      const u = (mel.data[m * mel.frames + t]! - lo) / (hi - lo);
      const c = lut[Math.round(Math.min(1, Math.max(0, Number.isNaN(u) ? 0 : u)) * 255)]!;
      for (let dy = 0; dy < scale; dy++) {
        let p = ((rowTop + dy) * width + t * xs) * 4;
        for (let dx = 0; dx < xs; dx++, p += 4) {
          rgba[p] = c[0];
          rgba[p + 1] = c[1];
          rgba[p + 2] = c[2];
          rgba[p + 3] = 255;
        }
      }
    }
  }
  return { width, height, rgba };
}

/** Encodes RGBA pixels (row-major, 4 bytes per pixel) as PNG bytes, with optional tEXt chunks. */
export function encodePngRgba(width: number, height: number, rgba: Uint8Array, text: Record<string, string> = {}): Uint8Array {
  if (rgba.length !== width * height * 4) throw new Error(`writePng: ${rgba.length} bytes for ${width}×${height} RGBA (expected ${width * height * 4})`);
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  let bytes: Uint8Array = PNG.sync.write(png);
  const chunks = Object.entries(text).map(([k, v]) => textChunk(k, v));
  if (chunks.length) {
    // insert before the final IEND chunk (12 bytes)
    const iend = bytes.length - 12;
    bytes = Buffer.concat([bytes.subarray(0, iend), ...chunks, bytes.subarray(iend)]);
  }
  return bytes;
}

/** Writes an RGBA image as PNG at `path`, atomically. */
export function writePng(path: string, width: number, height: number, rgba: Uint8Array): void {
  writeFileAtomic(path, encodePngRgba(width, height, rgba));
}

/** A PNG tEXt chunk (Latin-1 keyword and text; other characters become '?'). */
function textChunk(keyword: string, text: string): Uint8Array {
  const latin1 = (s: string) => Buffer.from(s.replace(/[^\x20-\x7e\xa0-\xff]/g, '?'), 'latin1');
  const body = Buffer.concat([Buffer.from('tEXt', 'latin1'), latin1(keyword.slice(0, 79)), Buffer.from([0]), latin1(text)]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(body.length - 4, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

let crcTable: Uint32Array | null = null;
/** CRC-32 (ISO-HDLC, as PNG uses) of bytes. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
