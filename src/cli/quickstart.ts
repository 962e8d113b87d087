import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('prepare the embedded corpus, train the tiny model for a few minutes and synthesize a sentence')
    .action(() => {
      process.stdout.write('difftts quickstart: training is not built yet (placeholder until the model lands)\n');
    });
}
