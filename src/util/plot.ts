/**
 * Line plots as PNG (pngjs only): axes with numeric tick labels (or named categories), optional log
 * axes, one colour per series (a line, or dots for strip and scatter plots), a legend and a title.
 * Text uses a built-in 5×7 bitmap font (upper-case letters, digits, common punctuation and a few
 * Greek letters).
 * Used for δ(t) plots, training curves, resilience-vs-fraction plots and residual strip plots.
 */
import { writeFileAtomic } from './atomic.js';
import { encodePngRgba } from './png.js';

export interface LineSeries {
  name: string;
  x: number[];
  y: number[];
  /** Optional error bars: lower and upper ends per point (same length as y), drawn as capped vertical whiskers. */
  yLo?: number[];
  yHi?: number[];
  /** Draw each point as a dot (radius 2 px) and no line between them: a strip or scatter plot. */
  points?: boolean;
}

export interface LinePlot {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  logX?: boolean;
  logY?: boolean;
  series: LineSeries[];
  /** Linear x axis only: these ticks and labels instead of numbers (categories, e.g. checkpoints of a strip plot). */
  xTicks?: { value: number; label: string }[];
  /** Image size in pixels (default 800 × 520). */
  width?: number;
  height?: number;
}

export interface Raster {
  width: number;
  height: number;
  /** RGBA, row-major, 4 bytes per pixel. */
  data: Uint8Array;
}

/** Where data coordinates land: the plot area in pixels and the data → pixel mapping. */
export interface PlotLayout {
  left: number;
  top: number;
  right: number;
  bottom: number;
  xRange: [number, number];
  yRange: [number, number];
  toPx: (x: number, y: number) => [number, number];
}

/** Distinct series colours (Tableau 10). */
export const SERIES_COLOURS: [number, number, number][] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

