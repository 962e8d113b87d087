import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExperimentRecipeSchema } from './recipe.js';
import { makePlan, deepMerge } from './plan.js';
import { readAggregate, renderReport, resilienceTable } from './report.js';

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
    train: { recipe: '/r.json' },
    ...extra,
  });
}

test('plan: fraction 0 trains on the clean corpus; one corrupted corpus per (fraction, seed); every loss × fraction × seed run', () => {
  const r = recipe();
  const plan = makePlan(r, '/out');
  assert.deepEqual(plan.corpora.map((c) => c.key), ['clean', 'noise-f0.3-s0', 'noise-f0.3-s1']);
  assert.equal(plan.corpora[0]!.dir, '/c');
  assert.equal(plan.runs.length, 2 * 2 * 2);
  assert.ok(plan.runs.every((x) => (x.fraction === 0 ? x.corpus.key === 'clean' : x.corpus.key === `noise-f0.3-s${x.seed}`)));
  assert.equal(new Set(plan.runs.map((x) => x.runDir)).size, plan.runs.length);
});

test('resilience = sim(corrupted) − sim(clean) per seed, oriented (−MCD), with the spread over seeds', () => {
  const r = recipe();
  const out = mkdtempSync(join(tmpdir(), 'difftts-exp-'));
  const plan = makePlan(r, out);
  // MCD: l2 goes 5 → 7 (seed 0) and 5 → 8 (seed 1); ph goes 5 → 5.5 and 5 → 6. Cosine: l2 0.9 → 0.8 both seeds.
  const mcd: Record<string, number> = { 'l2/f0-s0': 5, 'l2/f0.3-s0': 7, 'l2/f0-s1': 5, 'l2/f0.3-s1': 8, 'ph/f0-s0': 5, 'ph/f0.3-s0': 5.5, 'ph/f0-s1': 5, 'ph/f0.3-s1': 6 };
  for (const run of plan.runs) {
    mkdirSync(run.evalDir, { recursive: true });
    const cos = run.loss.name === 'l2' ? (run.fraction === 0 ? 0.9 : 0.8) : 0.9;
    writeFileSync(join(run.evalDir, 'eval.json'), JSON.stringify({ aggregate: { mcd: mcd[run.key], melCosine: cos, wer: null } }));
  }
  const aggregates = new Map(plan.runs.map((x) => [x.key, readAggregate(x)!]));
  const table = resilienceTable(r, plan, aggregates);
  const l2 = table.get('mcd')!.get('l2')!.get(0.3)!;
  assert.equal(l2.mean, -2.5); // −(7−5), −(8−5)
  assert.equal(l2.n, 2);
  assert.ok(Math.abs(l2.std - Math.SQRT1_2) < 1e-12);
  assert.equal(table.get('mcd')!.get('ph')!.get(0.3)!.mean, -0.75);
  assert.ok(Math.abs(table.get('melCosine')!.get('l2')!.get(0.3)!.mean - -0.1) < 1e-12);
  assert.equal(table.has('wer'), false, 'a metric with no values (null) gets no table');
  const md = renderReport(r, plan, aggregates, { resiliencePlots: new Map(), curvePlots: [] });
  assert.match(md, /\| l2 \| -2\.500 ± 0\.707 \(n=2\) \|/);
  assert.match(md, /\| ph \| -0\.750 ± 0\.354 \(n=2\) \|/);
  assert.equal(readFileSync(join(plan.runs[0]!.evalDir, 'eval.json'), 'utf8').includes('mcd'), true);
});

test('deepMerge: objects merge, arrays and scalars are replaced', () => {
  assert.deepEqual(deepMerge({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2] }, e: 2 }), { a: { b: 1, c: [2] }, d: 1, e: 2 });
});

test('recipe schema: fractions must include 0; unknown keys rejected', () => {
  assert.throws(() => recipe({ fractions: [0.3] }));
  assert.throws(() => recipe({ lossses: [] }));
});
