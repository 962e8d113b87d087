/**
 * The `difftts` command line. Each command group lives in its own module that exports
 * `register(program)`; this file only wires them together and turns user mistakes (UserError)
 * into one line on stderr and exit code 2, and outputs the system refused to write (WriteError, or
 * a raw ENOSPC/EROFS/EACCES/ENOTDIR/… from any filesystem call) into one line and exit code 1.
 * Control characters in the line (from a path or text the user typed) are printed escaped.
 */
import { Command, CommanderError } from 'commander';
import { UserError, writeFailure } from '../errors.js';
import { printable } from '../util/printable.js';
import { BACKEND_NAMES } from '../backend/index.js';
import { register as registerBackend } from './backend.js';
import { register as registerAudio } from './audio.js';
import { register as registerLoss } from './loss.js';
import { register as registerData } from './data.js';
import { register as registerTrain } from './train.js';
import { register as registerSynthesize } from './synthesize.js';
import { register as registerEval } from './evaluate.js';
import { register as registerQuickstart } from './quickstart.js';
import { register as registerWeb } from './web.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('difftts')
    .description('Diffusion text-to-speech (Grad-TTS) with L2 or scheduled pseudo-Huber loss, in TypeScript')
    .version('0.1.0')
    .option(
      '--backend <name>',
      `tfjs backend: ${BACKEND_NAMES.slice(0, -1).join(', ')} or ${BACKEND_NAMES.at(-1)} (default: the first available in that order, webgpu with a hardware adapter only; env DIFFTTS_BACKEND)`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerQuickstart(program);
  registerBackend(program);
  registerAudio(program);
  registerLoss(program);
  registerData(program);
  registerTrain(program);
  registerSynthesize(program);
  registerEval(program);
  registerWeb(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and --version exit through here with code 0; usage mistakes are user errors.
      return err.exitCode === 0 ? 0 : 2;
    }
    const known = err instanceof UserError ? err : writeFailure(err);
    if (known) {
      process.stderr.write(`difftts: ${printable(known.message)}\n`);
      return known.exitCode;
    }
    throw err;
  }
}

/** Runs the CLI on this process's arguments (what bin/difftts.js does); tests import `main` alone. */
export async function run(): Promise<void> {
  process.exitCode = await main(process.argv);
}
