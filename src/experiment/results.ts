/**
 * The experiment's answer as numbers: resilience per (loss, fraction, metric) and R_SPHL − R_L2 per
 * pseudo-Huber variant, each with a 95 % paired bootstrap interval over training seeds × evaluation
 * utterances (stats.ts, a description of the spread), a verdict per metric, and the clean baselines'
 * WER. This is results.json.
 *
 * Verdicts on R_SPHL − R_L2 rest on the training seed, the unit that varies most: the per-seed
 * paired differences d_s = mean_u D_SPHL[s, u] − mean_u D_L2[s, u] (u over the utterances both
 * have), a t-interval with k − 1 df (`interval: "t"`), TOST against the recipe's equivalence margin
 * (`analysis.equivalenceMargin`: `{relative: r}` = r × |R_L2| on the same metric and fraction, or
 * `{absolute: a}` in the primary metric's unit, primary metric only), Holm's correction over the
 * secondary metrics of each (loss, fraction), and the seeds 80 % power would take.
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
import { runLossConfig, type ExperimentRecipe } from './recipe.js';
import type { Plan, RunJob } from './plan.js';
import {
  bootstrapPlan,
  estimate,
  holm,
  seedInference,
  seedMeans,
  seedsForPower,
  seedUtteranceMean,
  seedVerdict,
  subtract,
  type Estimate,
  type Verdict,
} from './stats.js';

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
  /** The arm's loss scope (`loss.scope` of the recipe it trained with): which loss terms use its loss, "diffusion" or "all". */
  scope: string;
  fraction: number;
  metric: string;
  /** Mean over seeds of the per-seed paired difference R_loss − R_reference (> 0 = more resilient). */
  mean: number;
  /** The interval the verdict reads: 95 % t-interval over per-seed differences (`interval`). */
  ci95: [number, number];
  /** How ci95 was made: "t" = Student t over the k per-seed paired differences, k − 1 df. */
  interval: 't';
  /** 90 % t-interval (what TOST reads: equivalent when inside ±margin). */
  ci90: [number, number];
  /** The two-stage seeds × utterances bootstrap's 95 % percentile interval (description, not decision). */
  bootstrapCi95: [number, number];
  /** Seeds with a difference, and the SD of the per-seed differences. */
  seeds: number;
  seedSd: number | null;
  /** Two-sided p of "no difference"; Holm-adjusted over the secondary metrics (as is for the primary). */
  p: number | null;
  pAdjusted: number | null;
  /** The equivalence margin on this metric and fraction (null: none pre-registered for it). */
  margin: number | null;
  /** TOST p of |difference| ≥ margin (Holm-adjusted for secondary metrics); null without a margin. */
  tostP: number | null;
  verdict: Verdict;
  /** Seeds for 80 % power (α 0.05, t-corrected) to detect a true difference of the observed size, and to show equivalence within the margin if the true difference were 0. */
  seedsFor80: { detectObserved: number | null; showEquivalence: number | null };
}

/** How the recipe pre-registered its equivalence margin. */
export type MarginSpec = { relative: number } | { absolute: number };

