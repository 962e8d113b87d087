/**
 * `difftts train` and `difftts export` (synthesis: src/cli/synthesize.ts). Recipe fields can be overridden with `--a.b value`
 * (e.g. `--loss.type pseudo-huber --train.batchSize 4`); those words are parsed by
 * src/train/overrides.ts, not by commander.
 */
import type { Command } from 'commander';
import { backendFor, parseNumber } from './options.js';
import { overriddenWhere, overridePatch, parseOverrideArgs } from '../train/overrides.js';
import { runTraining } from '../train/run.js';
import { UserError } from '../errors.js';
import { checkOutput } from '../util/atomic.js';

export function register(program: Command): void {
  program
    .command('train')
    .description('train a Grad-TTS model from a recipe (recipe fields can be overridden: --train.lr 3e-4 --loss.type pseudo-huber)')
    .option('--recipe <file>', "recipe JSON (e.g. recipes/tiny.json); with --resume, default: the run's own recipe.json")
    .option('--data <path>', "prepared feature cache or LJSpeech-layout corpus (default: the recipe's data.path)")
    .requiredOption('--out <dir>', 'run directory (checkpoints, metrics.jsonl, samples)')
    .option('--steps <n>', 'total training steps (overrides train.steps)')
    .option(
      '--resume',
      'continue from the newest loadable checkpoint in --out (with its recipe unless --recipe is given; --steps may grow)',
    )
    .option('--force', 'start over (or resume with a changed recipe) in an existing run directory')
    .option('--skip-bad', 'skip unreadable or bad utterances instead of stopping')
    .option(
      '--init <checkpoint>',
      'start from these weights (run or checkpoint directory, e.g. pretrained/allison-tiny) with a fresh optimizer: fine-tuning',
    )
    .option('--max-minutes <m>', 'stop after this many minutes of training, with a checkpoint (resume later)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async function (this: Command) {
      const o = this.opts() as {
        recipe?: string;
        data?: string;
        out: string;
        steps?: string;
        resume?: boolean;
        force?: boolean;
        skipBad?: boolean;
        maxMinutes?: string;
        init?: string;
      };
      const overrides = parseOverrideArgs(this.args);
      const steps = o.steps === undefined ? undefined : parseNumber(o.steps, '--steps', { integer: true, min: 1 });
      const maxMinutes = o.maxMinutes === undefined ? undefined : parseNumber(o.maxMinutes, '--max-minutes', { min: 0 });
      checkOutput(o.out, 'dir');
      const backend = await backendFor(this);
      const res = await runTraining({
        recipePath: o.recipe,
        overrides,
        dataPath: o.data,
        outDir: o.out,
        steps,
        resume: o.resume,
        force: o.force,
        skipBad: o.skipBad,
        init: o.init,
        maxSeconds: maxMinutes === undefined ? undefined : maxMinutes * 60,
        backend,
        argv: process.argv.slice(1),
      });
      // Ctrl-C: exit 130 like any interrupted command (main.ts turns UserError codes into the exit code).
      if (res.stoppedBy === 'signal')
        throw new UserError(
          `interrupted at step ${res.step}/${res.totalSteps}; checkpoint ${res.checkpoint} (continue with --resume)`,
          130,
        );
      if (res.stoppedBy === 'past') {
        process.stdout.write(
          `${res.runDir} is already at step ${res.step}, past the requested ${res.totalSteps} steps: nothing trained (checkpoint ${res.checkpoint}; give a larger --steps to train on)\n`,
        );
        return;
      }
      process.stdout.write(
        `trained ${res.runDir} to step ${res.step}/${res.totalSteps}${res.stoppedBy === 'time' ? ' (time budget reached; continue with --resume)' : ''}; checkpoint ${res.checkpoint}\n`,
      );
    });

  program
    .command('export')
    .description(
      "write a run's weights (its moving average when it kept one) as a weights-only checkpoint: a voice to synthesize with or fine-tune from (--init)",
    )
    .requiredOption('--checkpoint <path>', 'run directory (newest checkpoint) or a checkpoint directory')
    .requiredOption('--out <dir>', 'the directory to write (weights.bin, weights.json, state.json)')
    .addHelpText(
      'after',
      "\nThe voice's synthesis defaults can be set as it is written: --synth.steps 10 --synth.temperature 10 --synth.startTime 0.3",
    )
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async function (this: Command) {
      const o = this.opts() as { checkpoint: string; out: string };
      const overrides = parseOverrideArgs(this.args);
      const other = overrides.find((x) => x.path[0] !== 'synth');
      if (other)
        throw new UserError(
          `export: ${other.flag}: only --synth.<field> applies to an exported voice (its synthesis defaults); training fields belong to difftts train`,
        );
      checkOutput(o.out, 'dir');
      const { exportWeights } = await import('../train/checkpoint.js');
      const { mergeRecipe, parseRecipe } = await import('../train/recipe.js');
      const where = overriddenWhere(`${o.checkpoint}: its recipe`, overrides);
      const synth = overrides.length
        ? (recipe: Record<string, unknown>) => parseRecipe(mergeRecipe(recipe, overridePatch(overrides)), where).synth
        : undefined;
      const r = exportWeights(o.checkpoint, o.out, (m) => process.stderr.write(`difftts: ${m}\n`), synth);
      process.stdout.write(
        `exported ${r.ema ? 'the moving-average weights' : 'the weights'} of ${r.source} (step ${r.step}, ${(r.bytes / 1e6).toFixed(1)} MB) to ${o.out}\n`,
      );
    });
}
