/** `difftts experiment`: run (or resume) every step of a corruption experiment, then write the report. */
import { existsSync } from 'node:fs';
import type { ExperimentRecipe } from './recipe.js';
import { runExperiment, type RunnerOptions } from './runner.js';

export { runCellOf } from './runner.js';
import { readAggregate, writeReport } from './report.js';
import { writePlots } from './plots.js';
import { analyse, readRunRows, type RunRows } from './results.js';

export { loadExperimentRecipe, ExperimentRecipeSchema, type ExperimentRecipe } from './recipe.js';

/**
 * Runs what is not done yet and (re)writes results.json and report.md with its tables and plots;
 * returns the report's path, or null when the cells were submitted to Slurm without waiting (run
 * again to collect).
 */
export async function experiment(recipe: ExperimentRecipe, opts: RunnerOptions): Promise<string | null> {
  const plan = await runExperiment(recipe, opts);
  if (!plan) return null;
  const aggregates = new Map<string, Record<string, number>>();
  const rows = new Map<string, RunRows>();
  for (const run of plan.runs) {
    if (!existsSync(run.evalDir)) continue;
    const a = readAggregate(run);
    if (a) aggregates.set(run.key, a);
    const r = readRunRows(run);
    if (r) rows.set(run.key, r);
  }
  const analysis = analyse(recipe, plan, rows);
  const assets = writePlots(recipe, plan, analysis.results);
  return writeReport(recipe, plan, aggregates, analysis, assets);
}
