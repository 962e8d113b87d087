/**
 * Griffin-Lim iterations in WebAssembly SIMD (griffinlim-wasm.ts, the default) against the fft.js
 * float64 path (`fft: 'fft.js'`, all loops in JavaScript): one pass agrees to float32 rounding for
 * frame counts around the 16-frame groups, odd ones and a single frame (32 iterations:
 * griffinlim.test.ts); the engine's memory is reused across calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { griffinLim, griffinLimMagnitude, type GriffinLimOptions } from './griffinlim.js';
import { glEngine } from './griffinlim-wasm.js';
import { DEFAULT_MEL, type Mel } from './mel.js';
import { readNpy } from '../util/npy.js';
import { speechFixtures } from '../testing/paths.js';
import { Rng } from '../util/rng.js';

const ref = readNpy(speechFixtures()[2]!.mel, { rank: 2 });
const full: Mel = { data: ref.data, nMels: ref.shape[0]!, frames: ref.shape[1]! };

/** The fixture's first `frames` frames (a fixture-like mel of that length). */
function firstFrames(frames: number): Mel {
  const data = new Float32Array(full.nMels * frames);
  for (let m = 0; m < full.nMels; m++) data.set(full.data.subarray(m * full.frames, m * full.frames + frames), m * frames);
  return { data, nMels: full.nMels, frames };
}

/** max |a − b| / max |b|, and max |b|. */
function relDiff(a: Float32Array, b: Float32Array): { rel: number; peak: number } {
  assert.equal(a.length, b.length);
  let d = 0;
  let peak = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    peak = Math.max(peak, Math.abs(b[i]!));
  }
  return { rel: d / peak, peak };
}

const both = (mel: Mel, opts: GriffinLimOptions) => ({ wasm: griffinLim(mel, opts), ref: griffinLim(mel, { ...opts, fft: 'fft.js' }) });

test('griffinLim wasm: one pass (iters 0 and 1) equals the fft.js path within 1e-5 relative (measured ≤ 6e-7), 1 … 283 frames', () => {
  for (const frames of [1, 2, 3, 15, 16, 17, 31, 37, full.frames]) {
    for (const iters of [0, 1]) {
      const { wasm, ref } = both(firstFrames(frames), { seed: 3, iters });
      const { rel, peak } = relDiff(wasm, ref);
      assert.ok(peak > 1e-3, `${frames} frames: a real signal`);
      assert.ok(rel < 1e-5, `${frames} frames, ${iters} iterations: max |Δ| / peak ${rel}`);
    }
  }
});

test('griffinLim wasm: other STFT sizes, every bin in use (Nyquist), an all-zero magnitude', () => {
  // nFft 256, hop 63 (odd, and not a multiple of 4), 16 kHz with fMax at Nyquist
  const cfg = { ...DEFAULT_MEL, nFft: 256, hop: 63, win: 256, nMels: 20, sampleRate: 16000, fMax: 8000 };
  const rng = new Rng(4);
  for (const frames of [1, 5, 18]) {
    const bins = cfg.nFft / 2 + 1;
    // every bin > 0, so the Nyquist bin (and its zero imaginary part) is packed and updated
    const mag = { data: Float64Array.from({ length: frames * bins }, () => 0.01 + rng.uniform()), frames, bins };
    for (const iters of [0, 1, 3]) {
      const { rel } = relDiff(
        griffinLimMagnitude(mag, { cfg, iters, seed: 1 }),
        griffinLimMagnitude(mag, { cfg, iters, seed: 1, fft: 'fft.js' }),
      );
      assert.ok(rel < 1e-5, `nFft 256, ${frames} frames, ${iters} iterations: ${rel}`);
    }
  }
  // the smallest FFT (nFft 4) and a magnitude with no energy at all
  const tiny = { ...DEFAULT_MEL, nFft: 4, hop: 1, win: 4, nMels: 1, sampleRate: 8, fMin: 0, fMax: 4 };
  const small = { data: Float64Array.from({ length: 3 * 3 }, (_, i) => 1 + (i % 3)), frames: 3, bins: 3 };
  const { rel } = relDiff(
    griffinLimMagnitude(small, { cfg: tiny, iters: 2 }),
    griffinLimMagnitude(small, { cfg: tiny, iters: 2, fft: 'fft.js' }),
  );
  assert.ok(rel < 1e-5, `nFft 4: ${rel}`);
  const silent = griffinLimMagnitude({ data: new Float64Array(7 * 513), frames: 7, bins: 513 }, { iters: 2 });
  assert.ok(silent.length > 0 && silent.every((v) => v === 0));
});

test('griffinLim wasm: memory is reused across calls and grows only for longer inputs; outputs are copies', () => {
  const engine = glEngine(DEFAULT_MEL.nFft);
  assert.ok(engine, 'WebAssembly SIMD is available in Node ≥ 20');
  const long = firstFrames(full.frames);
  const short = firstFrames(40);
  const first = griffinLim(short, { iters: 1 });
  const kept = first.slice();
  griffinLim(long, { iters: 1 });
  const bytes = engine.bytes;
  for (let i = 0; i < 3; i++) {
    griffinLim(long, { iters: 1 });
    griffinLim(short, { iters: 1 });
  }
  assert.equal(glEngine(DEFAULT_MEL.nFft), engine, 'one engine per FFT size');
  assert.equal(engine.bytes, bytes, 'no growth for inputs no longer than before');
  assert.deepEqual(first, kept, 'a later call does not overwrite an earlier output');
  const longer = firstFrames(full.frames);
  const twice: Mel = { data: new Float32Array(2 * longer.data.length), nMels: longer.nMels, frames: 2 * longer.frames };
  griffinLim(twice, { iters: 1 });
  assert.ok(engine.bytes > bytes, 'grows for a longer input');
});
