import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { SERIES_COLOURS, formatTick, logTicks, niceTicks, renderLinePlot, textWidth, writeLinePlotPng, type Raster } from './plot.js';

const { PNG } = pngjs;

function pixel(r: Raster, x: number, y: number): [number, number, number] {
  const i = (Math.round(y) * r.width + Math.round(x)) * 4;
  return [r.data[i]!, r.data[i + 1]!, r.data[i + 2]!];
}

/** True when a pixel of colour c lies within `rad` pixels of (x, y). */
function colourNear(r: Raster, x: number, y: number, c: [number, number, number], rad = 2): boolean {
  for (let dy = -rad; dy <= rad; dy++)
    for (let dx = -rad; dx <= rad; dx++) {
      const p = pixel(r, x + dx, y + dy);
      if (p[0] === c[0] && p[1] === c[1] && p[2] === c[2]) return true;
    }
  return false;
}

function countColour(r: Raster, c: [number, number, number], box?: [number, number, number, number]): number {
  let n = 0;
  const [x0, y0, x1, y1] = box ?? [0, 0, r.width - 1, r.height - 1];
  for (let y = y0; y <= y1; y++)
    for (let x = x0; x <= x1; x++) {
      const p = pixel(r, x, y);
      if (p[0] === c[0] && p[1] === c[1] && p[2] === c[2]) n++;
    }
  return n;
}

test('nice linear ticks are 1/2/2.5/5 × 10^k steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.013, 0.052), [0.02, 0.03, 0.04, 0.05]);
  const t = niceTicks(-3, 47);
  assert.deepEqual(t, [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicks(5, 5), [5]);
});

test('log ticks are decades, with 2 and 5 for short ranges', () => {
  assert.deepEqual(logTicks(0.001, 100), [0.001, 0.01, 0.1, 1, 10, 100]);
  assert.deepEqual(logTicks(1, 20), [1, 2, 5, 10, 20]);
});

test('tick labels are short', () => {
  assert.equal(formatTick(0), '0');
  assert.equal(formatTick(0.25), '0.25');
  assert.equal(formatTick(1500), '1500');
  assert.equal(formatTick(1e-5), '1e-5');
  assert.equal(formatTick(2.5e6), '2.5e6');
  assert.equal(formatTick(0.1 + 0.2), '0.3');
  assert.equal(textWidth('ab', 2), 22);
});

test('series are drawn where their data lies, in distinct colours', () => {
  const x = [0, 0.25, 0.5, 0.75, 1];
  const { raster, layout } = renderLinePlot({
    title: 'test plot',
    xLabel: 't',
    yLabel: 'δ',
    series: [
      { name: 'flat', x, y: x.map(() => 0.5) },
      { name: 'ramp', x, y: x.map((v) => v) },
    ],
  });
  assert.equal(raster.width, 800);
  assert.equal(raster.height, 520);
  assert.deepEqual(layout.xRange, [0, 1]);
  assert.deepEqual(layout.yRange, [0, 1]);
  // the flat line at y = 0.5 (x = 0.3 is left of the legend box)
  const [px, py] = layout.toPx(0.3, 0.5);
  assert.ok(colourNear(raster, px, py, SERIES_COLOURS[0]!), 'flat series at (0.3, 0.5)');
  assert.ok(!colourNear(raster, px, layout.toPx(0.3, 0.2)[1], SERIES_COLOURS[0]!, 3), 'flat series not at y = 0.2');
  // the ramp passes through (0.2, 0.2) and (0.6, 0.6)
  for (const v of [0.2, 0.6]) {
    const [qx, qy] = layout.toPx(v, v);
    assert.ok(colourNear(raster, qx, qy, SERIES_COLOURS[1]!), `ramp at (${v}, ${v})`);
  }
  // nothing of a series is drawn outside the frame except its legend swatch
  const outside = countColour(raster, SERIES_COLOURS[1]!, [0, 0, layout.left - 2, raster.height - 1]);
  assert.equal(outside, 0);
  // text was drawn: the title row has dark pixels
  assert.ok(countColour(raster, [0, 0, 0], [0, 0, raster.width - 1, layout.top - 4]) > 50, 'title ink');
});