/** results.json: the schema of issue 14, plus issue 26's seed-level statistics. */
export interface Results {
  recipe: string;
  /** The metric the verdict is about. */
  primaryMetric: string;
  /** The pre-registered equivalence margin (recipe `analysis.equivalenceMargin`), or null. */
  equivalenceMargin: MarginSpec | null;
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

const orNull = (v: number) => (Number.isFinite(v) ? v : null);

/** The margin on (metric, fraction): relative to |R_reference| there, or absolute on the primary metric only. */
function marginFor(spec: MarginSpec | undefined, metric: string, primary: string, referenceMean: number): number | null {
  if (!spec) return null;
  if ('absolute' in spec) return metric === primary ? spec.absolute : null;
  const m = spec.relative * Math.abs(referenceMean);
  return Number.isFinite(m) && m > 0 ? m : null;
}

/** Everything results.json and report.md need, from the per-utterance rows of the runs evaluated so far. */
export function analyse(recipe: ExperimentRecipe, plan: Plan, rows: Map<string, RunRows>): Analysis {
  const { seeds } = recipe;
  const ids = utteranceIds(rows);
  const bp = bootstrapPlan(seeds.length, Math.max(1, ids.length), recipe.analysis.replicates, recipe.analysis.seed);
  const find = (loss: string, f: number, seed: number) =>
    plan.runs.find((r) => r.loss.name === loss && r.fraction === f && r.seed === seed);
  const value = (loss: string, f: number, metric: string) => (seed: number, id: string) =>
    rows.get(find(loss, f, seed)?.key ?? '')?.get(id)?.[metric];
  const reference = recipe.losses.find((l) => l.loss.type === 'l2')?.name ?? null;
  // each arm's loss.scope as it trained: the arm's loss merged over the base recipe's and the overrides
  const scopes = new Map(recipe.losses.map((l) => [l.name, runLossConfig(recipe, l).scope]));
  const primary = recipe.analysis.primaryMetric;
  const spec = recipe.analysis.equivalenceMargin as MarginSpec | undefined;
  const fractions = recipe.fractions.filter((f) => f > 0);
  const cells: CellResult[] = [];
  const diffs: DiffResult[] = [];
  const verdicts = new Map<string, Map<string, Map<number, Verdict>>>();
  const baselines = new Map<string, Map<string, Estimate>>();
  if (ids.length > 0) {
    for (const metric of Object.keys(METRICS)) {
      const sim = (loss: string, f: number) =>
        matrix(seeds, ids, (s, id) => {
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
          const d = subtract(a, b);
          const e = estimate(d, bp);
          if (e.n === 0) continue;
          const margin = marginFor(spec, metric, primary, seedUtteranceMean(b, seeds.length, ids.length));
          const inf = seedInference(seedMeans(d, seeds.length, ids.length), margin);
          diffs.push({
            loss: name,
            scope: scopes.get(name)!,
            fraction: f,
            metric,
            mean: inf.mean,
            ci95: inf.ci95,
            interval: 't',
            ci90: inf.ci90,
            bootstrapCi95: e.ci95,
            seeds: inf.k,
            seedSd: orNull(inf.sd),
            p: orNull(inf.p),
            pAdjusted: orNull(inf.p),
            margin,
            tostP: orNull(inf.tostP),
            verdict: 'cannot tell',
            seedsFor80: {
              detectObserved: orNull(seedsForPower(inf.sd, inf.mean)),
              showEquivalence: margin === null ? null : orNull(seedsForPower(inf.sd, margin, { equivalence: true })),
            },
          });
        }
      }
    }
  }
  // Holm over the secondary metrics of each (loss, fraction), for both the difference and the equivalence tests
  for (const { name } of recipe.losses) {
    for (const f of fractions) {
      const family = diffs.filter((x) => x.loss === name && x.fraction === f && x.metric !== primary);
      const adj = holm(family.map((x) => x.p ?? NaN));
      const adjTost = holm(family.map((x) => x.tostP ?? NaN));
      family.forEach((x, i) => {
        x.pAdjusted = orNull(adj[i]!);
        x.tostP = orNull(adjTost[i]!);
      });
    }
  }
  for (const x of diffs) {
    x.verdict = seedVerdict(x.mean, x.pAdjusted ?? NaN, x.tostP ?? NaN);
    if (!verdicts.has(x.metric)) verdicts.set(x.metric, new Map());
    const byLoss = verdicts.get(x.metric)!;
    if (!byLoss.has(x.loss)) byLoss.set(x.loss, new Map());
    byLoss.get(x.loss)!.set(x.fraction, x.verdict);
  }
  // clean baselines' WER: every fraction-0 run as one "seed" row of the bootstrap's seed level
  const cleanRuns = plan.runs.filter((r) => r.fraction === 0);
  const wer = seedUtteranceMean(
    matrix(
      cleanRuns.map((_, i) => i),
      ids,
      (i, id) => rows.get(cleanRuns[i]!.key)?.get(id)?.wer,
    ),
    cleanRuns.length,
    ids.length,
  );
  const results: Results = {
    recipe: recipe.name,
    primaryMetric: primary,
    equivalenceMargin: spec ?? null,
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
  const words: Record<Verdict, string> = {
    better: 'more resilient than',
    worse: 'less resilient than',
    equivalent: 'equivalent to',
    'cannot tell': 'cannot be told apart from',
  };
  const parts = at.map((d) => {
    const margin = d.margin === null ? '' : `, margin ±${fmtNum(d.margin)}`;
    const power =
      d.verdict !== 'cannot tell'
        ? ''
        : [
            d.seedsFor80.detectObserved !== null
              ? `≈ ${d.seedsFor80.detectObserved} seeds for 80 % power to detect a difference of this size`
              : '',
            d.seedsFor80.showEquivalence !== null ? `≈ ${d.seedsFor80.showEquivalence} to show equivalence if there were none` : '',
          ]
            .filter(Boolean)
            .join(', ');
    return `${d.loss} (scope ${d.scope}) ${words[d.verdict]} ${reference} (R − R_${reference} = ${fmtInterval(d.mean, d.ci95)} ${unit}${margin}${power ? `; ${power}` : ''})`;
  });
  const caveat = recipe.seeds.length < 2 ? ' (one training seed: run-to-run variation unseen, no verdict possible)' : '';
  return `${metric} at f = ${fmax}, 95 % t-interval over the per-seed paired differences of ${recipe.seeds.length} seed(s)${caveat}: ${parts.join('; ')}`;
}
