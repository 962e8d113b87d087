/**
 * `difftts quickstart`: the first command on a fresh clone. Prepares the embedded corpus
 * (datasets/allison-mini), trains recipes/tiny.json for a few minutes, synthesizes one sentence
 * and says where everything is. Running it again resumes the same run and trains further.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import { backendFor, parseNumber } from './options.js';

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('prepare the embedded corpus, train the tiny model for a few minutes and synthesize a sentence')
    .option('--out <dir>', 'where the run, features, WAV and PNG go', 'runs/quickstart')
    .option('--minutes <m>', 'training time budget in minutes (each run adds this much)', '6')
    .option('--steps <n>', "stop at this total step count instead of the recipe's")
    .option('--text <sentence>', 'the sentence to synthesize (default: "The quick brown fox jumps over the lazy dog.")')
    .action(async function (this: Command) {
      const o = this.opts() as { out: string; minutes: string; steps?: string; text?: string };
      const minutes = parseNumber(o.minutes, '--minutes', { min: 0 });
      const steps = o.steps === undefined ? undefined : parseNumber(o.steps, '--steps', { integer: true, min: 1 });
      const root = packageRoot();
      if (!existsSync(join(root, 'recipes', 'tiny.json')))
        throw new UserError(`${root}: recipes/tiny.json is missing from the difftts package`);
      const corpus = join(root, 'datasets', 'allison-mini');
      if (!existsSync(join(corpus, 'metadata.csv')))
        throw new UserError(
          `${corpus}: the embedded corpus is missing (expected metadata.csv and wavs/; it comes with the git repository, not the npm package)`,
        );
      const backend = await backendFor(this);
      const { runQuickstart, quickstartSummary } = await import('../quickstart/quickstart.js');
      process.stderr.write(
        `difftts quickstart: training recipes/tiny.json on ${corpus} for up to ${minutes} min into ${o.out} (features are prepared first; run again to train further)\n`,
      );
      const r = await runQuickstart({
        corpus,
        recipePath: join(root, 'recipes', 'tiny.json'),
        out: o.out,
        minutes,
        steps,
        text: o.text,
        pretrained: join(root, 'pretrained', 'allison-enc128'),
        backend,
      });
      process.stdout.write(quickstartSummary(r, o.out));
    });
}
