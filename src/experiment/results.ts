/**
 * The experiment's answer as numbers: resilience per (loss, fraction, metric) and R_SPHL − R_L2 per
 * pseudo-Huber variant, each with a 95 % paired bootstrap interval over training seeds × evaluation
 * utterances (stats.ts), a verdict per metric, and the clean baselines' WER. This is results.json.
 *
 * Inputs are the per-utterance rows of every run's eval.json (test-split utterances with every metric,
 * unseen sentences with the reference-free ones: WER and speaker distance). For a metric m:
 *   D_loss,f[s, u] = sim_m(run loss, f, seed s; utterance u) − sim_m(run loss, 0, seed s; utterance u)
 * (sim oriented so that higher is better, resilience.ts), paired by training seed and utterance — and
 * so by synthesis seed, which evaluate derives from the utterance's position (seed + index).
 * R_loss,f = mean over seeds of the mean over utterances of D; R_SPHL − R_L2 resamples D_SPHL − D_L2.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS, similarity } from '../eval/resilience.js';
import type { ExperimentRecipe } from './recipe.js';
import type { Plan, RunJob } from './plan.js';
import { bootstrapPlan, estimate, seedsToResolve, seedUtteranceMean, subtract, verdict, type Estimate, type Verdict } from './stats.js';

/** utterance id → metric → value, for one run. */
export type RunRows = Map<string, Record<string, number>>;

/** Per-utterance metric values of one run's eval.json (test rows and unseen rows), or null if not evaluated. */
export function readRunRows(run: RunJob): RunRows | null {
  const p = join(run.evalDir, 'eval.json');
  if (!existsSync(p)) return null;
  const j = JSON.parse(readFileSync(p, 'utf8')) as { utterances?: Record<string, unknown>[]; unseen?: Record<string, unknown>[] };
  const out: RunRows = new Map();
  for (const row of [...(j.utterances ?? []), ...(j.unseen ?? [])]) {
    const id = String(row.id);
    const vals: Record<string, number> = {};
    for (const k of Object.keys(METRICS)) {
      const v = row[k];
      if (typeof v === 'number' && Number.isFinite(v)) vals[k] = v;
    }
    out.set(id, vals);
  }
  return out;
}

export interface CellResult {
  loss: string;
  fraction: number;
  metric: string;
  /** Finite paired differences that entered the estimate. */
  n: number;
  mean: number;
  ci95: [number, number];
}

export interface DiffResult {
  loss: string;
  fraction: number;
  metric: string;
  mean: number;
  ci95: [number, number];
}

/** results.json, exactly the schema of issue 14. */
export interface Results {
  recipe: string;
  seeds: number[];
  cells: CellResult[];
  sphlMinusL2: DiffResult[];
  /** Mean WER of the clean-data (fraction 0) runs over seeds × utterances, all losses; null without WER. */
  cleanBaselineWer: number | null;
  verdict: string;
}

export interface Analysis {
  results: Results;
  /** The reference loss (the recipe's first `l2` loss), or null when the recipe has none. */
  reference: string | null;
  /** metric → loss → fraction → verdict of R_loss − R_reference. */
  verdicts: Map<string, Map<string, Map<number, Verdict>>>;
  /** Raw (un-oriented) metric values of the clean runs: metric → loss → estimate over seeds × utterances. */
  baselines: Map<string, Map<string, Estimate>>;
}

/** Utterance ids in a stable order: every id any run reported, sorted. */
function utteranceIds(rows: Map<string, RunRows>): string[] {
  const ids = new Set<string>();
  for (const r of rows.values()) for (const id of r.keys()) ids.add(id);
  return [...ids].sort();
}

/** [seeds, utterances] matrix of f(values of run(seed), id); NaN where missing. */
function matrix(seeds: number[], ids: string[], at: (seed: number, id: string) => number | undefined): Float64Array {
  const x = new Float64Array(seeds.length * ids.length).fill(NaN);
  seeds.forEach((s, i) => ids.forEach((id, j) => (x[i * ids.length + j] = at(s, id) ?? NaN)));
  return x;
}

const isFinitePair = (ci: [number, number]) => Number.isFinite(ci[0]) && Number.isFinite(ci[1]);

/** One training seed shows nothing of run-to-run variation, so no interval over it can decide. */
const judge = (seeds: readonly number[], ci: readonly [number, number]): Verdict => (seeds.length < 2 ? 'cannot tell' : verdict(ci));

