import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '../audio/wav.js';
import { readNpy } from '../util/npy.js';
import { fixturesDir, repoRoot } from '../testing/paths.js';
import { MCD_DB, mcd } from './mcd.js';
import { freqt, mcepAlpha, mcepFrame, melCepstrum, blackmanUnitPower } from './mcep.js';

/** Written by scripts/sptk-reference.sh with Debian's sptk 3.9 (frame | window | mcep, dtw, cdist). */
interface SptkReference {
  clips: Record<string, string>;
  pairs: { test: string; ref: string; mcd: number; pathLength: number; path: number[] }[];
}
const dir = join(fixturesDir, 'sptk');
const reference = JSON.parse(readFileSync(join(dir, 'sptk-reference.json'), 'utf8')) as SptkReference;
const ours = new Map(Object.entries(reference.clips).map(([name, path]) => [name, melCepstrum(readWav(join(repoRoot, path)).samples)]));

test('mel-cepstra match SPTK mcep (α 0.455, order 24, frame 1024/256) frame by frame on speech, other voices and Griffin-Lim audio', () => {
  for (const [name, mc] of ours) {
    const { data, shape } = readNpy(join(dir, `${name}.mcep.npy`), { rank: 2 });
    assert.deepEqual(shape, [mc.frames, 25], `${name}: frame count`);
    let worst = 0;
    for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(mc.data[i]! - data[i]!));
    // SPTK writes float32; the iterations run in double in both
    assert.ok(worst < 1e-4, `${name}: max |Δc̃| ${worst}`); // measured 1.1e-5 … 2.5e-5
  }
});

test("MCD on SPTK's own DTW path equals SPTK cdist; difftts's DTW finds a path at most as costly", () => {
  for (const p of reference.pairs) {
    const a = ours.get(p.test)!;
    const b = ours.get(p.ref)!;
    let sum = 0;
    for (let k = 0; k < p.path.length; k += 2) {
      const [i, j] = [p.path[k]!, p.path[k + 1]!];
      let s = 0;
      for (let d = 1; d <= 24; d++) s += (a.data[i * 25 + d]! - b.data[j * 25 + d]!) ** 2;
      sum += MCD_DB * Math.sqrt(s);
    }
    const onSptkPath = sum / (p.path.length / 2);
    assert.ok(Math.abs(onSptkPath - p.mcd) < 1e-4 * p.mcd, `${p.test}: ${onSptkPath} vs SPTK ${p.mcd}`);
    // SPTK's default path (-p 5) is constrained; ours (steps (1,0), (0,1), (1,1), weight 1) may take any monotone path
    const d = mcd(a, b).mcd;
    assert.ok(d <= p.mcd + 1e-6 && d > 0.9 * p.mcd, `${p.test}: difftts ${d} vs SPTK ${p.mcd}`);
  }
  const glToAllison = reference.pairs.filter((p) => p.test.startsWith('gl-')).map((p) => p.mcd);
  const sltToAllison = reference.pairs.filter((p) => p.test.startsWith('slt-')).map((p) => p.mcd);
  assert.ok(Math.max(...glToAllison) < 6 && Math.min(...sltToAllison) > 9, 'literature range: vocoder 4–6 dB, another voice ~10 dB');
});

test('freqt with −α undoes freqt with α (long target order)', () => {
  const c = Float64Array.from({ length: 25 }, (_, i) => Math.exp(-i / 4) * Math.cos(i));
  const warped = freqt(c, 24, 300, 0.455);
  const back = freqt(warped, 300, 24, -0.455);
  for (let i = 0; i <= 24; i++) assert.ok(Math.abs(back[i]! - c[i]!) < 1e-6, `c${i}`);
});

test("α = 0: mcep is the cepstrum of the periodogram's minimum-phase envelope (a one-pole spectrum has c_k = ρ^k/k)", () => {
  // x[n] = ρⁿ: |X(ω)|² = 1/|1 − ρe^{−jω}|², whose ln-amplitude cepstrum is c_k = ρ^k / k (k ≥ 1)
  const rho = 0.6;
  const x = Float64Array.from({ length: 1024 }, (_, n) => rho ** n);
  const c = mcepFrame(x, { alpha: 0, order: 12, eps: 0 });
  for (let k = 1; k <= 12; k++) assert.ok(Math.abs(c[k]! - rho ** k / k) < 1e-4, `c${k} ${c[k]} vs ${rho ** k / k}`);
  assert.ok(Math.abs(c[0]!) < 1e-4);
});

test('mcepAlpha reproduces the standard all-pass constants; the window has unit power', () => {
  assert.equal(mcepAlpha(22050), 0.455);
  assert.equal(mcepAlpha(16000), 0.41);
  assert.equal(mcepAlpha(48000), 0.554);
  const w = blackmanUnitPower(1024);
  assert.ok(Math.abs(w.reduce((s, v) => s + v * v, 0) - 1) < 1e-12);
});
