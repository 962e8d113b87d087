/**
 * `difftts train` and `difftts synthesize`. Recipe fields can be overridden with `--a.b value`
 * (e.g. `--loss.type pseudo-huber --train.batchSize 4`); those words are parsed by
 * src/train/overrides.ts, not by commander.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { backendFor, parseNumber } from './options.js';
import { parseOverrideArgs } from '../train/overrides.js';
import { runTraining } from '../train/run.js';
import { UserError } from '../errors.js';
import { parseWorkers } from '../parallel/workers.js';
import { checkOutput } from '../util/atomic.js';

export function register(program: Command): void {
  program
    .command('train')
    .description('train a Grad-TTS model from a recipe (recipe fields can be overridden: --train.lr 3e-4 --loss.type pseudo-huber)')
    .option('--recipe <file>', 'recipe JSON (e.g. recipes/tiny.json); with --resume, default: the run\'s own recipe.json')
    .option('--data <path>', 'prepared feature cache or LJSpeech-layout corpus (default: the recipe\'s data.path)')
    .requiredOption('--out <dir>', 'run directory (checkpoints, metrics.jsonl, samples)')
    .option('--steps <n>', 'total training steps (overrides train.steps)')
    .option('--resume', 'continue from the newest loadable checkpoint in --out (with its recipe unless --recipe is given; --steps may grow)')
    .option('--force', 'start over (or resume with a changed recipe) in an existing run directory')
    .option('--skip-bad', 'skip unreadable or bad utterances instead of stopping')
    .option('--init <checkpoint>', 'start from these weights (run or checkpoint directory, e.g. pretrained/allison-tiny) with a fresh optimizer: fine-tuning')
    .option('--max-minutes <m>', 'stop after this many minutes of training, with a checkpoint (resume later)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async function (this: Command) {
      const o = this.opts() as { recipe?: string; data?: string; out: string; steps?: string; resume?: boolean; force?: boolean; skipBad?: boolean; maxMinutes?: string; init?: string };
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
      if (res.stoppedBy === 'signal') throw new UserError(`interrupted at step ${res.step}/${res.totalSteps}; checkpoint ${res.checkpoint} (continue with --resume)`, 130);
      if (res.stoppedBy === 'past') {
        process.stdout.write(`${res.runDir} is already at step ${res.step}, past the requested ${res.totalSteps} steps: nothing trained (checkpoint ${res.checkpoint}; give a larger --steps to train on)\n`);
        return;
      }
      process.stdout.write(`trained ${res.runDir} to step ${res.step}/${res.totalSteps}${res.stoppedBy === 'time' ? ' (time budget reached; continue with --resume)' : ''}; checkpoint ${res.checkpoint}\n`);
    });

  program
    .command('export')
    .description('write a run\'s weights (its moving average when it kept one) as a weights-only checkpoint: a voice to synthesize with or fine-tune from (--init)')
    .requiredOption('--checkpoint <path>', 'run directory (newest checkpoint) or a checkpoint directory')
    .requiredOption('--out <dir>', 'the directory to write (weights.bin, weights.json, state.json)')
    .action(async (o: { checkpoint: string; out: string }) => {
      checkOutput(o.out, 'dir');
      const { exportWeights } = await import('../train/checkpoint.js');
      const r = exportWeights(o.checkpoint, o.out, (m) => process.stderr.write(`difftts: ${m}\n`));
      process.stdout.write(`exported ${r.ema ? 'the moving-average weights' : 'the weights'} of ${r.source} (step ${r.step}, ${(r.bytes / 1e6).toFixed(1)} MB) to ${o.out}\n`);
    });

  program
    .command('synthesize')
    .description('text → mel (Grad-TTS reverse diffusion) → Griffin-Lim → WAV')
    .requiredOption('--checkpoint <path>', 'run directory (newest checkpoint) or a checkpoint directory')
    .option('--text <text>', 'the sentence to speak')
    .option('--text-file <file>', 'one sentence per line; writes OUT-001.wav, OUT-002.wav, … (or into OUT/ when it is a directory)')
    .requiredOption('--out <file.wav>', 'output WAV (or directory with --text-file)')
    .option('--steps <n>', 'reverse-diffusion steps, 0 = the encoder\'s prior alone (default: the recipe\'s synth.steps)')
    .option('--temperature <t>', 'prior temperature (default: the recipe\'s synth.temperature)')
    .option('--length-scale <s>', 'duration multiplier (default: the recipe\'s synth.lengthScale)')
    .option('--stochastic', 'stochastic (SDE) sampler instead of the probability-flow ODE')
    .option('--seed <s>', 'noise seed', '1')
    .option('--mel-out <file.npy>', 'also write the mel [80, frames] as .npy')
    .option('--png <file.png>', 'also write the mel as a PNG')
    .option('--iters <n>', 'Griffin-Lim iterations', '32')
    .option('--workers <n>', 'with --text-file: sentences synthesized in parallel by N workers (this process and N − 1 worker threads, each with its own model copy): N or auto (= the cores)', 'auto')
    .action(async function (this: Command) {
      const o = this.opts() as Record<string, string | boolean | undefined>;
      if (!o.text === !o.textFile) throw new UserError('synthesize: give exactly one of --text or --text-file');
      await backendFor(this);
      const { synthesizeToFiles, readTextFile } = await import('../train/synthesize.js');
      const num = (k: string, flag: string, integer = false) =>
        o[k] === undefined ? undefined : parseNumber(String(o[k]), flag, { integer, min: integer ? 1 : Number.MIN_VALUE });
      const texts = o.textFile ? readTextFile(String(o.textFile)) : [String(o.text)];
      const bar = texts.length > 1 && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'synthesize |{bar}| {value}/{total} sentences | ETA {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
      bar?.start(texts.length, 0);
      const written = await synthesizeToFiles({
        checkpoint: String(o.checkpoint),
        texts,
        out: String(o.out),
        many: Boolean(o.textFile),
        steps: o.steps === undefined ? undefined : parseNumber(String(o.steps), '--steps', { integer: true, min: 0 }),
        temperature: num('temperature', '--temperature'),
        lengthScale: num('lengthScale', '--length-scale'),
        stochastic: Boolean(o.stochastic),
        seed: parseNumber(String(o.seed), '--seed', { integer: true, min: 0 }),
        melOut: o.melOut as string | undefined,
        png: o.png as string | undefined,
        iters: parseNumber(String(o.iters), '--iters', { integer: true, min: 1 }),
        workers: parseWorkers(String(o.workers), '--workers'),
        onDone: (done) => bar?.update(done),
      }).finally(() => bar?.stop());
      for (const w of written) {
        if (w.unknown.length) process.stderr.write(`difftts: ${JSON.stringify(w.text.slice(0, 40))}: skipped characters not in the symbol set: ${w.unknown.join(' ')}\n`);
        process.stdout.write(`wrote ${w.wav} (${w.seconds.toFixed(2)} s of audio)\n`);
      }
    });
}