/** Everything results.json and report.md need, from the per-utterance rows of the runs evaluated so far. */
export function analyse(recipe: ExperimentRecipe, plan: Plan, rows: Map<string, RunRows>): Analysis {
  const { seeds } = recipe;
  const ids = utteranceIds(rows);
  const bp = bootstrapPlan(seeds.length, Math.max(1, ids.length), recipe.analysis.replicates, recipe.analysis.seed);
  const find = (loss: string, f: number, seed: number) => plan.runs.find((r) => r.loss.name === loss && r.fraction === f && r.seed === seed);
  const value = (loss: string, f: number, metric: string) => (seed: number, id: string) => rows.get(find(loss, f, seed)?.key ?? '')?.get(id)?.[metric];
  const reference = recipe.losses.find((l) => l.loss.type === 'l2')?.name ?? null;
  const fractions = recipe.fractions.filter((f) => f > 0);
  const cells: CellResult[] = [];
  const diffs: DiffResult[] = [];
  const verdicts = new Map<string, Map<string, Map<number, Verdict>>>();
  const baselines = new Map<string, Map<string, Estimate>>();
  if (ids.length > 0) {
    for (const metric of Object.keys(METRICS)) {
      const sim = (loss: string, f: number) => matrix(seeds, ids, (s, id) => {
        const v = value(loss, f, metric)(s, id);
        return v === undefined ? undefined : similarity(metric, v);
      });
      const D = new Map<string, Map<number, Float64Array>>();
      for (const { name } of recipe.losses) {
        const clean = sim(name, 0);
        const raw = matrix(seeds, ids, value(name, 0, metric));
        const base = estimate(raw, bp);
        if (base.n > 0) {
          if (!baselines.has(metric)) baselines.set(metric, new Map());
          baselines.get(metric)!.set(name, base);
        }
        const byF = new Map<number, Float64Array>();
        for (const f of fractions) {
          const d = subtract(sim(name, f), clean);
          const e = estimate(d, bp);
          if (e.n === 0) continue;
          byF.set(f, d);
          cells.push({ loss: name, fraction: f, metric, n: e.n, mean: e.mean, ci95: e.ci95 });
        }
        D.set(name, byF);
      }
      if (!reference) continue;
      for (const { name } of recipe.losses) {
        if (name === reference) continue;
        for (const f of fractions) {
          const a = D.get(name)?.get(f);
          const b = D.get(reference)?.get(f);
          if (!a || !b) continue;
          const e = estimate(subtract(a, b), bp);
          if (e.n === 0) continue;
          diffs.push({ loss: name, fraction: f, metric, mean: e.mean, ci95: e.ci95 });
          if (!verdicts.has(metric)) verdicts.set(metric, new Map());
          const byLoss = verdicts.get(metric)!;
          if (!byLoss.has(name)) byLoss.set(name, new Map());
          byLoss.get(name)!.set(f, judge(seeds, e.ci95));
        }
      }
    }
  }
  // clean baselines' WER: every fraction-0 run as one "seed" row of the bootstrap's seed level
  const cleanRuns = plan.runs.filter((r) => r.fraction === 0);
  const wer = seedUtteranceMean(
    matrix(cleanRuns.map((_, i) => i), ids, (i, id) => rows.get(cleanRuns[i]!.key)?.get(id)?.wer),
    cleanRuns.length,
    ids.length,
  );
  const results: Results = {
    recipe: recipe.name,
    seeds,
    cells,
    sphlMinusL2: diffs,
    cleanBaselineWer: Number.isFinite(wer) ? wer : null,
    verdict: summary(recipe, reference, diffs),
  };
  return { results, reference, verdicts, baselines };
}

function fmtNum(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1000) ? v.toExponential(2) : v.toFixed(a >= 10 ? 2 : 3);
}

/** "mean [lo, hi]" */
export function fmtInterval(mean: number, ci: readonly [number, number]): string {
  return isFinitePair([ci[0], ci[1]]) ? `${fmtNum(mean)} [${fmtNum(ci[0])}, ${fmtNum(ci[1])}]` : fmtNum(mean);
}

/** One sentence on the primary metric at the largest fraction. */
function summary(recipe: ExperimentRecipe, reference: string | null, diffs: DiffResult[]): string {
  const metric = recipe.analysis.primaryMetric;
  if (!reference) return `no L2 loss in the recipe: nothing to compare the pseudo-Huber variants with`;
  const fmax = Math.max(...recipe.fractions);
  const at = diffs.filter((d) => d.metric === metric && d.fraction === fmax);
  if (at.length === 0) return `${metric} at f = ${fmax}: no finished runs to compare yet`;
  const unit = (METRICS as Record<string, { unit: string }>)[metric]?.unit ?? '';
  const parts = at.map((d) => {
    const v = judge(recipe.seeds, d.ci95);
    const word = v === 'better' ? 'more resilient than' : v === 'worse' ? 'less resilient than' : 'cannot be told apart from';
    const need = v === 'cannot tell' && recipe.seeds.length >= 2 ? seedsToResolve(recipe.seeds.length, d.mean, d.ci95) : null;
    const more = need === null ? '' : Number.isFinite(need) ? `; ≈ ${need} seeds would resolve a difference of this size` : '; no difference to resolve';
    return `${d.loss} ${word} ${reference} (R − R_${reference} = ${fmtInterval(d.mean, d.ci95)} ${unit}${more})`;
  });
  const caveat = recipe.seeds.length < 2 ? ' (one training seed: run-to-run variation unseen, no verdict possible)' : recipe.seeds.length < 3 ? ' (fewer than 3 seeds: intervals likely too narrow)' : '';
  return `${metric} at f = ${fmax}, 95 % paired bootstrap over ${recipe.seeds.length} seed(s) × utterances${caveat}: ${parts.join('; ')}`;
}