// ---------------------------------------------------------------------------------------------
// 5×7 font: each glyph is 7 rows of 5 columns above the baseline, '#' = ink; g j p q y have two
// more rows of descender below it.
const GLYPHS: Record<string, string> = {
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.',
  '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####',
  '3': '####. ....# ....# .###. ....# ....# ####.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.',
  '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.',
  '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.',
  '9': '.###. #...# #...# .#### ....# ...#. .##..',
  A: '.###. #...# #...# ##### #...# #...# #...#',
  B: '####. #...# #...# ####. #...# #...# ####.',
  C: '.###. #...# #.... #.... #.... #...# .###.',
  D: '###.. #..#. #...# #...# #...# #..#. ###..',
  E: '##### #.... #.... ####. #.... #.... #####',
  F: '##### #.... #.... ####. #.... #.... #....',
  G: '.###. #...# #.... #.### #...# #...# .####',
  H: '#...# #...# #...# ##### #...# #...# #...#',
  I: '.###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  J: '..### ...#. ...#. ...#. ...#. #..#. .##..',
  K: '#...# #..#. #.#.. ##... #.#.. #..#. #...#',
  L: '#.... #.... #.... #.... #.... #.... #####',
  M: '#...# ##.## #.#.# #.#.# #...# #...# #...#',
  N: '#...# #...# ##..# #.#.# #..## #...# #...#',
  O: '.###. #...# #...# #...# #...# #...# .###.',
  P: '####. #...# #...# ####. #.... #.... #....',
  Q: '.###. #...# #...# #...# #.#.# #..#. .##.#',
  R: '####. #...# #...# ####. #.#.. #..#. #...#',
  S: '.#### #.... #.... .###. ....# ....# ####.',
  T: '##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  U: '#...# #...# #...# #...# #...# #...# .###.',
  V: '#...# #...# #...# #...# #...# .#.#. ..#..',
  W: '#...# #...# #...# #.#.# #.#.# #.#.# .#.#.',
  X: '#...# #...# .#.#. ..#.. .#.#. #...# #...#',
  Y: '#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..',
  Z: '##### ....# ...#. ..#.. .#... #.... #####',
  a: '..... ..... .###. ....# .#### #...# .####',
  b: '#.... #.... ####. #...# #...# #...# ####.',
  c: '..... ..... .###. #.... #.... #...# .###.',
  d: '....# ....# .#### #...# #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.',
  f: '..##. .#..# .#... ###.. .#... .#... .#...',
  g: '..... ..... .#### #...# #...# #...# .#### ....# .###.',
  h: '#.... #.... #.##. ##..# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.',
  j: '...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.',
  l: '.#... .#... .#... .#... .#... .#... ..##.',
  m: '..... ..... ##.#. #.#.# #.#.# #...# #...#',
  n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.',
  p: '..... ..... ####. #...# #...# #...# ####. #.... #....',
  q: '..... ..... .#### #...# #...# #...# .#### ....# ....#',
  r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .###. #.... .###. ....# ####.',
  t: '.#... .#... ###.. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#',
  v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.',
  x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# #...# #...# .#### ....# .###.',
  z: '..... ..... ##### ...#. ..#.. .#... #####',
  ' ': '..... ..... ..... ..... ..... ..... .....',
  '.': '..... ..... ..... ..... ..... .##.. .##..',
  ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....',
  ';': '..... .##.. .##.. ..... .##.. ..#.. .#...',
  '-': '..... ..... ..... .###. ..... ..... .....',
  '+': '..... ..#.. ..#.. ##### ..#.. ..#.. .....',
  '=': '..... ..... ##### ..... ##### ..... .....',
  '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...',
  '[': '.###. .#... .#... .#... .#... .#... .###.',
  ']': '.###. ...#. ...#. ...#. ...#. ...#. .###.',
  '/': '....# ....# ...#. ..#.. .#... #.... #....',
  '%': '##..# ##..# ...#. ..#.. .#... #..## #..##',
  _: '..... ..... ..... ..... ..... ..... #####',
  '*': '..... #.#.# .###. ##### .###. #.#.# .....',
  "'": '..#.. ..#.. .#... ..... ..... ..... .....',
  '"': '.#.#. .#.#. ..... ..... ..... ..... .....',
  '!': '..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..',
  '<': '...#. ..#.. .#... #.... .#... ..#.. ...#.',
  '>': '.#... ..#.. ...#. ....# ...#. ..#.. .#...',
  '|': '..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..',
  '#': '.#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.',
  '²': '.##.. ...#. ..#.. .###. ..... ..... .....',
  δ: '.###. .#... ..#.. .###. #...# #...# .###.',
  μ: '..... ..... #...# #...# #...# #..## ###.# #.... #....',
  σ: '..... ..... .#### #..#. #...# #...# .###.',
  β: '.##.. #..#. #.#.. #..#. #...# ##.#. #....',
  λ: '.#... ..#.. ..#.. .#.#. .#.#. #...# #...#',
  θ: '.###. #...# #...# ##### #...# #...# .###.',
  '√': '..### ..#.. ..#.. ..#.. #.#.. .##.. ..#..',
  '≤': '...#. ..#.. .#... ..#.. ...#. ..... .###.',
  '≥': '.#... ..#.. ...#. ..#.. .#... ..... .###.',
  '·': '..... ..... ..... ..#.. ..... ..... .....',
  '×': '..... #...# .#.#. ..#.. .#.#. #...# .....',
  '−': '..... ..... ..... .###. ..... ..... .....',
  '?unknown': '##### #...# #...# #...# #...# #...# #####',
};

const GLYPH_W = 5;
/** Glyph height in pixels at scale 1 (above the baseline). */
export const GLYPH_H = 7;
const GLYPH_ADVANCE = 6;

function glyphRows(ch: string): string[] {
  const g = GLYPHS[ch] ?? GLYPHS['?unknown']!;
  return g.split(' ');
}

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * GLYPH_ADVANCE - 1) * scale;
}

