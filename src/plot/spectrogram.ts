/**
 * Spectrogram figures a person can read: a title, one or more labelled log-mel panels sharing a
 * time axis in seconds, a frequency axis in Hz placed at the mel bins where those frequencies fall
 * (so the spacing shows the mel scale), and a colour bar in the log-mel's units (natural log of the
 * mel-filtered magnitude, the HiFi-GAN floor ln(1e-5) ≈ −11.5 at the dark end).
 *
 * The pixels of each panel are exactly renderSpectrogram's (src/util/png.ts: one block per mel cell,
 * wider than tall for short mels, fixed colour range); text, ticks and frames come from the line
 * plots (src/util/plot.ts).
 */
import { DEFAULT_MEL, hzToMel, type Mel, type MelConfig } from '../audio/mel.js';
import { writeFileAtomic } from '../util/atomic.js';
import { magma, renderSpectrogram, SPECTROGRAM_RANGE } from '../util/png.js';
import { BLACK, Canvas, DARK, encodePng, formatTick, GLYPH_H, niceTicks, textWidth, type Raster } from '../util/plot.js';

export interface SpectrogramPanel {
  mel: Mel;
  /** Drawn above the panel, e.g. "target: recording LJ001-0001". */
  label?: string;
}

export interface SpectrogramFigure {
  /** What the picture shows (and which step / text); drawn on top and stored as the PNG tEXt Title. */
  title: string;
  /** Stacked top to bottom; all share the time axis (shorter ones end early). */
  panels: SpectrogramPanel[];
  /** Sample rate, hop and mel band edges for the axes (default DEFAULT_MEL). */
  melConfig?: Pick<MelConfig, 'sampleRate' | 'hop' | 'nMels' | 'fMin' | 'fMax'>;
  /** Log-mel values of the darkest and brightest colour (default SPECTROGRAM_RANGE). */
  min?: number;
  max?: number;
  /** Pixels per mel bin (default ⌈240 / nMels⌉); frames get as many, or more when the mel is short. */
  scale?: number;
}

/** Where the panels went, in pixels (for tests and overlays). */
export interface SpectrogramLayout {
  /** Left/top pixel of each panel's first mel cell (frame 0, highest bin). */
  panels: { left: number; top: number; width: number; height: number }[];
  /** Pixels per mel bin (height) and per frame (width). */
  scale: number;
  xScale: number;
  colourBar: { left: number; top: number; width: number; height: number };
  /** Pixel row of the centre of `hz` within a panel (0 = the panel's top row). */
  hzRow: (hz: number) => number;
  /** Pixel column (from the panel's left) where `sec` seconds lies. */
  secCol: (sec: number) => number;
}

const LS = 2; // text scale of the labels
const TEXT_H = GLYPH_H * LS;
/** Panels narrower than this (px) get wider frames. */
const MIN_PANEL_W = 480;
const HZ_CANDIDATES = [0, 100, 250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 16000, 20000];

/** Cuts `s` so that it is at most `px` wide at the label scale. */
function fit(s: string, px: number): string {
  if (textWidth(s, LS) <= px) return s;
  let n = Math.max(1, Math.floor((px + LS) / (6 * LS)) - 3);
  while (n > 1 && textWidth(`${s.slice(0, n)}...`, LS) > px) n--;
  return `${s.slice(0, n)}...`;
}

