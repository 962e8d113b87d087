#!/usr/bin/env node
// Re-analyses a finished corruption experiment from its per-utterance evals (OUT/evals/LOSS/fF-sS/eval.json)
// with the current statistics (src/experiment/results.ts), without training or evaluating anything, and
// writes the result BESIDE the original report (never over it): DIR/reanalysis-NAME.md and .json.
// A margin given here was not pre-registered when the experiment ran: the report says so.
// Usage: npm run build && node scripts/reanalyse-experiment.mjs --recipe FILE --dir DIR [--name seed-level]
//          [--margin-relative 0.1 | --margin-absolute A]
// e.g. node scripts/reanalyse-experiment.mjs --recipe recipes/corruption-allison-finetune.json \
//        --dir docs/results/corruption-allison-finetune --margin-relative 0.1
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(root, 'dist', 'src', p));
const { loadExperimentRecipe } = await dist('experiment/recipe.js');
const { makePlan } = await dist('experiment/plan.js');
const { analyse, readRunRows } = await dist('experiment/results.js');
const { readAggregate, renderReport } = await dist('experiment/report.js');

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const fail = (msg) => {
  console.error(`reanalyse-experiment: ${msg}`);
  process.exit(2);
};
const recipePath = arg('recipe');
const dir = arg('dir');
if (!recipePath || !dir) fail('--recipe FILE and --dir DIR (the experiment directory with evals/) are required');
if (!existsSync(join(dir, 'evals'))) fail(`${dir}: no evals/ folder`);
const name = arg('name', 'seed-level');
const recipe = loadExperimentRecipe(recipePath);
const rel = arg('margin-relative');
const abs = arg('margin-absolute');
const preRegistered = recipe.analysis.equivalenceMargin !== undefined && rel === undefined && abs === undefined;
if (rel !== undefined) recipe.analysis.equivalenceMargin = { relative: Number(rel) };
if (abs !== undefined) recipe.analysis.equivalenceMargin = { absolute: Number(abs) };
const m = recipe.analysis.equivalenceMargin;
if (m && !(Object.values(m)[0] > 0)) fail('--margin-relative / --margin-absolute: expected a number > 0');

const out = resolve(dir);
const plan = makePlan(recipe, out);
const rows = new Map();
const aggregates = new Map();
for (const run of plan.runs) {
  const r = readRunRows(run);
  if (r) rows.set(run.key, r);
  const a = readAggregate(run);
  if (a) aggregates.set(run.key, a);
}
if (rows.size === 0) fail(`${dir}: no eval.json under evals/`);
const analysis = analyse(recipe, plan, rows);
const report = renderReport(recipe, plan, aggregates, analysis, { resiliencePlots: new Map(), curvePlots: [] });
const banner = [
  `> **Re-analysis** of the committed per-utterance evals of this experiment with the seed-level statistics of issue 26`,
  `> (\`node scripts/reanalyse-experiment.mjs ${argv.join(' ')}\`): t-intervals over per-seed paired differences, TOST, Holm.`,
  `> Nothing was retrained or re-evaluated; [report.md](report.md) is the original analysis and stays as it was.`,
  m && !preRegistered
    ? `> The equivalence margin (${JSON.stringify(m)}) was chosen AFTER the experiment ran (it is the example of issue 26), not pre-registered: read "equivalent" as what such a margin would allow, not as a pre-registered finding.`
    : '',
  '',
].filter((l, i, a) => l !== '' || i === a.length - 1);
writeFileSync(
  join(out, `reanalysis-${name}.md`),
  banner.join('\n') + '\n' + report.replace(/^# (.*)$/m, '# $1 — re-analysis at the seed level'),
);
writeFileSync(
  join(out, `reanalysis-${name}.json`),
  JSON.stringify({ ...analysis.results, marginPreRegistered: preRegistered }, null, 2) + '\n',
);
console.log(analysis.results.verdict);
