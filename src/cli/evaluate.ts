/** `difftts evaluate` (one checkpoint against a clean corpus) and `difftts experiment` (the corruption experiment). */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { backendFor, parseNumber } from './options.js';
import { UserError } from '../errors.js';
import { evaluateRun } from '../eval/evaluate-run.js';
import { METRICS } from '../eval/resilience.js';
import { experiment, loadExperimentRecipe, runCellOf, ExperimentRecipeSchema, type ExperimentRecipe } from '../experiment/index.js';
import { SlurmOptionsSchema, type SlurmOptions } from '../experiment/executor/index.js';
import { parseWith } from '../util/schema.js';
import { parseWorkers } from '../parallel/workers.js';
import { checkOutput } from '../util/atomic.js';

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'synthesize a split of a clean corpus with a checkpoint and score it: MCD-DTW (SPTK mel-cepstra), speaker distance, log-F0 RMSE, VDE, LSD, mel cosine, naturalness (global variance, mean log-mel distance, Fréchet distance vs the recordings) (+WER)',
    )
    .requiredOption('--checkpoint <path>', 'run directory (newest checkpoint) or a checkpoint directory')
    .requiredOption('--refs <corpus>', 'clean LJSpeech-layout corpus with the reference recordings')
    .option('--features <dir>', 'feature cache of --refs (default: prepared into OUT/ref-features)')
    .option('--split <name>', 'test, valid or train', 'test')
    .option('--steps <n>', "reverse-diffusion steps, 0 = the encoder's prior alone (default: the checkpoint's synth.steps)")
    .option(
      '--speaker <name>',
      "a multi-speaker voice's speaker (required there); when --refs names speakers, only this speaker's utterances are evaluated and define the references",
    )
    .option('--ref-speaker <name>', "with --refs naming several speakers: compare with this speaker's recordings instead of --speaker's")
    .option('--seed <n>', 'synthesis seed', '1234')
    .option('--max <n>', 'evaluate at most N utterances (0 = all)', '0')
    .option('--iters <n>', 'Griffin-Lim iterations', '32')
    .option('--wer', 'also compute word error rate with pocketsphinx (skipped with a notice when not installed)')
    .option('--unseen <file>', 'also synthesize these sentences (one per line, # comments): WER and speaker distance only')
    .option(
      '--speaker-refs <n>',
      'train-split recordings of --refs that define the target speaker and its naturalness statistics (0 = neither)',
      '40',
    )
    .option(
      '--workers <n>',
      'utterances scored in parallel by N workers (this process and N − 1 worker threads, each with its own model copy): N or auto (= the cores)',
      'auto',
    )
    .requiredOption('--out <dir>', 'where eval.json, eval.csv and the generated WAVs go')
    .action(
      async (
        o: {
          checkpoint: string;
          refs: string;
          features?: string;
          split: string;
          steps?: string;
          speaker?: string;
          refSpeaker?: string;
          seed: string;
          max: string;
          iters: string;
          wer?: boolean;
          unseen?: string;
          speakerRefs: string;
          workers: string;
          out: string;
        },
        cmd: Command,
      ) => {
        if (!['test', 'valid', 'train'].includes(o.split)) throw new UserError(`--split: expected test, valid or train, got '${o.split}'`);
        checkOutput(o.out, 'dir');
        await backendFor(cmd);
        const r = await evaluateRun({
          checkpoint: o.checkpoint,
          refs: o.refs,
          features: o.features,
          split: o.split as 'test' | 'valid' | 'train',
          steps: o.steps === undefined ? undefined : parseNumber(o.steps, '--steps', { integer: true, min: 0 }),
          seed: parseNumber(o.seed, '--seed', { integer: true, min: 0 }),
          ...(o.speaker !== undefined ? { speaker: o.speaker } : {}),
          ...(o.refSpeaker !== undefined ? { refSpeaker: o.refSpeaker } : {}),
          max: parseNumber(o.max, '--max', { integer: true, min: 0 }),
          iters: parseNumber(o.iters, '--iters', { integer: true, min: 1 }),
          wer: o.wer ?? false,
          unseen: o.unseen,
          speakerRefs: parseNumber(o.speakerRefs, '--speaker-refs', { integer: true, min: 0 }),
          workers: parseWorkers(o.workers, '--workers'),
          out: o.out,
          progress: process.stderr.isTTY ?? false,
        });
        const lines = [
          `evaluated ${r.n} ${r.split} utterances of ${r.refs} with ${r.checkpoint} (step ${r.step}${r.speaker !== null ? `, speaker ${r.speaker}` : ''}${r.refSpeaker !== null && r.refSpeaker !== r.speaker ? ` against ${r.refSpeaker}'s recordings` : ''}):`,
        ];
        for (const [k, v] of Object.entries(r.aggregate)) {
          if (v === null) continue;
          const m = METRICS[k as keyof typeof METRICS];
          lines.push(
            `  ${k.padEnd(15)} ${v.toFixed(3).padStart(9)} ${m.unit.padEnd(8)} (${m.orientation === 'zero' ? 'closer to 0' : m.orientation} is better)`,
          );
        }
        if (r.unseen.length)
          lines.push(
            `  unseen sentences (${r.unseen.length}): speakerDist ${r.unseenAggregate.speakerDist?.toFixed(3) ?? '—'} dB, wer ${r.unseenAggregate.wer?.toFixed(3) ?? '—'}`,
          );
        for (const [k, v] of Object.entries(r.naturalness ?? {})) {
          if (v && k !== 'all')
            lines.push(
              `  naturalness of the ${k === 'split' ? `${r.split} split` : 'unseen sentences'} (${v.utterances} utterances) vs the recordings: GV ${v.gvDb.toFixed(2)} dB, mean log-mel distance ${v.melDist.toFixed(3)}, Fréchet distance ${v.setFd.toFixed(3)} (gv.png)`,
            );
        }
        for (const n of r.notes) lines.push(`  note: ${n}`);
        lines.push(`wrote ${resolve(o.out, 'eval.json')} and eval.csv`);
        process.stdout.write(lines.join('\n') + '\n');
      },
    );

  program
    .command('experiment')
    .description(
      'corruption experiment: corrupt a corpus at several fractions, train every loss × fraction × seed, evaluate, write report.md',
    )
    .requiredOption('--recipe <file>', 'experiment recipe (e.g. recipes/corruption-allison-mini.json)')
    .requiredOption('--out <dir>', 'experiment directory (re-running it skips finished work and resumes interrupted runs)')
    .option('--jobs <n>', "training and evaluation processes at once (overrides the recipe; default: the cores ÷ each run's train.workers)")
    .option('--force', 'run in an --out that holds a different experiment')
    .option('--executor <name>', 'local (child processes on this machine) or slurm (one batch job per cell; overrides the recipe)')
    .option('--slurm-partition <name>', 'sbatch --partition')
    .option('--slurm-time <limit>', 'sbatch --time per cell, e.g. 4:00:00')
    .option('--slurm-cpus <n>', 'sbatch --cpus-per-task')
    .option('--slurm-gres <spec>', 'sbatch --gres, e.g. gpu:1')
    .option('--slurm-extra <options>', 'further sbatch options, space-separated, e.g. "--account=tts --qos=low"')
    .option('--slurm-retries <n>', 'resubmissions of a failed or preempted cell')
    .option('--no-wait', 'slurm: submit the cells and exit; run the same command again to collect and write the report')
    .action(async (o: ExperimentFlags, cmd: Command) => {
      const recipe = loadExperimentRecipe(o.recipe);
      if (o.jobs !== undefined) recipe.jobs = parseNumber(o.jobs, '--jobs', { integer: true, min: 1 });
      applyExecutorFlags(recipe, o);
      checkOutput(o.out, 'dir');
      const { backend } = cmd.optsWithGlobals() as { backend?: string };
      const report = await experiment(recipe, {
        out: o.out,
        backend,
        force: o.force,
        wait: o.wait,
        progress: process.stderr.isTTY ?? false,
      });
      process.stdout.write(
        report ? `report: ${report}\n` : `submitted; run the same command again to collect the results and write the report\n`,
      );
    });

  program
    .command('experiment-cell', { hidden: true })
    .description("(internal) do one cell of an experiment directory: what each Slurm job of 'difftts experiment --executor slurm' runs")
    .requiredOption('--out <dir>', 'experiment directory (holds experiment.json)')
    .requiredOption('--cell <id>', 'cell id, e.g. corpus-clean or run-l2-f0-s0')
    .action(async (o: { out: string; cell: string }, cmd: Command) => {
      const { backend } = cmd.optsWithGlobals() as { backend?: string };
      await runCellOf(o.out, o.cell, { backend });
    });
}

