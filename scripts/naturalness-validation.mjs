#!/usr/bin/env node
// Validates the reference-free naturalness measures (src/eval/naturalness.ts): global variance of
// ln-mel per band (dB vs the recordings), mean log-mel distance, Fréchet distance of mel-cepstral
// frames — do they rank Allison's own recordings best and over-smoothed speech below them?
//
// Reference: R recordings of the full Allison corpus (prompts of ≥ 5 words, every other one in id
// order). Every row is a set of utterances scored against those references, as `difftts evaluate`
// scores generated speech:
//   recordings            P other recordings (disjoint from the references: the floor)
//   Griffin-Lim           the same P recordings → ln-mel → Griffin-Lim, 32 iterations (the vocoder)
//   blurred mel           their ln-mel smoothed by a 5-frame × 3-band box → Griffin-Lim
//   noised mel            their ln-mel + N(0, 0.5²) per cell → Griffin-Lim
//   festival slt HTS      the same P prompts read by festival's cmu_us_slt_arctic_hts (another voice)
//   enc128 μ / 10 steps   pretrained/allison-enc128 reading datasets/sentences/unseen.txt (unseen
//                         sentences), prior μ alone (synthesize --steps 0) and 10 reverse-diffusion
//                         steps at the voice's temperature, each → Griffin-Lim 32 (seed 7 + index)
// Usage: npm run build && datasets/allison/prepare.sh DIR && \
//        node scripts/naturalness-validation.mjs --corpus DIR [--refs 40] [--probes 30] [--out docs/naturalness]
// Writes OUT/naturalness-validation.json and OUT/naturalness-gv.png; prints the markdown table.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', 'src', p));
const { readWav } = await dist('audio/wav.js');
const { resample } = await dist('audio/resample.js');
const { logMel, DEFAULT_MEL } = await dist('audio/mel.js');
const { griffinLim } = await dist('audio/griffinlim.js');
const N = await dist('eval/naturalness.js');
const { initBackend } = await dist('backend/index.js');
const { loadModel } = await dist('synthesis/model.js');
const { synthesizeMel, vocode } = await dist('synthesis/speak.js');
const { readSentences } = await dist('eval/sentences.js');
const { Rng } = await dist('util/rng.js');

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const fail = (msg) => {
  console.error(`naturalness-validation: ${msg}`);
  process.exit(2);
};
const corpus = arg('corpus');
if (!corpus || !existsSync(join(corpus, 'metadata.csv')))
  fail('--corpus DIR: the full Allison corpus (datasets/allison/prepare.sh DIR builds it)');
const R = Number(arg('refs', 40));
const P = Number(arg('probes', 30));
const out = resolve(arg('out', join(root, 'docs', 'naturalness')));
const model = arg('model', join(root, 'pretrained', 'allison-enc128'));
const cfg = DEFAULT_MEL;
const log = (m) => process.stderr.write(`naturalness-validation: ${m}\n`);

const rows = readFileSync(join(corpus, 'metadata.csv'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split('|'));
const long = rows.filter((r) => r[2].split(/\s+/).length >= 5).sort((a, b) => (a[0] < b[0] ? -1 : 1));
const refRows = long.filter((_, i) => i % 2 === 0).slice(0, R);
const probeRows = long.filter((_, i) => i % 2 === 1).slice(0, P);
if (refRows.length < R || probeRows.length < P) fail(`${corpus}: only ${long.length} prompts of ≥ 5 words (need ${R + P})`);
const wavOf = (dir, id) => {
  const w = readWav(join(dir, `${id}.wav`));
  return w.sampleRate === cfg.sampleRate ? w.samples : resample(w.samples, w.sampleRate, cfg.sampleRate);
};
const measure = (wavs) => wavs.map((w) => N.wavNaturalness(w, cfg)).filter((x) => x !== null);

/** Box smoothing of a ln-mel over `ft` frames × `fb` bands (edges: the window shrinks). */
function blur(mel, ft, fb) {
  const { nMels: B, frames: T, data } = mel;
  const outData = new Float32Array(B * T);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      let s = 0;
      let n = 0;
      for (let db = -(fb >> 1); db <= fb >> 1; db++)
        for (let dt = -(ft >> 1); dt <= ft >> 1; dt++) {
          const bb = b + db;
          const tt = t + dt;
          if (bb < 0 || bb >= B || tt < 0 || tt >= T) continue;
          s += data[bb * T + tt];
          n++;
        }
      outData[b * T + t] = s / n;
    }
  return { ...mel, data: outData };
}
function noise(mel, sd, rng) {
  return { ...mel, data: mel.data.map((v) => v + sd * rng.normal()) };
}
const gl = (mel, i) => griffinLim(mel, { iters: 32, seed: i, cfg });

