#!/usr/bin/env node
// Validates difftts's speaker distance (src/eval/speaker.ts): can it tell a voice from other voices,
// also through Griffin-Lim (the vocoder every generated utterance goes through)?
//
// Griffin-Lim shifts some voices' statistics (the buzzy synthetic ones most), so a third column scores
// the Griffin-Lim probes against references that went through Griffin-Lim too — what
// `difftts evaluate` does (the generated speech and the speaker's references share the vocoder).
// Voices: Allison (datasets/allison-mini, real) and the same transcripts by flite kal/awb/rms/slt,
// espeak-ng en-us and festival's cmu_us_slt_arctic_hts (built with datasets/allison/make-donor.sh;
// voices whose tool is missing are skipped with a note). The first R texts give each voice's
// reference statistics, the next P texts are probes, each as recorded/synthesised and as a
// Griffin-Lim resynthesis of its log-mel (32 iterations). For every target voice T and probe p:
// d = speakerDistance(stats(p), stats(refs of T)); same-voice pairs should score lower. Reports the
// ROC AUC (P(d_same < d_other), ties ½) per target voice and pooled over targets, and the equal-error
// rate of one threshold over all pairs, as markdown on stdout and JSON in --out FILE.
// Usage: npm run build && node scripts/speaker-validation.mjs [--refs 16] [--probes 16] [--out FILE]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { readWav } = await import(join(root, 'dist/src/audio/wav.js'));
const { logMel } = await import(join(root, 'dist/src/audio/mel.js'));
const { griffinLim } = await import(join(root, 'dist/src/audio/griffinlim.js'));
const { melCepstrum } = await import(join(root, 'dist/src/eval/mcep.js'));
const { speakerStats, speakerDistance } = await import(join(root, 'dist/src/eval/speaker.js'));
const { auc, equalErrorRate } = await import(join(root, 'dist/src/eval/speaker.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const R = Number(arg('refs', 16));
const P = Number(arg('probes', 16));
const outFile = arg('out', null);

const corpus = join(root, 'datasets', 'allison-mini');
const rows = readFileSync(join(corpus, 'metadata.csv'), 'utf8').trim().split('\n');
// every k-th row, so references and probes spread over the corpus
const step = Math.max(1, Math.floor(rows.length / (R + P)));
const chosen = rows.filter((_, i) => i % step === 0).slice(0, R + P);
const ids = chosen.map((r) => r.split('|')[0]);

const tmp = mkdtempSync(join(tmpdir(), 'difftts-speaker-'));
const notes = [];
try {
  mkdirSync(join(tmp, 'texts'));
  writeFileSync(join(tmp, 'texts', 'metadata.csv'), chosen.join('\n') + '\n');
  const voices = { allison: join(corpus, 'wavs') };
  const synth = [
    ['flite', 'slt'],
    ['flite', 'kal'],
    ['flite', 'awb'],
    ['flite', 'rms'],
    ['espeak-ng', 'en-us'],
    ['festival', 'cmu_us_slt_arctic_hts'],
  ];
  for (const [engine, voice] of synth) {
    const name = engine === 'flite' ? `flite-${voice}` : engine === 'festival' ? 'festival-slt-hts' : 'espeak-ng';
    try {
      execFileSync(join(root, 'datasets', 'allison', 'make-donor.sh'), [join(tmp, 'texts'), join(tmp, name), engine, voice], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      voices[name] = join(tmp, name, 'wavs');
    } catch (err) {
      notes.push(
        `${name} skipped: ${String(err.stderr ?? err)
          .trim()
          .split('\n')
          .pop()}`,
      );
    }
  }
  const cep = (samples) => melCepstrum(samples);
  const data = {};
  for (const [name, dir] of Object.entries(voices)) {
    const wavs = ids.map((id) => readWav(join(dir, `${id}.wav`)).samples);
    const refs = speakerStats(wavs.slice(0, R).map(cep));
    const refsGl = speakerStats(wavs.slice(0, R).map((w) => cep(griffinLim(logMel(w), { iters: 32, seed: 1 }))));
    const probes = wavs
      .slice(R)
      .map((w) => ({ raw: speakerStats([cep(w)]), gl: speakerStats([cep(griffinLim(logMel(w), { iters: 32, seed: 1 }))]) }));
    data[name] = { refs, refsGl, probes };
    process.stderr.write(`speaker-validation: ${name} done\n`);
  }
  const names = Object.keys(data);
  const result = { refs: R, probes: P, voices: names, notes, targets: {}, pooled: {} };
  const kinds = ['raw', 'gl', 'glgl'];
  const all = Object.fromEntries(kinds.map((k) => [k, { same: [], other: [] }]));
  for (const t of names) {
    const per = Object.fromEntries(kinds.map((k) => [k, { same: [], other: [] }]));
    for (const v of names) {
      for (const p of data[v].probes) {
        for (const kind of kinds) {
          const d = kind === 'glgl' ? speakerDistance(p.gl, data[t].refsGl) : speakerDistance(p[kind], data[t].refs);
          (v === t ? per[kind].same : per[kind].other).push(d);
          (v === t ? all[kind].same : all[kind].other).push(d);
        }
      }
    }
    const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
    result.targets[t] = Object.fromEntries(
      kinds.map((k) => [k, { auc: auc(per[k].same, per[k].other), sameMean: mean(per[k].same), otherMean: mean(per[k].other) }]),
    );
  }
  for (const k of kinds) result.pooled[k] = { auc: auc(all[k].same, all[k].other), eer: equalErrorRate(all[k].same, all[k].other) };
  const f = (x) => x.toFixed(3);
  const lines = [
    `Speaker distance validation: ${R} reference and ${P} probe utterances per voice (Allison texts), probes as is and through Griffin-Lim.`,
    '',
    '| target voice | AUC | same (dB) | other (dB) | AUC, GL probes | same (dB) | other (dB) | AUC, GL probes vs GL refs | same (dB) | other (dB) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of names) {
    const r = result.targets[t];
    lines.push(`| ${t} | ${kinds.map((k) => `${f(r[k].auc)} | ${r[k].sameMean.toFixed(2)} | ${r[k].otherMean.toFixed(2)}`).join(' | ')} |`);
  }
  lines.push(
    '',
    `Pooled over targets: AUC ${f(result.pooled.raw.auc)} (EER ${f(result.pooled.raw.eer)}); Griffin-Lim probes: AUC ${f(result.pooled.gl.auc)} (EER ${f(result.pooled.gl.eer)}); Griffin-Lim probes against Griffin-Lim references: AUC ${f(result.pooled.glgl.auc)} (EER ${f(result.pooled.glgl.eer)}).`,
  );
  for (const n of notes) lines.push('', `Note: ${n}`);
  console.log(lines.join('\n'));
  if (outFile) writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