interface ExperimentFlags {
  recipe: string;
  out: string;
  jobs?: string;
  force?: boolean;
  executor?: string;
  slurmPartition?: string;
  slurmTime?: string;
  slurmCpus?: string;
  slurmGres?: string;
  slurmExtra?: string;
  slurmRetries?: string;
  wait: boolean;
}

/** --executor and --slurm-* override the recipe's `executor` and `slurm` fields, checked by the same schema. */
function applyExecutorFlags(recipe: ExperimentRecipe, o: ExperimentFlags): void {
  if (o.executor !== undefined) recipe.executor = parseWith(ExperimentRecipeSchema.shape.executor, o.executor, '--executor');
  const num = (v: string | undefined, flag: string) => (v === undefined ? undefined : parseNumber(v, flag, { integer: true, min: 0 }));
  const flags: Partial<Record<keyof SlurmOptions, unknown>> = {
    partition: o.slurmPartition,
    time: o.slurmTime,
    cpus: num(o.slurmCpus, '--slurm-cpus'),
    gres: o.slurmGres,
    extra: o.slurmExtra === undefined ? undefined : [...recipe.slurm.extra, ...o.slurmExtra.trim().split(/\s+/).filter(Boolean)],
    retries: num(o.slurmRetries, '--slurm-retries'),
  };
  const slurm: Record<string, unknown> = { ...recipe.slurm };
  for (const [k, v] of Object.entries(flags)) {
    if (v !== undefined) slurm[k] = parseWith(SlurmOptionsSchema.shape[k as keyof SlurmOptions], v, `--slurm-${k}`);
  }
  recipe.slurm = slurm as SlurmOptions;
  if (!o.wait && recipe.executor !== 'slurm')
    throw new UserError('--no-wait: only with --executor slurm (the local executor runs the cells itself)');
}