/** Renders the figure; see the module comment. */
export function renderSpectrogramFigure(fig: SpectrogramFigure): { raster: Raster; layout: SpectrogramLayout } {
  if (fig.panels.length === 0) throw new Error('spectrogram figure: no panels');
  const cfg = fig.melConfig ?? DEFAULT_MEL;
  const nMels = fig.panels[0]!.mel.nMels;
  if (fig.panels.some((p) => p.mel.nMels !== nMels)) throw new Error('spectrogram figure: panels with different mel counts');
  const scale = fig.scale ?? Math.max(1, Math.ceil(240 / Math.max(1, nMels)));
  const lo = fig.min ?? SPECTROGRAM_RANGE.min;
  const hi = fig.max ?? SPECTROGRAM_RANGE.max;
  const frames = Math.max(1, ...fig.panels.map((p) => p.mel.frames));
  // short utterances are drawn wider (up to 4× the height's scale), so that the axes and labels fit
  const xScale = Math.max(scale, Math.min(4 * scale, Math.ceil(MIN_PANEL_W / frames)));
  const panelW = frames * xScale;
  const panelH = nMels * scale;
  const secPerFrame = cfg.hop / cfg.sampleRate;

  // Frequency ticks: mel bin m is centred on band edge m + 1 of nMels + 2 equally spaced mels.
  const hzAxis = cfg.nMels === nMels;
  const m0 = hzToMel(cfg.fMin);
  const m1 = hzToMel(cfg.fMax);
  const binOf = (hz: number) => ((hzToMel(hz) - m0) / (m1 - m0)) * (nMels + 1) - 1;
  const hzRow = (hz: number) => panelH - (binOf(hz) + 0.5) * scale;
  const yTicks: { label: string; row: number }[] = [];
  if (hzAxis) {
    for (const hz of HZ_CANDIDATES.filter((f) => f >= cfg.fMin && f <= cfg.fMax)) {
      const row = Math.min(panelH - 1, Math.max(0, hzRow(hz)));
      if (yTicks.every((t) => Math.abs(t.row - row) >= TEXT_H + 4)) yTicks.push({ label: String(hz), row });
    }
  } else {
    for (const b of niceTicks(0, nMels - 1, 5)) yTicks.push({ label: String(b), row: panelH - (b + 0.5) * scale });
  }
  const yLabel = hzAxis ? 'frequency (Hz)' : 'mel bin';
  const cTicks = niceTicks(lo, hi, 6).filter((v) => v >= lo - 1e-9 && v <= hi + 1e-9);
  const cLabel = 'ln(mel amplitude)';

  const maxYTick = Math.max(0, ...yTicks.map((t) => textWidth(t.label, LS)));
  const maxCTick = Math.max(0, ...cTicks.map((v) => textWidth(formatTick(v), LS)));
  const left = 12 + TEXT_H + 10 + maxYTick + 8;
  const labelW = Math.min(1.5 * MIN_PANEL_W, Math.max(0, ...fig.panels.map((p) => textWidth(p.label ?? '', LS))));
  const barLeft = left + Math.max(panelW, labelW) + 24;
  const barW = 18;
  const W = Math.max(barLeft + barW + 8 + maxCTick + 10 + TEXT_H + 12, left + 360);
  const titleTop = 10;
  const labelH = fig.panels.some((p) => p.label) ? TEXT_H + 8 : 0;
  const firstTop = titleTop + TEXT_H + 14 + labelH;
  const gap = 14 + labelH;
  const tops = fig.panels.map((_, i) => firstTop + i * (panelH + gap));
  const bottom = tops[tops.length - 1]! + panelH;
  const H = bottom + 10 + TEXT_H + 10 + TEXT_H + 10;

  const cv = new Canvas(W, H);
  cv.text(fit(fig.title, W - 24), 12, titleTop, BLACK, LS);
  fig.panels.forEach((p, i) => {
    const top = tops[i]!;
    const img = renderSpectrogram(p.mel, { scale, xScale, min: lo, max: hi });
    for (let y = 0; y < img.height; y++)
      cv.data.set(img.rgba.subarray(y * img.width * 4, (y + 1) * img.width * 4), ((top + y) * W + left) * 4);
    if (p.label) cv.text(fit(p.label, barLeft - left - 12), left, top - labelH + 2, BLACK, LS);
    // frame around the whole time range, ticks outside it
    cv.hline(left - 1, left + panelW, top - 1, BLACK);
    cv.hline(left - 1, left + panelW, top + panelH, BLACK);
    cv.vline(left - 1, top - 1, top + panelH, BLACK);
    cv.vline(left + panelW, top - 1, top + panelH, BLACK);
    for (const t of yTicks) {
      const y = Math.round(top + t.row);
      cv.hline(left - 6, left - 2, y, BLACK);
      cv.text(t.label, left - 9 - textWidth(t.label, LS), Math.round(y - TEXT_H / 2), DARK, LS);
    }
  });
  // time axis under the last panel
  const seconds = frames * secPerFrame;
  const secCol = (sec: number) => (sec / secPerFrame) * xScale;
  for (const s of niceTicks(0, seconds, Math.max(2, Math.min(10, Math.floor(panelW / 90))))) {
    if (s > seconds + 1e-9) continue;
    const x = Math.round(left + Math.min(panelW - 1, secCol(s)));
    for (const top of tops) cv.vline(x, top + panelH + 1, top + panelH + 4, BLACK);
    const label = formatTick(s);
    cv.text(label, Math.round(x - textWidth(label, LS) / 2), bottom + 8, DARK, LS);
  }
  const xLabel = 'time (s)';
  cv.text(xLabel, Math.round(left + panelW / 2 - textWidth(xLabel, LS) / 2), bottom + 10 + TEXT_H + 8, BLACK, LS);
  const midY = (tops[0]! + bottom) / 2;
  cv.text(yLabel, 12, Math.round(midY + textWidth(yLabel, LS) / 2), BLACK, LS, true);

  // colour bar beside all panels: bright at the top
  const barTop = tops[0]!;
  const barH = bottom - barTop;
  for (let y = 0; y < barH; y++) {
    const c = magma(1 - y / Math.max(1, barH - 1));
    cv.rect(barLeft, barTop + y, barLeft + barW - 1, barTop + y, c);
  }
  cv.hline(barLeft - 1, barLeft + barW, barTop - 1, BLACK);
  cv.hline(barLeft - 1, barLeft + barW, barTop + barH, BLACK);
  cv.vline(barLeft - 1, barTop - 1, barTop + barH, BLACK);
  cv.vline(barLeft + barW, barTop - 1, barTop + barH, BLACK);
  for (const v of cTicks) {
    const y = Math.round(barTop + (1 - (v - lo) / (hi - lo)) * (barH - 1));
    cv.hline(barLeft + barW + 1, barLeft + barW + 4, y, BLACK);
    cv.text(formatTick(v), barLeft + barW + 8, Math.round(y - TEXT_H / 2), DARK, LS);
  }
  cv.text(cLabel, barLeft + barW + 8 + maxCTick + 10, Math.round(barTop + barH / 2 + textWidth(cLabel, LS) / 2), BLACK, LS, true);

  return {
    raster: cv,
    layout: {
      panels: tops.map((top) => ({ left, top, width: panelW, height: panelH })),
      scale,
      xScale,
      colourBar: { left: barLeft, top: barTop, width: barW, height: barH },
      hzRow,
      secCol,
    },
  };
}

/** Writes the figure as a PNG at `path`, atomically; the title is also stored as its tEXt Title. */
export function writeSpectrogramPng(path: string, fig: SpectrogramFigure): void {
  writeFileAtomic(path, encodePng(renderSpectrogramFigure(fig).raster, fig.title));
}