// ---------------------------------------------------------------------------------------------
// Ticks and number labels (pure).

/** "Nice" linear ticks (1, 2, 5 × 10^k steps) covering [lo, hi], about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  const first = Math.ceil(lo / step - 1e-9);
  for (let k = first; k * step <= hi + step * 1e-9; k++)
    ticks.push(Math.abs(k * step) < step * 1e-9 ? 0 : Number((k * step).toPrecision(12)));
  return ticks;
}

/** Log ticks over [lo, hi] (both > 0): decades, with 2 and 5 added when the range is short. */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo) + 1e-9);
  const b = Math.ceil(Math.log10(hi) - 1e-9);
  const decades = b - a;
  const mults = decades <= 2 ? [1, 2, 5] : [1];
  const step = decades > 10 ? Math.ceil(decades / 8) : 1;
  const out: number[] = [];
  for (let e = a; e <= b; e += step) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(Number(v.toPrecision(12)));
    }
  }
  return out;
}

/** Short tick label: 0.25, 1500, 1e-05 → "1E-5", 2.5e+06 → "2.5E6". */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential().split('e');
    const mant = Number(Number(m).toPrecision(3)).toString();
    return `${mant}e${Number(e)}`;
  }
  return Number(v.toPrecision(6)).toString();
}

// ---------------------------------------------------------------------------------------------
// Raster drawing.

/** An RGBA raster on a white background with the drawing primitives of the plots (also used by src/plot/spectrogram.ts). */
export class Canvas implements Raster {
  data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }
  set(x: number, y: number, c: [number, number, number], alpha = 1): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (y * this.width + x) * 4;
    for (let k = 0; k < 3; k++) this.data[i + k] = Math.round(this.data[i + k]! * (1 - alpha) + c[k]! * alpha);
    this.data[i + 3] = 255;
  }
  rect(x0: number, y0: number, x1: number, y1: number, c: [number, number, number]): void {
    for (let y = Math.round(y0); y <= Math.round(y1); y++) for (let x = Math.round(x0); x <= Math.round(x1); x++) this.set(x, y, c);
  }
  hline(x0: number, x1: number, y: number, c: [number, number, number]): void {
    this.rect(Math.min(x0, x1), y, Math.max(x0, x1), y, c);
  }
  vline(x: number, y0: number, y1: number, c: [number, number, number]): void {
    this.rect(x, Math.min(y0, y1), x, Math.max(y0, y1), c);
  }
  /** Line of ~2 px width, clipped to `clip` (l, t, r, b). */
  line(x0: number, y0: number, x1: number, y1: number, c: [number, number, number], clip: [number, number, number, number]): void {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) * 2));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      if (x < clip[0] || x > clip[2] || y < clip[1] || y > clip[3]) continue;
      this.set(x, y, c);
      this.set(x + 1, y, c);
      this.set(x, y + 1, c);
      this.set(x + 1, y + 1, c);
    }
  }
  text(s: string, x: number, y: number, c: [number, number, number], scale = 1, vertical = false): void {
    let pen = 0;
    for (const ch of s) {
      const rows = glyphRows(ch);
      for (let gy = 0; gy < rows.length; gy++) {
        for (let gx = 0; gx < GLYPH_W; gx++) {
          if (rows[gy]![gx] !== '#') continue;
          for (let sy = 0; sy < scale; sy++) {
            for (let sx = 0; sx < scale; sx++) {
              const u = pen + gx * scale + sx;
              const v = gy * scale + sy;
              // vertical text reads bottom to top (rotated 90° counter-clockwise)
              if (vertical) this.set(x + v, y - u, c);
              else this.set(x + u, y + v, c);
            }
          }
        }
      }
      pen += GLYPH_ADVANCE * scale;
    }
  }
}

export const BLACK: [number, number, number] = [0, 0, 0];
const GREY: [number, number, number] = [225, 225, 225];
export const DARK: [number, number, number] = [60, 60, 60];

