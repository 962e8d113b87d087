#!/usr/bin/env node
/**
 * Process CPU seconds of Griffin-Lim (32 iterations, momentum 0.99) on the three fixture log-mels
 * (test/fixtures/speech, 80 × 283–~400 frames: one sentence each), two builds alternated in one
 * process — for A/B runs on a busy machine where wall time is noise (issue #24):
 *
 *   D=/path/to/old/dist node scripts/gl-ab.mjs [--rounds 3]
 *
 * B = this checkout's dist/, A = D (default: B itself, fft: 'fft.js', i.e. the float64 reference).
 * Per round each fixture runs A then B; the table gives CPU per call of `griffinLim(mel)` and of
 * `griffinLimMagnitude` alone (the mel → linear step excluded), and max |Δ| of B's output against A's.
 */
import { resolve } from 'node:path';
import { scriptArgs } from './lib/args.mjs';

const { num } = scriptArgs('gl-ab');
const rounds = num('rounds', 3);
const B = resolve(new URL('../dist', import.meta.url).pathname);
const A = resolve(process.env.D ?? B);
const load = async (d) => import(`${d}/src/audio/griffinlim.js`);
const [ga, gb] = [await load(A), await load(B)];
const { readNpy } = await import(`${B}/src/util/npy.js`);
const { speechFixtures } = await import(`${B}/src/testing/paths.js`);
const refOpts = A === B ? { fft: 'fft.js' } : {};
const mels = speechFixtures().map((f) => {
  const r = readNpy(f.mel, { rank: 2 });
  return { name: f.name, mel: { data: r.data, nMels: r.shape[0], frames: r.shape[1] } };
});

const cpu = (fn) => {
  const c0 = process.cpuUsage();
  const out = fn();
  const c = process.cpuUsage(c0);
  return { out, s: (c.user + c.system) / 1e6 };
};
const maxDiff = (a, b) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};
const sum = { a: 0, b: 0, ma: 0, mb: 0 };
// one warm-up call each (compiling the wasm modules, JIT)
for (const g of [ga, gb]) g.griffinLim(mels[2].mel, { iters: 2, ...(g === ga ? refOpts : {}) });
for (let r = 0; r < rounds; r++) {
  for (const { name, mel } of mels) {
    const a = cpu(() => ga.griffinLim(mel, refOpts));
    const b = cpu(() => gb.griffinLim(mel));
    const mag = gb.melToLinear(mel);
    const ma = cpu(() => ga.griffinLimMagnitude(mag, refOpts));
    const mb = cpu(() => gb.griffinLimMagnitude(mag));
    sum.a += a.s;
    sum.b += b.s;
    sum.ma += ma.s;
    sum.mb += mb.s;
    const peak = a.out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    console.log(
      `round ${r} ${name} (${mel.frames} frames): griffinLim A ${a.s.toFixed(3)} s B ${b.s.toFixed(3)} s; ` +
        `magnitude only A ${ma.s.toFixed(3)} s B ${mb.s.toFixed(3)} s; max |Δ| ${maxDiff(a.out, b.out).toExponential(2)} (peak ${peak.toFixed(2)})`,
    );
  }
}
const calls = rounds * mels.length;
console.log(
  `per call: griffinLim A ${(sum.a / calls).toFixed(3)} s, B ${(sum.b / calls).toFixed(3)} s (B/A ${(sum.b / sum.a).toFixed(3)}); ` +
    `magnitude only A ${(sum.ma / calls).toFixed(3)} s, B ${(sum.mb / calls).toFixed(3)} s (B/A ${(sum.mb / sum.ma).toFixed(3)})`,
);
