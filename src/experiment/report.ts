/**
 * Turns finished runs into report.md and results.json (results.ts): the verdict, R_SPHL − R_L2 and
 * resilience tables with 95 % intervals (rows = loss, columns = corruption fraction, one table per
 * metric), the clean baselines, PNG plots of resilience vs fraction (error bars = the intervals) and of
 * training curves, and links to the sample WAVs/PNGs of the same sentence from every run.
 *
 * resilience(metric, loss, f) = sim(model trained on fraction f) − sim(model trained on fraction 0),
 * both measured against the clean references, with sim oriented so that higher is better
 * (sim = −MCD, −speaker distance, −F0 RMSE, …; cosine similarity as is). Negative = the corruption hurt.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import type { ExperimentRecipe } from './recipe.js';
import { fracKey, type Plan, type RunJob } from './plan.js';
import { METRICS } from '../eval/resilience.js';
import { fmtInterval, type Analysis } from './results.js';

/** A path as the report shows it: relative to the working directory when inside it (a committed report names repository paths, not one machine's). */
function shownPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

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

export interface ReportAssets {
  /** metric → PNG path of resilience vs fraction. */
  resiliencePlots: Map<string, string>;
  /** metric → PNG path of R − R_L2 vs fraction (optional). */
  diffPlots?: Map<string, string>;
  /** PNG of training curves. */
  curvePlots: string[];
}

