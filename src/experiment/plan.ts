/**
 * Lays out an experiment as a list of jobs with fixed paths, so that a re-run finds what is
 * already done (a DONE marker per finished step) and resumes what was interrupted.
 *
 *   OUT/corpora/<mode>-f<frac>-s<seed>/    corrupted copies (fraction 0 is the clean corpus itself)
 *   OUT/features/<corpus key>/             feature caches, prepared once per corpus
 *   OUT/runs/<loss>/f<frac>-s<seed>/       training runs
 *   OUT/evals/<loss>/f<frac>-s<seed>/      eval.json + eval.csv against the clean references
 */
import { join } from 'node:path';
import type { ExperimentRecipe } from './recipe.js';

export interface CorpusJob {
  key: string;
  fraction: number;
  seed: number;
  /** Corpus directory the runs train on. */
  dir: string;
  /** Feature cache for that corpus. */
  features: string;
  /** False for fraction 0: the clean corpus is used as is. */
  corrupt: boolean;
}

export interface RunJob {
  key: string;
  loss: ExperimentRecipe['losses'][number];
  fraction: number;
  seed: number;
  corpus: CorpusJob;
  runDir: string;
  evalDir: string;
  /** The resolved training recipe written for this run. */
  recipePath: string;
}

export interface Plan {
  out: string;
  cleanFeatures: string;
  corpora: CorpusJob[];
  runs: RunJob[];
}

/** Formats a fraction for paths: 0.15 → "0.15", 0 → "0". */
export function fracKey(f: number): string {
  return String(Math.round(f * 1000) / 1000);
}

export function makePlan(recipe: ExperimentRecipe, out: string): Plan {
  const corpora: CorpusJob[] = [];
  const byKey = new Map<string, CorpusJob>();
  const cleanFeatures = join(out, 'features', 'clean');
  for (const fraction of recipe.fractions) {
    for (const seed of recipe.seeds) {
      const corrupt = fraction > 0;
      const key = corrupt ? `${recipe.corruption.mode}-f${fracKey(fraction)}-s${seed}` : 'clean';
      if (byKey.has(key)) continue;
      const job: CorpusJob = {
        key,
        fraction,
        seed,
        dir: corrupt ? join(out, 'corpora', key) : recipe.corpus,
        features: corrupt ? join(out, 'features', key) : cleanFeatures,
        corrupt,
      };
      byKey.set(key, job);
      corpora.push(job);
    }
  }
  const runs: RunJob[] = [];
  for (const loss of recipe.losses) {
    for (const fraction of recipe.fractions) {
      for (const seed of recipe.seeds) {
        const corpus = byKey.get(fraction > 0 ? `${recipe.corruption.mode}-f${fracKey(fraction)}-s${seed}` : 'clean')!;
        const key = `${loss.name}/f${fracKey(fraction)}-s${seed}`;
        runs.push({
          key,
          loss,
          fraction,
          seed,
          corpus,
          runDir: join(out, 'runs', loss.name, `f${fracKey(fraction)}-s${seed}`),
          evalDir: join(out, 'evals', loss.name, `f${fracKey(fraction)}-s${seed}`),
          recipePath: join(out, 'recipes', `${loss.name}-f${fracKey(fraction)}-s${seed}.json`),
        });
      }
    }
  }
  return { out, cleanFeatures, corpora, runs };
}
