/** The report's pictures: resilience vs corruption fraction (one line per loss, 95 % intervals as error bars) and training curves. */
import { join } from 'node:path';
import { writeLinePlotPng, type LineSeries } from '../util/plot.js';
import { readMetrics } from '../train/metrics.js';
import type { ExperimentRecipe } from './recipe.js';
import type { Plan } from './plan.js';
import { METRICS, type ReportAssets } from './report.js';
import type { Results } from './results.js';

/** Writes resilience-<metric>.png and vs-l2-<metric>.png for every metric with values, and curves-<loss>.png per loss. */
export function writePlots(recipe: ExperimentRecipe, plan: Plan, results: Results): ReportAssets {
  const resiliencePlots = new Map<string, string>();
  for (const metric of Object.keys(METRICS)) {
    const cells = results.cells.filter((c) => c.metric === metric);
    if (!cells.length) continue;
    const series: LineSeries[] = [];
    for (const { name } of recipe.losses) {
      const mine = cells.filter((c) => c.loss === name).sort((a, b) => a.fraction - b.fraction);
      if (!mine.length) continue;
      // Resilience at fraction 0 is 0 by definition (no interval); drawing it anchors every line.
      series.push({
        name,
        x: [0, ...mine.map((c) => c.fraction)],
        y: [0, ...mine.map((c) => c.mean)],
        yLo: [0, ...mine.map((c) => c.ci95[0])],
        yHi: [0, ...mine.map((c) => c.ci95[1])],
      });
    }
    const m = METRICS[metric as keyof typeof METRICS];
    const path = join(plan.out, `resilience-${metric}.png`);
    writeLinePlotPng(path, {
      title: `Resilience: ${metric} (${m.unit}), 95% CI`,
      xLabel: 'corrupted fraction',
      yLabel: 'sim(f) - sim(0)',
      series,
    });
    resiliencePlots.set(metric, path);
  }
  // R − R_L2 per pseudo-Huber variant: above 0 = more resilient than L2
  const diffPlots = new Map<string, string>();
  for (const metric of Object.keys(METRICS)) {
    const rows = results.sphlMinusL2.filter((d) => d.metric === metric);
    if (!rows.length) continue;
    const series: LineSeries[] = [...new Set(rows.map((d) => d.loss))].map((loss) => {
      const mine = rows.filter((d) => d.loss === loss).sort((a, b) => a.fraction - b.fraction);
      return {
        name: loss,
        x: mine.map((d) => d.fraction),
        y: mine.map((d) => d.mean),
        yLo: mine.map((d) => d.ci95[0]),
        yHi: mine.map((d) => d.ci95[1]),
      };
    });
    series.push({ name: '0', x: [0, Math.max(...recipe.fractions)], y: [0, 0] });
    const path = join(plan.out, `vs-l2-${metric}.png`);
    writeLinePlotPng(path, {
      title: `R - R_L2: ${metric} (${METRICS[metric as keyof typeof METRICS].unit}), 95% CI`,
      xLabel: 'corrupted fraction',
      yLabel: '> 0: more resilient than L2',
      series,
    });
    diffPlots.set(metric, path);
  }
  const curvePlots: string[] = [];
  for (const { name } of recipe.losses) {
    const series: LineSeries[] = [];
    for (const run of plan.runs.filter((r) => r.loss.name === name)) {
      const lines = readMetrics(join(run.runDir, 'metrics.jsonl')).filter((l) => typeof l.diffusion === 'number');
      if (lines.length)
        series.push({ name: `f=${run.fraction} s${run.seed}`, x: lines.map((l) => l.step), y: lines.map((l) => l.diffusion as number) });
    }
    if (!series.length) continue;
    const path = join(plan.out, `curves-${name}.png`);
    writeLinePlotPng(path, { title: `Diffusion loss (${name})`, xLabel: 'step', yLabel: 'diffusion loss', series });
    curvePlots.push(path);
  }
  return { resiliencePlots, diffPlots, curvePlots };
}
