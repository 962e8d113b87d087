/** The report's pictures: resilience vs corruption fraction (one line per loss) and training curves. */
import { join } from 'node:path';
import { writeLinePlotPng, type LineSeries } from '../util/plot.js';
import { readMetrics } from '../train/metrics.js';
import type { ExperimentRecipe } from './recipe.js';
import type { Plan } from './plan.js';
import { METRICS, resilienceTable, type ReportAssets } from './report.js';

/** Writes resilience-<metric>.png for every metric with values and curves-<loss>.png per loss. */
export function writePlots(recipe: ExperimentRecipe, plan: Plan, aggregates: Map<string, Record<string, number>>): ReportAssets {
  const resiliencePlots = new Map<string, string>();
  for (const [metric, byLoss] of resilienceTable(recipe, plan, aggregates)) {
    const series: LineSeries[] = [];
    for (const [loss, byFrac] of byLoss) {
      // Resilience at fraction 0 is 0 by definition; drawing it anchors every line.
      const fr = [0, ...[...byFrac.keys()].sort((a, b) => a - b)];
      series.push({ name: loss, x: fr, y: fr.map((f) => (f === 0 ? 0 : byFrac.get(f)!.mean)) });
    }
    const m = METRICS[metric as keyof typeof METRICS];
    const path = join(plan.out, `resilience-${metric}.png`);
    writeLinePlotPng(path, { title: `Resilience: ${metric} (${m.unit})`, xLabel: 'corrupted fraction', yLabel: 'sim(f) - sim(0)', series });
    resiliencePlots.set(metric, path);
  }
  const curvePlots: string[] = [];
  for (const { name } of recipe.losses) {
    const series: LineSeries[] = [];
    for (const run of plan.runs.filter((r) => r.loss.name === name)) {
      const lines = readMetrics(join(run.runDir, 'metrics.jsonl')).filter((l) => typeof l.diffusion === 'number');
      if (lines.length) series.push({ name: `f=${run.fraction} s${run.seed}`, x: lines.map((l) => l.step), y: lines.map((l) => l.diffusion as number) });
    }
    if (!series.length) continue;
    const path = join(plan.out, `curves-${name}.png`);
    writeLinePlotPng(path, { title: `Diffusion loss (${name})`, xLabel: 'step', yLabel: 'diffusion loss', series });
    curvePlots.push(path);
  }
  return { resiliencePlots, curvePlots };
}
