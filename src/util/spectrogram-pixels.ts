/**
 * A spectrogram's raw RGBA pixels (magma over a fixed log-mel range, see png.ts's header), with no
 * Node APIs, so the PNG writer (png.ts, spectrogram.ts) and the web page's canvas (src/web/) draw
 * the same picture.
 */
import type { Mel } from '../audio/mel.js';

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
  if (!(Number.isInteger(scale) && scale >= 1 && Number.isInteger(xs) && xs >= 1))
    throw new Error(`renderSpectrogram: scale must be a positive integer, got ${scale} × ${xs}`);
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
