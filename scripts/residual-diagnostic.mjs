#!/usr/bin/env node
// The residual diagnostic of the corruption experiment (issue 26; src/eval/residuals.ts): for every
// training utterance of a corrupted corpus, the RMS of the prior term's residual y − μ_aligned (MAS
// alignment, no dropout) and of the diffusion term's residual s·√λ_t + z at fixed times t (one fixed
// z per utterance, seeded by its id), under one or more checkpoints; donor (corrupted) utterances
// against target ones. Also the share of each utterance's L2 gradient that a pseudo-Huber loss
// (--loss, default the experiment's scheduled one) would keep. Writes OUT/residuals.json (every
// utterance and the donor-vs-target comparison per term) and OUT/residuals.png.
//
// A dev script, not a `difftts` subcommand: it answers one research question about one experiment's
// corpora (it needs a corruption manifest), and reads the model's internals (GradTTS.residuals).
//
// Usage: npm run build && node scripts/residual-diagnostic.mjs \
//   --features EXP/features/replace-voice-f0.45-s0 --manifest EXP/corpora/replace-voice-f0.45-s0/corruption.json \
//   --checkpoint clean-trained=EXP/runs/l2/f0-s0 --checkpoint corrupted-trained=EXP/runs/l2/f0.45-s0 \
//   [--t 0.1,0.3,0.5,0.7,0.9] [--seed 1] [--loss '{"type":"pseudo-huber","schedule":"exponential","c":0.1}'] --out DIR
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist/src', p));
const { initBackend } = await dist('backend/index.js');
const { loadFeatures } = await dist('data/index.js');
const { loadModel } = await dist('synthesis/model.js');
const { parseLossConfig } = await dist('loss/index.js');
const { itemResiduals, compareResiduals } = await dist('eval/residuals.js');
const { writeResidualPng } = await dist('eval/residuals-plot.js');
const { UserError } = await dist('errors.js');
const { writeFileAtomic } = await dist('util/atomic.js');

/** --name VALUE (all of them when repeated). */
function args(name) {
  const out = [];
  for (let i = 2; i < process.argv.length; i++)
    if (process.argv[i] === `--${name}` && i + 1 < process.argv.length) out.push(process.argv[++i]);
  return out;
}
const one = (name, dflt) => args(name).at(-1) ?? dflt;

