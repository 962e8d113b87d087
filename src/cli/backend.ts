import type { Command } from 'commander';
import { backendFor, describeBackend } from './options.js';

export function register(program: Command): void {
  program
    .command('backend')
    .description('print the tfjs backend difftts would use and why the others are not used')
    .action(async (_opts, cmd: Command) => {
      const choice = await backendFor(cmd, true);
      process.stdout.write(describeBackend(choice) + '\n');
    });
}