function dataRange(series: readonly LineSeries[], axis: 'x' | 'y', log: boolean): [number, number] {
  // loops, not Math.min(...values): training curves can have more points than the call stack allows
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    const lists = axis === 'x' ? [s.x] : [s.y, s.yLo ?? [], s.yHi ?? []];
    for (const list of lists) {
      for (const v of list) {
        if (!Number.isFinite(v) || (log && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (lo === Infinity) return log ? [1, 10] : [0, 1];
  if (hi === lo) {
    if (log) [lo, hi] = [lo / 2, hi * 2];
    else [lo, hi] = lo === 0 ? [-1, 1] : [lo - Math.abs(lo) * 0.5, hi + Math.abs(hi) * 0.5];
  }
  return [lo, hi];
}

/** Ticks for one axis: decades on a log axis (linear ticks when the range holds fewer than two). */
function axisTicks(range: [number, number], log: boolean): number[] {
  if (!log) return niceTicks(...range);
  const t = logTicks(...range);
  return t.length >= 2 ? t : niceTicks(...range).filter((v) => v > 0);
}

/**
 * Renders the plot to an RGBA raster and returns where the data went (for tests and overlays).
 * Points that are not finite (or ≤ 0 on a log axis) are skipped and break the line.
 * @throws Error when a series has x and y of different lengths (a programming mistake)
 */
export function renderLinePlot(plot: LinePlot): { raster: Raster; layout: PlotLayout } {
  const W = plot.width ?? 800;
  const H = plot.height ?? 520;
  for (const s of plot.series) {
    if (s.x.length !== s.y.length) throw new Error(`plot series '${s.name}': x has ${s.x.length} values but y has ${s.y.length}`);
    if ((s.yLo && s.yLo.length !== s.y.length) || (s.yHi && s.yHi.length !== s.y.length))
      throw new Error(`plot series '${s.name}': error bars need one value per point`);
  }
  const logX = plot.logX ?? false;
  const logY = plot.logY ?? false;
  const xRange = dataRange(plot.series, 'x', logX);
  const yRange = dataRange(plot.series, 'y', logY);
  const named = plot.xTicks && !logX ? plot.xTicks : null;
  if (named && named.length) {
    // categories: the frame spans the named ticks with half a gap either side
    const vs = named.map((t) => t.value);
    const pad = vs.length > 1 ? (Math.max(...vs) - Math.min(...vs)) / (vs.length - 1) / 2 : 0.5;
    xRange[0] = Math.min(xRange[0], Math.min(...vs) - pad);
    xRange[1] = Math.max(xRange[1], Math.max(...vs) + pad);
  }
  const xTicks = named ? [] : axisTicks(xRange, logX);
  const yTicks = axisTicks(yRange, logY);
  // widen linear ranges to whole ticks so the frame starts and ends on a labelled value
  if (!logX && xTicks.length > 1) {
    const step = xTicks[1]! - xTicks[0]!;
    xRange[0] = Math.min(xRange[0], Math.floor(xRange[0] / step + 1e-9) * step);
    xRange[1] = Math.max(xRange[1], Math.ceil(xRange[1] / step - 1e-9) * step);
  }
  if (!logY && yTicks.length > 1) {
    const step = yTicks[1]! - yTicks[0]!;
    yRange[0] = Math.min(yRange[0], Math.floor(yRange[0] / step + 1e-9) * step);
    yRange[1] = Math.max(yRange[1], Math.ceil(yRange[1] / step - 1e-9) * step);
  }
  const xt = named ? named.map((t) => t.value) : axisTicks(xRange, logX);
  const yt = axisTicks(yRange, logY);
  const yLabels = yt.map(formatTick);
  const labelScale = 2;
  const maxYLabel = Math.max(0, ...yLabels.map((l) => textWidth(l, labelScale)));

  const left = 16 + (plot.yLabel ? GLYPH_H * labelScale + 10 : 0) + maxYLabel + 8;
  const top = plot.title ? 12 + GLYPH_H * labelScale + 14 : 16;
  const right = W - 20;
  const bottom = H - (12 + GLYPH_H * labelScale + 8 + (plot.xLabel ? GLYPH_H * labelScale + 10 : 0));

  const fx = (x: number) => (logX ? Math.log10(x) : x);
  const fy = (y: number) => (logY ? Math.log10(y) : y);
  const [x0, x1] = [fx(xRange[0]), fx(xRange[1])];
  const [y0, y1] = [fy(yRange[0]), fy(yRange[1])];
  const toPx = (x: number, y: number): [number, number] => [
    left + ((fx(x) - x0) / (x1 - x0)) * (right - left),
    bottom - ((fy(y) - y0) / (y1 - y0)) * (bottom - top),
  ];

  const cv = new Canvas(W, H);
  // grid, ticks and labels
  for (let i = 0; i < xt.length; i++) {
    const [px] = toPx(xt[i]!, yRange[0]);
    cv.vline(px, top, bottom, GREY);
    cv.vline(px, bottom, bottom + 5, BLACK);
    const label = named ? named[i]!.label : formatTick(xt[i]!);
    cv.text(label, Math.round(px - textWidth(label, labelScale) / 2), bottom + 10, DARK, labelScale);
  }
  for (let i = 0; i < yt.length; i++) {
    const [, py] = toPx(xRange[0], yt[i]!);
    cv.hline(left, right, py, GREY);
    cv.hline(left - 5, left, py, BLACK);
    cv.text(yLabels[i]!, left - 8 - textWidth(yLabels[i]!, labelScale), Math.round(py - (GLYPH_H * labelScale) / 2), DARK, labelScale);
  }
  // frame
  cv.hline(left, right, top, BLACK);
  cv.hline(left, right, bottom, BLACK);
  cv.vline(left, top, bottom, BLACK);
  cv.vline(right, top, bottom, BLACK);
  if (plot.title) cv.text(plot.title, Math.round((left + right) / 2 - textWidth(plot.title, labelScale) / 2), 12, BLACK, labelScale);
  if (plot.xLabel)
    cv.text(
      plot.xLabel,
      Math.round((left + right) / 2 - textWidth(plot.xLabel, labelScale) / 2),
      H - 8 - GLYPH_H * labelScale,
      BLACK,
      labelScale,
    );
  if (plot.yLabel)
    cv.text(plot.yLabel, 12, Math.round((top + bottom) / 2 + textWidth(plot.yLabel, labelScale) / 2), BLACK, labelScale, true);

  // series (remembering where ink went, to keep the legend off the curves)
  const clip: [number, number, number, number] = [left, top, right, bottom];
  const inked: [number, number][] = [];
  plot.series.forEach((s, k) => {
    const c = SERIES_COLOURS[k % SERIES_COLOURS.length]!;
    let prev: [number, number] | null = null;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      const ok = Number.isFinite(x) && Number.isFinite(y) && (!logX || x > 0) && (!logY || y > 0);
      if (!ok) {
        prev = null;
        continue;
      }
      const p = toPx(x, y);
      if (s.points) {
        if (p[0] >= left && p[0] <= right && p[1] >= top && p[1] <= bottom) {
          for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (dx * dx + dy * dy <= 5) cv.set(p[0] + dx, p[1] + dy, c);
        }
        if (inked.length < 200000) inked.push(p);
        continue;
      }
      const from = prev ?? p;
      cv.line(from[0], from[1], p[0], p[1], c, clip);
      const lo = s.yLo?.[i];
      const hi = s.yHi?.[i];
      if (
        lo !== undefined &&
        hi !== undefined &&
        Number.isFinite(lo) &&
        Number.isFinite(hi) &&
        (!logY || (lo > 0 && hi > 0)) &&
        lo !== hi
      ) {
        // whisker with 4-px caps, offset a little per series so overlapping bars stay apart
        const [px, pl] = toPx(x, lo);
        const [, ph] = toPx(x, hi);
        const dx = px + (k - (plot.series.length - 1) / 2) * 3;
        cv.line(dx, pl, dx, ph, c, clip);
        cv.line(dx - 4, pl, dx + 4, pl, c, clip);
        cv.line(dx - 4, ph, dx + 4, ph, c, clip);
        if (inked.length < 200000) for (let j = 0; j <= 8; j++) inked.push([dx, pl + ((ph - pl) * j) / 8]);
      }
      if (inked.length < 200000)
        for (let j = 0; j <= 8; j++) inked.push([from[0] + ((p[0] - from[0]) * j) / 8, from[1] + ((p[1] - from[1]) * j) / 8]);
      prev = p;
    }
  });

  // legend: in the corner of the plot area that covers the fewest drawn points
  if (plot.series.length > 0) {
    const ls = labelScale;
    const rowH = GLYPH_H * ls + 6;
    const boxW = 16 + 24 + 8 + Math.max(...plot.series.map((s) => textWidth(s.name, ls)));
    const boxH = 8 + rowH * plot.series.length;
    const corners: [number, number][] = [
      [right - boxW - 8, top + 8],
      [left + 8, top + 8],
      [right - boxW - 8, bottom - boxH - 8],
      [left + 8, bottom - boxH - 8],
    ];
    const covered = corners.map(
      ([x, y]) => inked.filter(([px, py]) => px >= x - 4 && px <= x + boxW + 4 && py >= y - 4 && py <= y + boxH + 4).length,
    );
    const [bx, by] = corners[covered.indexOf(Math.min(...covered))]!;
    cv.rect(bx, by, bx + boxW, by + boxH, [255, 255, 255]);
    cv.hline(bx, bx + boxW, by, DARK);
    cv.hline(bx, bx + boxW, by + boxH, DARK);
    cv.vline(bx, by, by + boxH, DARK);
    cv.vline(bx + boxW, by, by + boxH, DARK);
    plot.series.forEach((s, k) => {
      const c = SERIES_COLOURS[k % SERIES_COLOURS.length]!;
      const ry = by + 6 + k * rowH;
      if (s.points) cv.rect(bx + 8 + 10, ry + (GLYPH_H * ls) / 2 - 2, bx + 8 + 14, ry + (GLYPH_H * ls) / 2 + 2, c);
      else cv.rect(bx + 8, ry + (GLYPH_H * ls) / 2 - 1, bx + 8 + 24, ry + (GLYPH_H * ls) / 2 + 1, c);
      cv.text(s.name, bx + 8 + 24 + 8, ry, BLACK, ls);
    });
  }

  return { raster: cv, layout: { left, top, right, bottom, xRange, yRange, toPx } };
}

/** Rasters of one width stacked top to bottom (panels of one PNG). */
export function stackRasters(parts: Raster[]): Raster {
  const width = parts[0]?.width ?? 0;
  if (parts.some((p) => p.width !== width)) throw new Error(`stackRasters: widths ${parts.map((p) => p.width).join(', ')} differ`);
  const height = parts.reduce((a, p) => a + p.height, 0);
  const data = new Uint8Array(width * height * 4);
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { width, height, data };
}

/** Encodes an RGBA raster as PNG bytes (src/util/png.ts), the title as a tEXt chunk when given. */
export function encodePng(r: Raster, title?: string): Uint8Array {
  return encodePngRgba(r.width, r.height, r.data, title ? { Title: title } : {});
}

/** Renders `plot` and writes it as a PNG at `path`, atomically (creates parent directories). */
export function writeLinePlotPng(path: string, plot: LinePlot): void {
  writeFileAtomic(path, encodePng(renderLinePlot(plot).raster, plot.title));
}
