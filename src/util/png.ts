/**
 * PNG encoding (pngjs, written atomically, optional tEXt chunks); the raw pixels of a spectrogram
 * are re-exported from spectrogram-pixels.ts (no Node APIs there: the web page draws them too).
 *
 * Spectrogram pixels: time runs left → right, low frequencies at the bottom, colours from a magma
 * approximation over a FIXED log-mel range (default ln(1e-5) .. 2.5, i.e. the HiFi-GAN floor to a
 * little above loud speech) so that two images are comparable by eye. Each mel cell becomes a
 * scale × scale block. src/plot/spectrogram.ts puts these pixels into a figure with a title, axes
 * and a colour bar — what every spectrogram PNG difftts writes looks like.
 */
import pngjs from 'pngjs';
import { writeFileAtomic } from './atomic.js';

const { PNG } = pngjs;

export { magma, renderSpectrogram, SPECTROGRAM_RANGE, type SpectrogramPngOptions } from './spectrogram-pixels.js';

/** Encodes RGBA pixels (row-major, 4 bytes per pixel) as PNG bytes, with optional tEXt chunks. */
export function encodePngRgba(width: number, height: number, rgba: Uint8Array, text: Record<string, string> = {}): Uint8Array {
  if (rgba.length !== width * height * 4)
    throw new Error(`writePng: ${rgba.length} bytes for ${width}×${height} RGBA (expected ${width * height * 4})`);
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
