import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentRecipeSchema } from './recipe.js';
import { makePlan } from './plan.js';
import { readAggregate, renderReport, writeReport } from './report.js';
import { analyse, readRunRows, type RunRows } from './results.js';

// the base training recipe the arms' losses merge into (results.json reports each arm's resolved loss.scope)
const base = join(mkdtempSync(join(tmpdir(), 'difftts-exp-base-')), 'r.json');
writeFileSync(base, JSON.stringify({ model: 'tiny', loss: { type: 'l2' } }));

function recipe(extra: object = {}) {
  return ExperimentRecipeSchema.parse({
    corpus: '/c',
    corruption: { mode: 'noise', options: { snr: 5 } },
    fractions: [0, 0.3],
    losses: [
      { name: 'l2', loss: { type: 'l2' } },
      { name: 'ph', loss: { type: 'pseudo-huber', c: 0.1 } },
    ],
    seeds: [0, 1],
    train: { recipe: base },
    ...extra,
  });
}

test('plan: fraction 0 trains on the clean corpus; one corrupted corpus per (fraction, seed); every loss × fraction × seed run', () => {
  const r = recipe();
  const plan = makePlan(r, '/out');
  assert.deepEqual(
    plan.corpora.map((c) => c.key),
    ['clean', 'noise-f0.3-s0', 'noise-f0.3-s1'],
  );
  assert.equal(plan.corpora[0]!.dir, '/c');
  assert.equal(plan.runs.length, 2 * 2 * 2);
  assert.ok(plan.runs.every((x) => (x.fraction === 0 ? x.corpus.key === 'clean' : x.corpus.key === `noise-f0.3-s${x.seed}`)));
  assert.equal(new Set(plan.runs.map((x) => x.runDir)).size, plan.runs.length);
});

