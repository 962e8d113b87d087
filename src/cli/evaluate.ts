/** `difftts evaluate` (one checkpoint against a clean corpus) and `difftts experiment` (the corruption experiment). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { backendFor, parseNumber } from './options.js';
import { UserError } from '../errors.js';
import { evaluateRun } from '../eval/evaluate-run.js';
import { METRICS } from '../eval/resilience.js';
import { parseWorkers } from '../parallel/workers.js';
import { experiment, loadExperimentRecipe } from '../experiment/index.js';

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('synthesize a split of a clean corpus with a checkpoint and score it: MCD-DTW, log-F0 RMSE, VDE, LSD, mel cosine (+WER)')
    .requiredOption('--checkpoint <path>', 'run directory (newest checkpoint) or a checkpoint directory')
    .requiredOption('--refs <corpus>', 'clean LJSpeech-layout corpus with the reference recordings')
    .option('--features <dir>', 'feature cache of --refs (default: prepared into OUT/ref-features)')
    .option('--split <name>', 'test, valid or train', 'test')
    .option('--steps <n>', 'reverse-diffusion steps', '10')
    .option('--seed <n>', 'synthesis seed', '1234')
    .option('--max <n>', 'evaluate at most N utterances (0 = all)', '0')
    .option('--iters <n>', 'Griffin-Lim iterations', '32')
    .option('--wer', 'also compute word error rate with pocketsphinx (skipped with a notice when not installed)')
    .option('--workers <n>', 'utterances scored in parallel worker threads, each with its own model copy: N or auto (= the cores)', 'auto')
    .requiredOption('--out <dir>', 'where eval.json, eval.csv and the generated WAVs go')
    .action(async (o: { checkpoint: string; refs: string; features?: string; split: string; steps: string; seed: string; max: string; iters: string; wer?: boolean; workers: string; out: string }, cmd: Command) => {
      if (!['test', 'valid', 'train'].includes(o.split)) throw new UserError(`--split: expected test, valid or train, got '${o.split}'`);
      await backendFor(cmd);
      const r = await evaluateRun({
        checkpoint: o.checkpoint,
        refs: o.refs,
        features: o.features,
        split: o.split as 'test' | 'valid' | 'train',
        steps: parseNumber(o.steps, '--steps', { integer: true, min: 1 }),
        seed: parseNumber(o.seed, '--seed', { integer: true, min: 0 }),
        max: parseNumber(o.max, '--max', { integer: true, min: 0 }),
        iters: parseNumber(o.iters, '--iters', { integer: true, min: 1 }),
        wer: o.wer ?? false,
        workers: parseWorkers(o.workers, '--workers'),
        out: o.out,
        progress: process.stderr.isTTY ?? false,
      });
      const lines = [`evaluated ${r.n} ${r.split} utterances of ${r.refs} with ${r.checkpoint} (step ${r.step}):`];
      for (const [k, v] of Object.entries(r.aggregate)) {
        if (v === null) continue;
        const m = METRICS[k as keyof typeof METRICS];
        lines.push(`  ${k.padEnd(15)} ${v.toFixed(3).padStart(9)} ${m.unit.padEnd(8)} (${m.orientation} is better)`);
      }
      for (const n of r.notes) lines.push(`  note: ${n}`);
      lines.push(`wrote ${resolve(o.out, 'eval.json')} and eval.csv`);
      process.stdout.write(lines.join('\n') + '\n');
    });

  program
    .command('experiment')
    .description('corruption experiment: corrupt a corpus at several fractions, train every loss × fraction × seed, evaluate, write report.md')
    .requiredOption('--recipe <file>', 'experiment recipe (e.g. recipes/corruption-allison-mini.json)')
    .requiredOption('--out <dir>', 'experiment directory (re-running it skips finished work and resumes interrupted runs)')
    .option('--jobs <n>', 'training and evaluation processes at once (overrides the recipe; default: the cores ÷ each run\'s train.workers)')
    .option('--force', 'run in an --out that holds a different experiment')
    .action(async (o: { recipe: string; out: string; jobs?: string; force?: boolean }, cmd: Command) => {
      const recipe = loadExperimentRecipe(o.recipe);
      if (o.jobs !== undefined) recipe.jobs = parseNumber(o.jobs, '--jobs', { integer: true, min: 1 });
      const { backend } = cmd.optsWithGlobals() as { backend?: string };
      const report = await experiment(recipe, { out: o.out, backend, force: o.force, progress: process.stderr.isTTY ?? false });
      process.stdout.write(`report: ${report}\n`);
    });
}
