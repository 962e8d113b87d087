import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { DEFAULT_MEL, melFilterbank, type Mel } from '../audio/mel.js';
import { magma, renderSpectrogram, SPECTROGRAM_RANGE } from '../util/png.js';
import { renderSpectrogramFigure, writeSpectrogramPng } from './spectrogram.js';

const { PNG } = pngjs;
const dir = mkdtempSync(join(tmpdir(), 'difftts-spec-'));
const { min: LO, max: HI } = SPECTROGRAM_RANGE;

/** An 80-mel, 2-second mel at the floor with one loud bin (all frames) and one loud frame (all bins). */
function probe(bin: number, frame: number, frames = 173): Mel {
  const data = new Float32Array(80 * frames).fill(LO);
  for (let t = 0; t < frames; t++) data[bin * frames + t] = HI;
  for (let m = 0; m < 80; m++) data[m * frames + frame] = HI;
  return { data, nMels: 80, frames };
}

const pixel = (r: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(r.data.subarray((y * r.width + x) * 4, (y * r.width + x) * 4 + 3));
const inked = (r: { width: number; data: Uint8Array }, x0: number, y0: number, x1: number, y1: number) => {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (pixel(r, x, y).every((c) => c < 128)) n++;
  return n;
};

test('spectrogram figure: the panel holds the exact spectrogram pixels; Hz ticks sit on the mel bins of those frequencies; seconds on the frames', () => {
  const fb = melFilterbank(DEFAULT_MEL);
  const bin = 40;
  const frame = Math.round((1.0 * DEFAULT_MEL.sampleRate) / DEFAULT_MEL.hop); // the frame at 1 s
  const mel = probe(bin, frame);
  const { raster, layout } = renderSpectrogramFigure({ title: 'probe', panels: [{ mel }] });
  const p = layout.panels[0]!;
  const s = layout.scale;
  assert.equal(s, 3);
  assert.equal(layout.xScale, 3, 'a 2-second mel is wide enough at 3 px per frame');
  const img = renderSpectrogram(mel, { scale: s });
  for (const [x, y] of [
    [0, 0],
    [frame * s + 1, 10],
    [5, p.height - 1 - bin * s - 1],
    [p.width - 1, p.height - 1],
  ] as const) {
    assert.deepEqual(
      pixel(raster, p.left + x, p.top + y),
      Array.from(img.rgba.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)),
    );
  }
  // bin m is centred on filterbank edge m + 1 (the filter's peak): the Hz axis maps there
  for (const m of [0, 10, bin, 79]) {
    const row = layout.hzRow(fb.edgesHz[m + 1]!);
    assert.ok(Math.abs(row - (p.height - (m + 0.5) * s)) < 1e-6, `bin ${m}: row ${row}`);
  }
  // the loud bin is where the axis says its centre frequency is
  assert.deepEqual(pixel(raster, p.left + 3, Math.round(p.top + layout.hzRow(fb.edgesHz[bin + 1]!))), magma(1));
  assert.deepEqual(pixel(raster, p.left + 3, Math.round(p.top + layout.hzRow(fb.edgesHz[bin + 1]!)) - 2 * s), magma(0));
  // the loud frame is at 1 s on the time axis
  assert.deepEqual(pixel(raster, Math.round(p.left + layout.secCol(1.0) + 1), p.top + 5), magma(1));
  assert.deepEqual(pixel(raster, Math.round(p.left + layout.secCol(1.0) + 1 + 2 * s), p.top + 5), magma(0));
  // a tick mark left of the panel at 1000 Hz, tick labels and the axis titles are drawn (ink outside the panel)
  assert.deepEqual(pixel(raster, p.left - 4, Math.round(p.top + layout.hzRow(1000))), [0, 0, 0]);
  assert.ok(inked(raster, 0, p.top, p.left - 8, p.top + p.height) > 200, 'frequency labels');
  assert.ok(inked(raster, p.left, p.top + p.height + 4, p.left + p.width, raster.height) > 200, 'time labels');
  assert.ok(inked(raster, 0, 0, raster.width, p.top - 4) > 30, 'title');
});

test('spectrogram figure: the colour bar runs from the floor (bottom) to the top of the range, ticked in log-mel units', () => {
  const { raster, layout } = renderSpectrogramFigure({ title: 'bar', panels: [{ mel: probe(1, 1, 20) }] });
  const b = layout.colourBar;
  const cx = b.left + Math.floor(b.width / 2);
  assert.deepEqual(pixel(raster, cx, b.top), magma(1));
  assert.deepEqual(pixel(raster, cx, b.top + b.height - 1), magma(0));
  // the tick at value v is on the row whose colour is v's
  for (const v of [-10, -5, 0, 2.5]) {
    const y = Math.round(b.top + (1 - (v - LO) / (HI - LO)) * (b.height - 1));
    assert.deepEqual(pixel(raster, b.left + b.width + 2, y), [0, 0, 0], `tick ${v}`);
    const c = pixel(raster, cx, y);
    const want = magma((v - LO) / (HI - LO));
    assert.ok(
      c.every((x, k) => Math.abs(x - want[k]!) <= 6),
      `colour at ${v}: ${c} vs ${want}`,
    );
  }
  assert.ok(inked(raster, b.left + b.width + 6, b.top, raster.width, b.top + b.height) > 200, 'tick values and the units');
});

test('spectrogram figure: two labelled panels share the time axis; the PNG carries the title; written atomically', () => {
  const a = probe(10, 5, 100);
  const g = probe(60, 50, 80);
  const path = join(dir, 'two.png');
  writeSpectrogramPng(path, {
    title: 'Step 7: u01 "hello"',
    panels: [
      { mel: a, label: 'target' },
      { mel: g, label: 'generated' },
    ],
  });
  const bytes = readFileSync(path);
  assert.ok(bytes.includes(Buffer.from('tEXtTitle\0Step 7: u01 "hello"', 'latin1')));
  const png = PNG.sync.read(bytes);
  const r = { width: png.width, data: new Uint8Array(png.data) };
  const { layout } = renderSpectrogramFigure({
    title: 'Step 7: u01 "hello"',
    panels: [
      { mel: a, label: 'target' },
      { mel: g, label: 'generated' },
    ],
  });
  const [p0, p1] = layout.panels;
  assert.equal(png.width, renderSpectrogramFigure({ title: 'x', panels: [{ mel: a }, { mel: g }] }).raster.width);
  assert.equal(p0!.left, p1!.left);
  const xs = layout.xScale;
  assert.equal(xs, 5, 'a short mel is drawn wider');
  assert.equal(p0!.width, 100 * xs, 'both panels span the longer mel');
  assert.ok(p1!.top >= p0!.top + p0!.height + 10, 'separate panels, not one stacked image');
  // each panel shows its own mel: target's loud frame 5, generated's loud frame 50; past its end the generated panel is blank
  assert.deepEqual(pixel(r, p0!.left + 5 * xs + 1, p0!.top + 2), magma(1));
  assert.deepEqual(pixel(r, p0!.left + 6 * xs + 1, p0!.top + 2), magma(0));
  assert.deepEqual(pixel(r, p1!.left + 50 * xs + 1, p1!.top + 2), magma(1));
  assert.deepEqual(pixel(r, p1!.left + 90 * xs, p1!.top + 2), [255, 255, 255]);
  // the labels are drawn above their panels
  assert.ok(inked(r, p0!.left, p0!.top - 18, p0!.left + 200, p0!.top - 2) > 20, 'target label');
  assert.ok(inked(r, p1!.left, p1!.top - 18, p1!.left + 200, p1!.top - 2) > 20, 'generated label');
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
  );
});