const tmp = mkdtempSync(join(tmpdir(), 'difftts-naturalness-'));
try {
  log(`${R} reference recordings, ${P} probes`);
  const ref = N.naturalnessRef(measure(refRows.map((r) => wavOf(join(corpus, 'wavs'), r[0]))));
  const probes = probeRows.map((r) => wavOf(join(corpus, 'wavs'), r[0]));
  const mels = probes.map((w) => logMel(w, cfg));
  const rng = new Rng(5);
  const sets = [];
  const add = (name, what, wavs) => {
    const m = measure(wavs);
    const s = N.scoreSet(m, ref);
    const utts = m.map((u) => N.scoreUtterance(u, ref).mcepFd).filter(Number.isFinite);
    sets.push({ name, what, ...s, meanUtteranceFd: utts.reduce((a, v) => a + v, 0) / utts.length });
    log(`${name}: GV ${s.gvDb.toFixed(2)} dB, mel distance ${s.melDist.toFixed(3)}, FD ${s.setFd.toFixed(4)}`);
  };
  add('recordings', `${P} other Allison recordings (the floor)`, probes);
  add('Griffin-Lim', 'the same recordings → ln-mel → Griffin-Lim 32', mels.map(gl));
  add(
    'blurred mel',
    'their ln-mel, 5-frame × 3-band box → Griffin-Lim 32',
    mels.map((m, i) => gl(blur(m, 5, 3), i)),
  );
  add(
    'noised mel',
    'their ln-mel + N(0, 0.5²) → Griffin-Lim 32',
    mels.map((m, i) => gl(noise(m, 0.5, rng), i)),
  );
  // festival's HTS voice reads the probes' prompts
  mkdirSync(join(tmp, 'texts'));
  writeFileSync(join(tmp, 'texts', 'metadata.csv'), probeRows.map((r) => r.join('|')).join('\n') + '\n');
  try {
    execFileSync(join(root, 'datasets', 'allison', 'make-donor.sh'), [join(tmp, 'texts'), join(tmp, 'hts'), 'festival'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    add(
      'festival slt HTS',
      'the same prompts, festival cmu_us_slt_arctic_hts (a clean synthetic voice)',
      probeRows.map((r) => wavOf(join(tmp, 'hts', 'wavs'), r[0])),
    );
  } catch (err) {
    log(
      `festival skipped: ${String(err.stderr ?? err)
        .trim()
        .split('\n')
        .pop()}`,
    );
  }
  await initBackend('wasm');
  const lm = loadModel(model);
  const texts = readSentences(join(root, 'datasets', 'sentences', 'unseen.txt'));
  for (const steps of [0, 10]) {
    const wavs = [];
    for (const [i, text] of texts.entries()) {
      const { mel } = await synthesizeMel(lm, text, {
        steps,
        temperature: lm.synth.temperature,
        lengthScale: lm.synth.lengthScale,
        stochastic: false,
        seed: 7 + i,
      });
      wavs.push(vocode(mel, lm.melConfig, 32, 7 + i));
    }
    add(
      steps === 0 ? 'enc128 μ alone' : 'enc128 10 steps',
      `${model.replace(root + '/', '')}, ${texts.length} unseen sentences, ${steps === 0 ? 'prior μ alone (--steps 0)' : `10 reverse-diffusion steps, τ ${lm.synth.temperature}`} → Griffin-Lim 32`,
      wavs,
    );
  }
  lm.model.dispose();
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'naturalness-validation.json'),
    JSON.stringify(
      { corpus: 'Allison (datasets/allison/prepare.sh)', refs: refRows.map((r) => r[0]), probes: probeRows.map((r) => r[0]), sets },
      null,
      2,
    ) + '\n',
  );
  // the plot's font has no μ
  N.writeGvPng(
    join(out, 'naturalness-gv.png'),
    sets.map((s) => ({ name: s.name.replace('μ', 'mu'), perBand: s.gvPerBand })),
    cfg,
    `GV of ln-mel per band vs ${R} Allison recordings`,
  );
  const lines = [
    '| set | what | GV (dB) | mean log-mel distance | Fréchet distance (set) | Fréchet distance (mean per utterance) |',
    '|---|---|---|---|---|---|',
  ];
  for (const s of sets)
    lines.push(
      `| ${s.name} | ${s.what} | ${s.gvDb.toFixed(2)} | ${s.melDist.toFixed(3)} | ${s.setFd.toFixed(3)} | ${s.meanUtteranceFd.toFixed(3)} |`,
    );
  console.log(lines.join('\n'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
