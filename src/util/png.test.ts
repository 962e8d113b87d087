import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { writePng, renderSpectrogram, magma, crc32, SPECTROGRAM_RANGE } from './png.js';

const { PNG } = pngjs;
const dir = mkdtempSync(join(tmpdir(), 'difftts-png-'));

test('png: crc32 and magma end points', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926); // the CRC-32 check value
  assert.deepEqual(magma(0), [0, 0, 4]);
  assert.deepEqual(magma(1), [252, 253, 191]);
  assert.deepEqual(magma(-3), magma(0));
  // perceptual ordering: luminance grows monotonically
  const lum = (c: number[]) => 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
  for (let i = 1; i <= 20; i++) assert.ok(lum(magma(i / 20)) > lum(magma((i - 1) / 20)));
});

test('png: writePng round-trips pixels through pngjs', () => {
  const rgba = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 37) % 256);
  const p = join(dir, 'raw.png');
  writePng(p, 3, 2, rgba);
  const img = PNG.sync.read(readFileSync(p));
  assert.equal(img.width, 3);
  assert.equal(img.height, 2);
  assert.deepEqual(new Uint8Array(img.data), rgba);
  assert.throws(() => writePng(p, 4, 2, rgba), /expected 32/);
});

test('png: spectrogram pixels put low mels at the bottom, time left→right, fixed range, scaled', () => {
  // 3 mels × 4 frames; mel 0 (low) loud at frame 0, mel 2 (high) loud at frame 3, rest at the floor
  const data = new Float32Array(12).fill(SPECTROGRAM_RANGE.min);
  data[0 * 4 + 0] = SPECTROGRAM_RANGE.max;
  data[2 * 4 + 3] = SPECTROGRAM_RANGE.max;
  data[1 * 4 + 1] = (SPECTROGRAM_RANGE.min + SPECTROGRAM_RANGE.max) / 2;
  const img = renderSpectrogram({ data, nMels: 3, frames: 4 }, { scale: 2 });
  assert.equal(img.width, 8);
  assert.equal(img.height, 6);
  const px = (x: number, y: number) => Array.from(img.rgba.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 3));
  assert.deepEqual(px(0, 5), magma(1), 'mel 0 frame 0 = bottom-left');
  assert.deepEqual(px(1, 4), magma(1), 'scale 2 fills the block');
  assert.deepEqual(px(7, 0), magma(1), 'mel 2 frame 3 = top-right');
  assert.deepEqual(px(0, 0), magma(0));
  assert.deepEqual(px(2, 2), magma(Math.round(0.5 * 255) / 255), 'middle value in the middle of the map');
});
