/**
 * `difftts quickstart`: the first command on a fresh clone. Prepares the embedded corpus
 * (datasets/allison-mini), trains recipes/tiny.json for a few minutes, synthesizes one sentence
 * and says where everything is. Running it again resumes the same run and trains further.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import { backendFor, parseNumber } from './options.js';

export const QUICKSTART_SENTENCE = 'The quick brown fox jumps over the lazy dog.';

/** The package root (holds recipes/ and datasets/), from dist/src/cli or src/cli. */
function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../..', '../..']) {
    const p = resolve(here, up);
    if (existsSync(join(p, 'recipes', 'tiny.json'))) return p;
  }
  throw new UserError('quickstart: cannot find recipes/tiny.json next to the difftts package');
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('prepare the embedded corpus, train the tiny model for a few minutes and synthesize a sentence')
    .option('--out <dir>', 'where the run, features, WAV and PNG go', 'runs/quickstart')
    .option('--minutes <m>', 'training time budget in minutes (each run adds this much)', '6')
    .option('--steps <n>', 'stop at this total step count instead of the recipe\'s')
    .option('--text <sentence>', 'the sentence to synthesize', QUICKSTART_SENTENCE)
    .action(async function (this: Command) {
      const o = this.opts() as { out: string; minutes: string; steps?: string; text: string };
      const minutes = parseNumber(o.minutes, '--minutes', { min: 0 });
      const steps = o.steps === undefined ? undefined : parseNumber(o.steps, '--steps', { integer: true, min: 1 });
      const root = packageRoot();
      const corpus = join(root, 'datasets', 'allison-mini');
      if (!existsSync(join(corpus, 'metadata.csv'))) throw new UserError(`${corpus}: the embedded corpus is missing (expected metadata.csv and wavs/)`);
      const backend = await backendFor(this);
      const { runTraining } = await import('../train/run.js');
      const { synthesizeToFiles } = await import('../train/synthesize.js');
      const say = (s: string) => process.stderr.write(`difftts quickstart: ${s}\n`);
      say(`training recipes/tiny.json on ${corpus} for up to ${minutes} min into ${o.out} (features are prepared first; run again to train further)`);
      const res = await runTraining({
        recipePath: join(root, 'recipes', 'tiny.json'),
        dataPath: corpus,
        outDir: o.out,
        steps,
        resume: true,
        maxSeconds: minutes * 60,
        backend,
        argv: process.argv.slice(1),
      });
      if (res.stoppedBy === 'signal') throw new UserError(`interrupted at step ${res.step}; run quickstart again to continue`, 130);
      const wav = join(o.out, 'quickstart.wav');
      const png = join(o.out, 'quickstart.png');
      say(`synthesizing "${o.text}"`);
      const [w] = await synthesizeToFiles({ checkpoint: res.checkpoint, texts: [o.text], out: wav, png });
      const lines = [
        '',
        `difftts quickstart: done — ${res.step} of ${res.totalSteps} training steps so far.`,
        `  audio:        ${wav} (${w!.seconds.toFixed(2)} s, Griffin-Lim vocoder)`,
        `  spectrogram:  ${png}`,
        `  samples:      ${join(o.out, 'samples')}/step-*.png (target on top, model below)`,
        `  metrics:      ${join(o.out, 'metrics.jsonl')}`,
        `  checkpoints:  ${join(o.out, 'checkpoints')}`,
        '',
        'What to expect: a few minutes of CPU training gives a blurry but speech-shaped spectrogram and',
        'buzzy, mostly unintelligible audio. Intelligible speech needs hours of training: run this again',
        '(it resumes), use `difftts train --recipe recipes/small.json`, or a GPU (tfjs-node-gpu).',
        `More: difftts synthesize --checkpoint ${o.out} --text "Your sentence." --out out.wav`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