try {
  const featuresDir = one('features');
  const manifestPath = one('manifest');
  const out = one('out');
  if (!featuresDir || !manifestPath || !out || args('checkpoint').length === 0) {
    throw new UserError(
      'usage: residual-diagnostic.mjs --features DIR --manifest corruption.json --checkpoint NAME=DIR [--checkpoint ...] [--t LIST] [--seed N] [--loss JSON] --out DIR',
    );
  }
  const ts = one('t', '0.1,0.3,0.5,0.7,0.9').split(',').map(Number);
  if (ts.some((t) => !(t > 0 && t < 1))) throw new UserError(`--t ${one('t')}: expected comma-separated times in (0, 1)`);
  const seed = Number(one('seed', '1'));
  if (!Number.isInteger(seed)) throw new UserError(`--seed ${one('seed')}: expected an integer`);
  let lossJson;
  try {
    lossJson = JSON.parse(one('loss', '{"type":"pseudo-huber","schedule":"exponential","c":0.1}'));
  } catch {
    throw new UserError(`--loss: expected a JSON loss configuration, e.g. {"type":"pseudo-huber","schedule":"exponential","c":0.1}`);
  }
  const robust = parseLossConfig(lossJson, '--loss');
  if (robust.type !== 'pseudo-huber')
    throw new UserError(`--loss: type ${robust.type}: the kept-gradient share is pseudo-Huber's (expected type "pseudo-huber")`);
  if (!existsSync(manifestPath))
    throw new UserError(`--manifest ${manifestPath}: not found (expected the corruption.json of a corrupted corpus)`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (manifest.format !== 'difftts-corruption')
    throw new UserError(`${manifestPath}: not a difftts corruption manifest (format 'difftts-corruption' expected)`);
  const donors = new Set(manifest.corrupted.map((r) => r.id));

  await initBackend('wasm');
  const fs = loadFeatures(featuresDir);
  const items = fs.splits.train.map((id) => fs.utterances.get(id)).filter((u) => u !== undefined);
  const missing = [...donors].filter((id) => !fs.splits.train.includes(id));
  if (missing.length)
    throw new UserError(
      `${manifestPath}: corrupted id ${missing[0]} is not in the train split of ${featuresDir} (expected the features of this corrupted corpus)`,
    );

  const results = [];
  const started = Date.now();
  for (const spec of args('checkpoint')) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UserError(`--checkpoint ${spec}: expected NAME=DIR`);
    const [name, path] = [spec.slice(0, eq), spec.slice(eq + 1)];
    const m = loadModel(path);
    try {
      if (JSON.stringify(m.textConfig) !== JSON.stringify(fs.textConfig))
        throw new UserError(
          `${path}: text config ${JSON.stringify(m.textConfig)} differs from ${featuresDir}'s ${JSON.stringify(fs.textConfig)}`,
        );
      const cfg = m.model.cfg;
      const t0 = Date.now();
      const per = await itemResiduals(m.model, items, donors, {
        ts,
        seed,
        robust,
        sde: { beta0: cfg.beta0, beta1: cfg.beta1 },
        onItem: (done, total) => {
          if (done % 20 === 0 || done === total)
            process.stderr.write(`${name}: ${done}/${total} utterances (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
        },
      });
      results.push({
        name,
        checkpoint: relative(root, resolve(m.checkpoint.dir)),
        step: m.checkpoint.meta.step,
        comparisons: compareResiduals(per),
        items: per,
      });
    } finally {
      m.model.dispose();
    }
  }

  const fmt = (v) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
  const lines = [];
  for (const r of results) {
    lines.push(
      `${r.name} (${r.checkpoint}, step ${r.step}): ${r.items.filter((x) => !x.donor).length} target, ${r.items.filter((x) => x.donor).length} donor utterances`,
    );
    lines.push(
      '  term              δ       rms target med [Q1, Q3]   rms donor med [Q1, Q3]   ratio   AUC    >fence  kept target  kept donor  ratio',
    );
    for (const c of r.comparisons) {
      const g = (s) => `${fmt(s.median)} [${fmt(s.q1)}, ${fmt(s.q3)}]`;
      lines.push(
        `  ${c.term.padEnd(16)} ${String(fmt(c.delta)).padEnd(7)} ${g(c.rms.target).padEnd(25)} ${g(c.rms.donor).padEnd(24)} ${String(fmt(c.rms.ratio)).padEnd(7)} ${String(fmt(c.rms.auc)).padEnd(6)} ${String(fmt(c.rms.beyondFence)).padEnd(7)} ${String(fmt(c.kept.target.median)).padEnd(12)} ${String(fmt(c.kept.donor.median)).padEnd(11)} ${fmt(c.kept.ratio)}`,
      );
    }
  }
  const json = {
    format: 'difftts-residual-diagnostic',
    version: 1,
    features: relative(root, resolve(featuresDir)),
    manifest: relative(root, resolve(manifestPath)),
    ts,
    seed,
    robust,
    seconds: Math.round((Date.now() - started) / 1000),
    units: {
      prior: 'RMS of y − μ_aligned over an utterance’s cells, ln mel',
      diffusion: 'RMS of s·√λ_t + z, units of z (standard normal)',
      kept: 'Σ w·r² / Σ r², w = δ/√(r² + δ²): the share of the L2 gradient pseudo-Huber keeps',
    },
    checkpoints: results,
  };
  writeFileAtomic(join(out, 'residuals.json'), JSON.stringify(json, null, 1) + '\n');
  writeResidualPng(
    join(out, 'residuals.png'),
    results.map((r) => ({ name: r.name, items: r.items })),
    `${manifest.mode} ${Math.round(manifest.fraction * 100)} %`,
  );
  process.stdout.write(lines.join('\n') + `\nwrote ${join(out, 'residuals.json')} and residuals.png\n`);
} catch (err) {
  if (err instanceof UserError) {
    process.stderr.write(`residual-diagnostic: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