test('error bars: capped whiskers from yLo to yHi at each point, included in the y range', () => {
  const { raster, layout } = renderLinePlot({
    series: [{ name: 'r', x: [0, 0.5, 1], y: [0, -1, -2], yLo: [0, -1.5, -4], yHi: [0, -0.5, -1] }],
  });
  assert.ok(layout.yRange[0] <= -4, `y range ${layout.yRange} includes the lowest whisker`);
  const c = SERIES_COLOURS[0]!;
  // along the whisker at x = 1: ink at −3.5 (between lo −4 and y −2), none below −4.3
  const [px] = layout.toPx(1, 0);
  assert.ok(colourNear(raster, px, layout.toPx(1, -3.5)[1], c), 'whisker at (1, −3.5)');
  assert.ok(colourNear(raster, px - 4, layout.toPx(1, -4)[1], c), 'lower cap');
  assert.ok(!colourNear(raster, px, layout.toPx(1, -4.3)[1], c, 1), 'nothing beyond the cap');
  // the point at x = 0.5: whisker reaches −1.4 but not −1.7
  const [qx] = layout.toPx(0.5, 0);
  assert.ok(colourNear(raster, qx, layout.toPx(0.5, -1.4)[1], c));
  assert.ok(!colourNear(raster, qx, layout.toPx(0.5, -1.7)[1], c, 1));
  assert.throws(() => renderLinePlot({ series: [{ name: 'bad', x: [0, 1], y: [0, 1], yLo: [0], yHi: [0, 1] }] }), /error bars/);
});

test('point series: a dot at each point and no line between them; named x ticks span the frame', () => {
  const { raster, layout } = renderLinePlot({
    xTicks: [
      { value: 0, label: 'clean' },
      { value: 1, label: 'corrupted' },
    ],
    series: [
      { name: 'items', x: [0, 1], y: [0, 2], points: true },
      { name: 'median', x: [0, 1], y: [2, 0] },
    ],
  });
  const dots = SERIES_COLOURS[0]!;
  for (const [x, y] of [
    [0, 0],
    [1, 2],
  ] as const) {
    const [px, py] = layout.toPx(x, y);
    assert.ok(colourNear(raster, px, py, dots, 1), `dot at (${x}, ${y})`);
  }
  // halfway between the two points the dots series left no ink (the line series crosses at (0.5, 1), so look off it)
  const [mx, my] = layout.toPx(0.5, 1);
  assert.ok(!colourNear(raster, mx, my + 30, dots, 3), 'no line between the dots');
  assert.ok(colourNear(raster, mx, my, SERIES_COLOURS[1]!), 'the line series is drawn as a line');
  // the categories sit half a gap inside the frame, with no numeric ticks
  assert.deepEqual(layout.xRange, [-0.5, 1.5]);
  const [tx] = layout.toPx(0, 0);
  assert.ok(
    countColour(raster, [0, 0, 0], [Math.round(tx), layout.bottom + 1, Math.round(tx), layout.bottom + 5]) >= 3,
    'tick mark at the first category',
  );
});

test('log axes map decades evenly and skip non-positive and non-finite points', () => {
  const x = [0.001, 0.01, 0.1, 1, 10];
  const { raster, layout } = renderLinePlot({
    logX: true,
    logY: true,
    series: [{ name: 'square', x: [-1, ...x, NaN], y: [1, ...x.map((v) => v * v), 3] }],
  });
  const [a] = layout.toPx(0.001, 1);
  const [b] = layout.toPx(0.01, 1);
  const [c] = layout.toPx(0.1, 1);
  assert.ok(Math.abs(b - a - (c - b)) < 1e-9, 'decades are equally wide');
  const [qx, qy] = layout.toPx(0.1, 0.01);
  assert.ok(colourNear(raster, qx, qy, SERIES_COLOURS[0]!), 'point (0.1, 0.01) is on the line');
  assert.deepEqual(layout.xRange, [0.001, 10]);
});

test('long series, narrow log ranges and empty plots still render', () => {
  const n = 300000;
  const x = Array.from({ length: n }, (_, i) => i);
  const { layout } = renderLinePlot({ series: [{ name: 'loss', x, y: x.map((i) => 1 / (1 + i)) }] });
  assert.deepEqual(layout.xRange, [0, 300000]);
  const narrow = renderLinePlot({ logY: true, series: [{ name: 'a', x: [0, 1], y: [0.95, 0.99] }] });
  assert.ok(narrow.layout.yRange[0] <= 0.95 && narrow.layout.yRange[1] >= 0.99);
  const empty = renderLinePlot({ title: 'nothing yet', series: [] });
  assert.deepEqual(empty.layout.xRange, [0, 1]);
});

test('mismatched series lengths are refused', () => {
  assert.throws(() => renderLinePlot({ series: [{ name: 'bad', x: [1, 2], y: [1] }] }), /bad/);
});

test('writeLinePlotPng writes a valid PNG atomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plot-'));
  try {
    const path = join(dir, 'sub', 'p.png');
    writeLinePlotPng(path, { width: 320, height: 200, title: 'x', series: [{ name: 'a', x: [0, 1], y: [0, 1] }] });
    const png = PNG.sync.read(readFileSync(path));
    assert.equal(png.width, 320);
    assert.equal(png.height, 200);
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['p.png'], 'no temporary files left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
