/**
 * The `difftts` command line. Each command group lives in its own module that exports
 * `register(program)`; this file only wires them together and turns user mistakes (UserError)
 * into one line on stderr and exit code 2, and outputs the system refused to write (WriteError, or
 * a raw ENOSPC/EROFS/EACCES/… from a filesystem call) into one line and exit code 1.
 */
import { Command, CommanderError } from 'commander';
import { UserError, writeFailure } from '../errors.js';
import { register as registerBackend } from './backend.js';
import { register as registerAudio } from './audio.js';
import { register as registerLoss } from './loss.js';
import { register as registerData } from './data.js';
import { register as registerTrain } from './train.js';
import { register as registerEval } from './evaluate.js';
import { register as registerQuickstart } from './quickstart.js';
import { register as registerWeb } from './web.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('difftts')
    .description('Diffusion text-to-speech (Grad-TTS) with L2 or scheduled pseudo-Huber loss, in TypeScript')
    .version('0.1.0')
    .option('--backend <name>', 'tfjs backend: tfjs-node-gpu, tfjs-node, wasm or cpu (default: first available; env DIFFTTS_BACKEND)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerQuickstart(program);
  registerBackend(program);
  registerAudio(program);
  registerLoss(program);
  registerData(program);
  registerTrain(program);
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
      process.stderr.write(`difftts: ${known.message}\n`);
      return known.exitCode;
    }
    throw err;
  }
}

const code = await main(process.argv);
process.exitCode = code;