/** Markdown for the whole report; paths are made relative to `out`. */
export function renderReport(
  recipe: ExperimentRecipe,
  plan: Plan,
  aggregates: Map<string, Record<string, number>>,
  analysis: Analysis,
  assets: ReportAssets,
): string {
  const out = plan.out;
  const rel = (p: string) => relative(out, p);
  const fr = recipe.fractions.filter((f) => f > 0);
  const { results, reference } = analysis;
  const unit = (m: string) => METRICS[m as keyof typeof METRICS]?.unit ?? '';
  const lines: string[] = [];
  lines.push(`# ${recipe.name}: resilience to corrupted training data`, '');
  const options = Object.fromEntries(
    Object.entries(recipe.corruption.options).map(([k, v]) => [k, typeof v === 'string' && isAbsolute(v) ? shownPath(v) : v]),
  );
  lines.push(
    `Corpus \`${shownPath(recipe.corpus)}\`, corruption \`${recipe.corruption.mode}\` ${JSON.stringify(options)}, fractions ${recipe.fractions.join(', ')}, seeds ${recipe.seeds.join(', ')}.`,
  );
  lines.push(
    `${recipe.init ? `Fine-tuning from \`${shownPath(recipe.init)}\`` : 'Training from scratch'} with recipe \`${shownPath(recipe.train.recipe)}\` and overrides \`${JSON.stringify(recipe.train.overrides)}\`; evaluation against the clean corpus's ${recipe.evaluate.split} split${recipe.evaluate.unseen ? ` plus the unseen sentences of \`${shownPath(recipe.evaluate.unseen)}\` (WER and speaker distance only)` : ''}, ${recipe.evaluate.steps} reverse-diffusion steps, synthesis seed ${recipe.evaluate.seed}.`,
    '',
  );
  lines.push(`**Verdict.** ${results.verdict}.`, '');
  lines.push(
    `Clean-data baselines: WER ${results.cleanBaselineWer === null ? '— (pocketsphinx not run)' : results.cleanBaselineWer.toFixed(3)} (mean over losses, seeds and utterances).`,
    '',
  );
  lines.push(
    'resilience R = similarity(samples of the model trained on the corrupted corpus, clean references) − similarity(samples of the model trained on the clean corpus, clean references), with similarity oriented so that higher is better (−MCD, −speaker distance, −LSD, −F0 RMSE, −VDE, −WER, cosine as is). 0 = unaffected; more negative = hurt more. Every number is the mean over training seeds of the mean over utterances. Resilience intervals are 95 % percentile intervals of a paired two-stage bootstrap (seeds, then utterances within seeds; corrupted and clean runs paired by seed, utterance and synthesis seed; ' +
      `${recipe.analysis.replicates} replicates, seed ${recipe.analysis.seed}): a description of the spread, too narrow with few seeds. The comparisons with the reference loss are decided at the seed level (t-intervals over per-seed paired differences, below). Results in machine-readable form: [results.json](results.json).`,
    '',
  );
  if (reference && results.sphlMinusL2.length) {
    lines.push(`## R − R_${reference}: each pseudo-Huber variant against ${reference}`, '');
    const spec = results.equivalenceMargin;
    const marginText =
      spec === null
        ? 'No equivalence margin was pre-registered (recipe `analysis.equivalenceMargin`), so no "equivalent" verdict'
        : 'absolute' in spec
          ? `Equivalence margin ±${spec.absolute} ${unit(results.primaryMetric)} on ${results.primaryMetric} (the recipe's \`analysis.equivalenceMargin\`; other metrics have none)`
          : `Equivalence margin ±${spec.relative * 100} % of |R_${reference}| on the same metric and fraction (the recipe's \`analysis.equivalenceMargin\`)`;
    lines.push(
      `> 0 = more resilient than ${reference}. Each entry: mean over training seeds of the per-seed paired difference [95 % t-interval, k − 1 df] and the verdict: better / worse (the 95 % interval excludes 0), equivalent (two one-sided tests at 5 %: the 90 % interval lies inside ±margin), cannot tell. ${marginText}. The secondary metrics' tests are Holm-corrected within each arm and fraction; ${results.primaryMetric} is the primary metric and is not.`,
      '',
    );
    const prim = results.sphlMinusL2.filter((d) => d.metric === results.primaryMetric);
    if (prim.length) {
      lines.push(`### Primary metric: ${results.primaryMetric} (${unit(results.primaryMetric)}), seed-level statistics`, '');
      lines.push(
        '| loss | scope | f | seeds | mean | 95 % t-interval | 90 % t-interval | margin | p (≠ 0) | TOST p | verdict | seeds for 80 % power: detect this mean / show equivalence | bootstrap 95 % (description) |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      );
      const n = (v: number | null, digits = 3) =>
        v === null ? '—' : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : v.toFixed(digits);
      const iv = (c: readonly [number, number]) => (Number.isFinite(c[0]) ? `[${n(c[0])}, ${n(c[1])}]` : '—');
      for (const d of prim) {
        lines.push(
          `| ${d.loss} | ${d.scope} | ${fracKey(d.fraction)} | ${d.seeds} | ${n(d.mean)} | ${iv(d.ci95)} | ${iv(d.ci90)} | ${d.margin === null ? '—' : `±${n(d.margin)}`} | ${n(d.p)} | ${n(d.tostP)} | **${d.verdict}** | ${d.seedsFor80.detectObserved ?? '—'} / ${d.seedsFor80.showEquivalence ?? '—'} | ${iv(d.bootstrapCi95)} |`,
        );
      }
      lines.push('');
    }
    for (const metric of Object.keys(METRICS)) {
      const rows = results.sphlMinusL2.filter((d) => d.metric === metric);
      if (!rows.length) continue;
      lines.push(`### ${metric} (${unit(metric)})`, '');
      lines.push(`| loss | ${fr.map((f) => `f = ${fracKey(f)}`).join(' | ')} |`, `|---|${fr.map(() => '---').join('|')}|`);
      for (const loss of [...new Set(rows.map((d) => d.loss))]) {
        const cells = fr.map((f) => {
          const d = rows.find((x) => x.loss === loss && x.fraction === f);
          return d
            ? `${fmtInterval(d.mean, d.ci95)} ${d.verdict}${d.metric !== results.primaryMetric && d.pAdjusted !== null ? ` (Holm p ${d.pAdjusted < 1e-3 ? d.pAdjusted.toExponential(1) : d.pAdjusted.toFixed(3)})` : ''}`
            : '—';
        });
        lines.push(`| ${loss} | ${cells.join(' | ')} |`);
      }
      const plot = assets.diffPlots?.get(metric);
      if (plot) lines.push('', `![R − R_${reference} ${metric}](${rel(plot)})`);
      lines.push('');
    }
  }
  lines.push('## Resilience per loss', '');
  for (const metric of Object.keys(METRICS)) {
    const rows = results.cells.filter((c) => c.metric === metric);
    if (!rows.length) continue;
    const m = METRICS[metric as keyof typeof METRICS];
    lines.push(`### ${metric}: ${m.description} (${m.unit})`, '');
    lines.push(`| loss | ${fr.map((f) => `f = ${fracKey(f)}`).join(' | ')} |`);
    lines.push(`|---|${fr.map(() => '---').join('|')}|`);
    for (const { name } of recipe.losses) {
      lines.push(
        `| ${name} | ${fr
          .map((f) => {
            const c = rows.find((x) => x.loss === name && x.fraction === f);
            return c ? fmtInterval(c.mean, c.ci95) : '—';
          })
          .join(' | ')} |`,
      );
    }
    const plot = assets.resiliencePlots.get(metric);
    if (plot) lines.push('', `![resilience ${metric}](${rel(plot)})`);
    lines.push('');
  }
  if (analysis.baselines.size) {
    lines.push('## Clean-data baselines (raw values, mean [95 % interval] over seeds × utterances)', '');
    const metrics = [...analysis.baselines.keys()];
    lines.push(`| loss | ${metrics.map((k) => `${k} (${unit(k)})`).join(' | ')} |`, `|---|${metrics.map(() => '---').join('|')}|`);
    for (const { name } of recipe.losses) {
      lines.push(
        `| ${name} | ${metrics
          .map((k) => {
            const e = analysis.baselines.get(k)?.get(name);
            return e ? fmtInterval(e.mean, e.ci95) : '—';
          })
          .join(' | ')} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Raw metrics per run (means over the test split, clean references)', '');
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

/** Writes results.json and report.md beside it; returns the report's path. */
export function writeReport(
  recipe: ExperimentRecipe,
  plan: Plan,
  aggregates: Map<string, Record<string, number>>,
  analysis: Analysis,
  assets: ReportAssets,
): string {
  writeFileAtomic(join(plan.out, 'results.json'), JSON.stringify(analysis.results, null, 2) + '\n');
  const path = join(plan.out, 'report.md');
  writeFileAtomic(path, renderReport(recipe, plan, aggregates, analysis, assets));
  return path;
}
