/**
 * Turns finished runs into report.md: resilience tables (rows = loss, columns = corruption fraction,
 * one table per metric), PNG plots of resilience vs fraction and of training curves, and links to the
 * sample WAVs/PNGs of the same sentence from every run.
 *
 * resilience(metric, loss, f, seed) = sim(model trained on fraction f) − sim(model trained on fraction 0),
 * both measured against the clean references, with sim oriented so that higher is better
 * (sim = −MCD, −LSD, −F0 RMSE, …; cosine similarity as is). Negative resilience = the corruption hurt.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { ExperimentRecipe } from './recipe.js';
import { fracKey, type Plan, type RunJob } from './plan.js';
import { METRICS, similarity, spread, type Spread } from '../eval/resilience.js';

export { METRICS };

/** eval.json's aggregate metrics of one run, or null if it has not been evaluated. */
export function readAggregate(run: RunJob): Record<string, number> | null {
  const p = join(run.evalDir, 'eval.json');
  if (!existsSync(p)) return null;
  const j = JSON.parse(readFileSync(p, 'utf8')) as { aggregate?: Record<string, number | null> };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(j.aggregate ?? {})) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/**
 * resilience[metric][loss][fraction] = spread over seeds of sim(f) − sim(0) (same loss, same seed).
 * Fractions whose run or baseline is missing are left out.
 */
export function resilienceTable(recipe: ExperimentRecipe, plan: Plan, aggregates: Map<string, Record<string, number>>): Map<string, Map<string, Map<number, Spread>>> {
  const table = new Map<string, Map<string, Map<number, Spread>>>();
  const find = (loss: string, f: number, seed: number) => plan.runs.find((r) => r.loss.name === loss && r.fraction === f && r.seed === seed);
  for (const metric of Object.keys(METRICS)) {
    const byLoss = new Map<string, Map<number, Spread>>();
    for (const { name } of recipe.losses) {
      const byFrac = new Map<number, Spread>();
      for (const f of recipe.fractions.filter((x) => x > 0)) {
        const diffs: number[] = [];
        for (const seed of recipe.seeds) {
          const a = aggregates.get(find(name, f, seed)?.key ?? '')?.[metric];
          const b = aggregates.get(find(name, 0, seed)?.key ?? '')?.[metric];
          if (a !== undefined && b !== undefined) diffs.push(similarity(metric, a) - similarity(metric, b));
        }
        if (diffs.length) byFrac.set(f, spread(diffs));
      }
      if (byFrac.size) byLoss.set(name, byFrac);
    }
    if (byLoss.size) table.set(metric, byLoss);
  }
  return table;
}

function fmt(s: Spread): string {
  const d = Math.abs(s.mean) >= 10 ? 2 : 3;
  return s.n > 1 ? `${s.mean.toFixed(d)} ± ${s.std.toFixed(d)} (n=${s.n})` : s.mean.toFixed(d);
}

export interface ReportAssets {
  /** metric → PNG path of resilience vs fraction. */
  resiliencePlots: Map<string, string>;
  /** PNG of training curves. */
  curvePlots: string[];
}

/** Markdown for the whole report; paths are made relative to `out`. */
export function renderReport(recipe: ExperimentRecipe, plan: Plan, aggregates: Map<string, Record<string, number>>, assets: ReportAssets): string {
  const out = plan.out;
  const rel = (p: string) => relative(out, p);
  const fr = recipe.fractions.filter((f) => f > 0);
  const lines: string[] = [];
  lines.push(`# ${recipe.name}: resilience to corrupted training data`, '');
  lines.push(`Corpus \`${recipe.corpus}\`, corruption \`${recipe.corruption.mode}\` ${JSON.stringify(recipe.corruption.options)}, fractions ${recipe.fractions.join(', ')}, seeds ${recipe.seeds.join(', ')}.`);
  lines.push(`Training recipe \`${recipe.train.recipe}\` with overrides \`${JSON.stringify(recipe.train.overrides)}\`; evaluation on the clean corpus's ${recipe.evaluate.split} split, ${recipe.evaluate.steps} reverse-diffusion steps, synthesis seed ${recipe.evaluate.seed}.`, '');
  lines.push('resilience = similarity(samples of the model trained on the corrupted corpus, clean references) − similarity(samples of the model trained on the clean corpus, clean references), with similarity oriented so that higher is better (−MCD, −LSD, −F0 RMSE, −VDE, −WER, cosine as is). 0 = unaffected; more negative = hurt more. With several seeds: mean ± sample std (n).', '');
  const table = resilienceTable(recipe, plan, aggregates);
  for (const [metric, byLoss] of table) {
    const m = METRICS[metric as keyof typeof METRICS];
    lines.push(`## ${metric}: ${m.description} (${m.unit})`, '');
    lines.push(`| loss | ${fr.map((f) => `f = ${fracKey(f)}`).join(' | ')} |`);
    lines.push(`|---|${fr.map(() => '---').join('|')}|`);
    for (const { name } of recipe.losses) {
      const row = byLoss.get(name);
      lines.push(`| ${name} | ${fr.map((f) => (row?.get(f) ? fmt(row.get(f)!) : '—')).join(' | ')} |`);
    }
    const plot = assets.resiliencePlots.get(metric);
    if (plot) lines.push('', `![resilience ${metric}](${rel(plot)})`);
    lines.push('');
  }
  lines.push('## Raw metrics per run (clean references)', '');
  const metrics = Object.keys(METRICS).filter((k) => [...aggregates.values()].some((a) => k in a));
  lines.push(`| run | ${metrics.join(' | ')} |`, `|---|${metrics.map(() => '---').join('|')}|`);
  for (const run of plan.runs) {
    const a = aggregates.get(run.key);
    lines.push(`| ${run.key} | ${metrics.map((k) => (a && k in a ? a[k]!.toFixed(3) : '—')).join(' | ')} |`);
  }
  lines.push('', '## Training curves', '');
  for (const p of assets.curvePlots) lines.push(`![training curves](${rel(p)})`);
  lines.push('', `## Samples: “${recipe.sampleText}”`, '', '| run | audio | mel |', '|---|---|---|');
  for (const run of plan.runs) {
    const name = run.key.replace('/', '-');
    const wav = join(out, 'samples', `${name}.wav`);
    const png = join(out, 'samples', `${name}.png`);
    lines.push(`| ${run.key} | ${existsSync(wav) ? `[wav](${rel(wav)})` : '—'} | ${existsSync(png) ? `![](${rel(png)})` : '—'} |`);
  }
  return lines.join('\n') + '\n';
}

export function writeReport(recipe: ExperimentRecipe, plan: Plan, aggregates: Map<string, Record<string, number>>, assets: ReportAssets): string {
  const path = join(plan.out, 'report.md');
  writeFileAtomic(path, renderReport(recipe, plan, aggregates, assets));
  return path;
}