test("results: resilience per utterance pair, R_ph − R_l2 with paired intervals, verdicts, results.json with the issue's schema", () => {
  const r = recipe();
  const out = mkdtempSync(join(tmpdir(), 'difftts-exp-'));
  const plan = makePlan(r, out);
  // 3 test utterances with MCD; l2 gets worse by exactly 2 dB (seed 0) and 3 dB (seed 1) on every
  // utterance; ph by 0.5 and 1. Utterance offsets (0, 4, 8 dB) cancel in the paired differences.
  // Cosine: l2 0.9 → 0.8 on every utterance and seed. One unseen sentence with WER only.
  const worse: Record<string, number> = { 'l2/f0.3-s0': 2, 'l2/f0.3-s1': 3, 'ph/f0.3-s0': 0.5, 'ph/f0.3-s1': 1 };
  for (const run of plan.runs) {
    mkdirSync(run.evalDir, { recursive: true });
    const utterances = [0, 4, 8].map((off, i) => ({
      id: `u${i}`,
      mcd: 5 + off + (worse[run.key] ?? 0),
      melCosine: run.loss.name === 'l2' && run.fraction > 0 ? 0.8 : 0.9,
      f0Rmse: i === 1 ? null : 20,
      wer: run.fraction === 0 ? 0.25 : 0.5,
    }));
    writeFileSync(
      join(run.evalDir, 'eval.json'),
      JSON.stringify({
        aggregate: { mcd: 9 + (worse[run.key] ?? 0) },
        utterances,
        unseen: [{ id: 'unseen-01', wer: run.fraction === 0 ? 0.75 : 1, speakerDist: null }],
      }),
    );
  }
  const rows = new Map<string, RunRows>(plan.runs.map((x) => [x.key, readRunRows(x)!]));
  assert.deepEqual(rows.get('l2/f0-s0')!.get('u1'), { mcd: 9, melCosine: 0.9, wer: 0.25 }, 'null and missing metrics are left out');
  const analysis = analyse(r, plan, rows);
  const cell = (loss: string, metric: string) =>
    analysis.results.cells.find((c) => c.loss === loss && c.metric === metric && c.fraction === 0.3)!;
  assert.equal(cell('l2', 'mcd').mean, -2.5); // −(2 + 3)/2
  assert.equal(cell('l2', 'mcd').n, 6);
  const [lo, hi] = cell('l2', 'mcd').ci95;
  assert.ok(lo >= -3 && lo <= -2.9 && hi >= -2.1 && hi <= -2, `seed-level bootstrap of {−2, −3}: ${lo}, ${hi}`);
  assert.ok(Math.abs(cell('l2', 'melCosine').mean + 0.1) < 1e-12);
  assert.deepEqual(
    cell('l2', 'melCosine').ci95.map((v) => Math.round(v * 1e9) / 1e9),
    [-0.1, -0.1],
  );
  const d = analysis.results.sphlMinusL2.find((x) => x.loss === 'ph' && x.metric === 'mcd')!;
  assert.equal(d.mean, 1.75); // −0.75 − (−2.5)
  // per-seed differences 1.5 and 2: t-interval 1.75 ± t(0.975, 1 df) · 0.25 = 1.75 ± 12.706 · 0.25
  assert.equal(d.interval, 't');
  assert.equal(d.seeds, 2);
  assert.ok(
    Math.abs(d.ci95[0] - (1.75 - 12.7062047 * 0.25)) < 1e-6 && Math.abs(d.ci95[1] - (1.75 + 12.7062047 * 0.25)) < 1e-6,
    `${d.ci95}`,
  );
  assert.ok(d.bootstrapCi95[0] >= 1.5 && d.bootstrapCi95[1] <= 2, `the bootstrap only reshuffles the 2 seeds: ${d.bootstrapCi95}`);
  assert.equal(d.scope, 'diffusion');
  assert.equal(d.margin, null);
  assert.equal(d.verdict, 'cannot tell', 'two seeds that differ by 0.5 cannot decide');
  assert.equal(analysis.verdicts.get('mcd')!.get('ph')!.get(0.3), 'cannot tell');
  // cosine: the same 0.1 on every seed — no spread, a secondary metric Holm-adjusted to p = 0
  assert.equal(analysis.verdicts.get('melCosine')!.get('ph')!.get(0.3), 'better');
  // WER: unseen sentence counted with the test utterances; clean runs (4 of them) 0.25 ×3 and 0.75 → 0.375
  assert.ok(Math.abs(analysis.results.cleanBaselineWer! - 0.375) < 1e-12);
  assert.match(analysis.results.verdict, /^mcd at f = 0\.3, .*ph \(scope diffusion\) cannot be told apart from l2 \(R − R_l2 = 1\.750 \[/);
  assert.equal(analysis.results.primaryMetric, 'mcd');
  assert.equal(analysis.results.equivalenceMargin, null);

  // a pre-registered margin: ±5 dB absolute holds the 90 % interval 1.75 ± 6.314 · 0.25 → equivalent;
  // 10 % of L2's damage (0.25 dB) does not
  const wide = recipe({ analysis: { primaryMetric: 'mcd', equivalenceMargin: { absolute: 5 } } });
  const wd = analyse(wide, makePlan(wide, out), rows).results.sphlMinusL2.find((x) => x.loss === 'ph' && x.metric === 'mcd')!;
  assert.deepEqual([wd.margin, wd.verdict], [5, 'equivalent']);
  assert.ok(wd.tostP! < 0.05 && wd.p! > 0.05, `TOST p ${wd.tostP}, p ${wd.p}`);
  const rel = recipe({ analysis: { primaryMetric: 'mcd', equivalenceMargin: { relative: 0.1 } } });
  const rd = analyse(rel, makePlan(rel, out), rows).results.sphlMinusL2.find((x) => x.loss === 'ph' && x.metric === 'mcd')!;
  assert.ok(Math.abs(rd.margin! - 0.25) < 1e-12, `margin ${rd.margin}`);
  assert.equal(rd.verdict, 'cannot tell');

  // the scope is the arm's resolved loss.scope: here set by the experiment's overrides, not by the arm's loss
  const all = recipe({ train: { recipe: base, overrides: { loss: { scope: 'all' } } } });
  assert.equal(analyse(all, makePlan(all, out), rows).results.sphlMinusL2.find((x) => x.loss === 'ph' && x.metric === 'mcd')!.scope, 'all');

  // one seed: the same clear difference gets no verdict
  const one = recipe({ seeds: [0] });
  const oneAnalysis = analyse(one, makePlan(one, out), rows);
  assert.equal(oneAnalysis.verdicts.get('mcd')!.get('ph')!.get(0.3), 'cannot tell');
  assert.match(oneAnalysis.results.verdict, /one training seed/);

  const aggregates = new Map(plan.runs.map((x) => [x.key, readAggregate(x)!]));
  writeReport(r, plan, aggregates, analysis, { resiliencePlots: new Map(), curvePlots: [] });
  const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.deepEqual(Object.keys(json), [
    'recipe',
    'primaryMetric',
    'equivalenceMargin',
    'seeds',
    'cells',
    'sphlMinusL2',
    'cleanBaselineWer',
    'verdict',
  ]);
  assert.deepEqual(Object.keys(json.cells[0]), ['loss', 'fraction', 'metric', 'n', 'mean', 'ci95']);
  assert.deepEqual(Object.keys(json.sphlMinusL2[0]), [
    'loss',
    'scope',
    'fraction',
    'metric',
    'mean',
    'ci95',
    'interval',
    'ci90',
    'bootstrapCi95',
    'seeds',
    'seedSd',
    'p',
    'pAdjusted',
    'margin',
    'tostP',
    'verdict',
    'seedsFor80',
  ]);
  assert.deepEqual(json.seeds, [0, 1]);
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, /\| l2 \| -2\.500 \[-\d\.\d+, -2\.\d+\] \|/);
  assert.match(md, /\| ph \| 1\.750 \[-1\.427, 4\.927\] cannot tell \|/);
  assert.match(md, /\| ph \| diffusion \| 0\.3 \| 2 \| 1\.750 \| \[-1\.427, 4\.927\] \|/);
  assert.equal(renderReport(r, plan, aggregates, analysis, { resiliencePlots: new Map(), curvePlots: [] }), md);
});

test('recipe schema: fractions must include 0; unknown keys rejected', () => {
  assert.throws(() => recipe({ fractions: [0.3] }));
  assert.throws(() => recipe({ lossses: [] }));
});
