/**
 * `difftts synthesize`: text (an argument, a file, or stdin with `--text-file -`) → WAV (a file,
 * numbered files with a manifest, or stdout with `--out -`, all messages then on stderr).
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { backendFor, parseNumber } from './options.js';
import { UserError } from '../errors.js';
import { checkOutput } from '../util/atomic.js';
import { parseWorkers } from '../parallel/workers.js';
import { DEFAULT_VOICE, listVoices } from '../synthesis/voices.js';
import { MAX_PIECE_CHARS } from '../synthesis/speak.js';

export function register(program: Command): void {
  program
    .command('synthesize')
    .description(
      `text → mel (Grad-TTS reverse diffusion) → Griffin-Lim → WAV; long text is spoken a sentence (≤ ${MAX_PIECE_CHARS} characters) at a time`,
    )
    .option(
      '--voice <name>',
      `a shipped voice (${listVoices().join(', ') || DEFAULT_VOICE}) or a run/checkpoint directory (default: ${DEFAULT_VOICE})`,
    )
    .option('--checkpoint <path>', 'run directory (newest checkpoint) or a checkpoint directory (instead of --voice)')
    .option('--text <text>', 'the text to speak (any length)')
    .option(
      '--text-file <file>',
      'one text per line (- = stdin); writes OUT-001.wav, OUT-002.wav, … (or into OUT/ when it is a directory) and OUT.jsonl (or OUT/manifest.jsonl); lines with nothing to speak are skipped with a FILE:LINE notice',
    )
    .requiredOption(
      '--out <file.wav>',
      'output WAV (a directory or name stem with --text-file; - = stdout, every line of --text-file in one WAV)',
    )
    .option('--steps <n>', "reverse-diffusion steps, 0 = the encoder's prior alone (default: the voice's synth.steps)")
    .option('--temperature <t>', "prior temperature (default: the voice's synth.temperature)")
    .option('--length-scale <s>', "duration multiplier (default: the voice's synth.lengthScale)")
    .option(
      '--start-time <t0>',
      "shallow diffusion: start the score sampler at diffusion time t0 in (0, 1] (default: the voice's synth.startTime; 1 = Grad-TTS)",
    )
    .option('--stochastic', 'stochastic (SDE) sampler instead of the probability-flow ODE')
    .option('--speaker <name>', "a multi-speaker voice's speaker (required there; an unknown name lists them)")
    .option('--seed <s>', 'noise seed', '1')
    .option('--mel-out <file.npy>', 'also write the mel [80, frames] as .npy')
    .option('--png <file.png>', 'also write the mel as a PNG')
    .option('--iters <n>', 'Griffin-Lim iterations', '32')
    .option(
      '--workers <n>',
      'with --text-file: lines synthesized in parallel by N workers (this process and N − 1 worker threads, each with its own model copy): N or auto (= the cores)',
      'auto',
    )
    .action(async function (this: Command) {
      const o = this.opts() as Record<string, string | boolean | undefined>;
      await synthesizeCommand(o, this);
    });
}

async function synthesizeCommand(o: Record<string, string | boolean | undefined>, cmd: Command): Promise<void> {
  const { checkOutputName, isDirectoryName, readTextFile, synthesizeToFiles, synthesizeJoined, unknownNotices } = await import(
    '../synthesis/batch.js'
  );
  const { resolveVoice } = await import('../synthesis/voices.js');
  if (o.text !== undefined && o.textFile !== undefined) throw new UserError('synthesize: give one of --text or --text-file, not both');
  if (o.text === undefined && o.textFile === undefined)
    throw new UserError('synthesize: nothing to speak (give --text "…" or --text-file FILE, - for stdin)');
  if (o.text !== undefined && String(o.text).trim() === '') throw new UserError('synthesize: --text is empty (nothing to speak)');
  if (o.voice !== undefined && o.checkpoint !== undefined) throw new UserError('synthesize: give one of --voice or --checkpoint, not both');
  const out = String(o.out);
  const toStdout = out === '-';
  const many = o.textFile !== undefined && !toStdout;
  if (!toStdout) checkOutputName(out, '.wav', '--out', many);
  if (o.melOut !== undefined) checkOutputName(String(o.melOut), '.npy', '--mel-out', many);
  if (o.png !== undefined) checkOutputName(String(o.png), '.png', '--png', many);
  if (toStdout && (o.melOut !== undefined || o.png !== undefined))
    throw new UserError('synthesize: --mel-out and --png need a file --out, not - (stdout)');
  // every output path is checked before the model loads, so a bad --mel-out never follows a written WAV
  const kindOf = (p: string) => (many && isDirectoryName(p) ? 'dir' : 'file');
  for (const p of [toStdout ? undefined : out, o.melOut, o.png]) if (p !== undefined) checkOutput(String(p), kindOf(String(p)));
  const num = (k: string, flag: string) => (o[k] === undefined ? undefined : parseNumber(String(o[k]), flag, { min: Number.MIN_VALUE }));
  const settings = {
    steps: o.steps === undefined ? undefined : parseNumber(String(o.steps), '--steps', { integer: true, min: 0 }),
    temperature: num('temperature', '--temperature'),
    lengthScale: num('lengthScale', '--length-scale'),
    startTime: o.startTime === undefined ? undefined : parseNumber(String(o.startTime), '--start-time', { min: Number.MIN_VALUE, max: 1 }),
    stochastic: Boolean(o.stochastic),
    seed: parseNumber(String(o.seed), '--seed', { integer: true, min: 0 }),
    ...(o.speaker !== undefined ? { speaker: String(o.speaker) } : {}),
    iters: parseNumber(String(o.iters), '--iters', { integer: true, min: 1 }),
  };
  const workers = parseWorkers(String(o.workers), '--workers');
  const checkpoint =
    o.checkpoint !== undefined ? String(o.checkpoint) : resolveVoice(o.voice === undefined ? DEFAULT_VOICE : String(o.voice));
  const file = o.textFile !== undefined ? readTextFile(String(o.textFile)) : null;
  const texts = file ? file.texts : [String(o.text)];
  const source = file ? { name: file.name, lines: file.lines } : undefined;
  const notice = (m: string) => process.stderr.write(`difftts: ${m}\n`);
  await backendFor(cmd);
  const bar =
    texts.length > 1 && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          { format: 'synthesize |{bar}| {value}/{total} texts | ETA {eta_formatted}', stream: process.stderr },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(texts.length, 0);
  const onDone = (done: number, total: number) => {
    bar?.setTotal(total);
    bar?.update(done);
  };
  if (toStdout) {
    const { encodeWav } = await import('../audio/wav.js');
    const r = await synthesizeJoined({ checkpoint, texts, source, ...settings, notice, onDone }).finally(() => bar?.stop());
    unknownNotices(r.spoken, source).forEach(notice);
    await writeStdout(encodeWav(r.samples, r.sampleRate));
    notice(`wrote ${(r.samples.length / r.sampleRate).toFixed(2)} s of audio to stdout`);
    return;
  }
  const written = await synthesizeToFiles({
    checkpoint,
    texts,
    source,
    out,
    many,
    melOut: o.melOut as string | undefined,
    png: o.png as string | undefined,
    ...settings,
    workers,
    notice,
    onDone,
  }).finally(() => bar?.stop());
  unknownNotices(written, source).forEach(notice);
  for (const w of written) process.stdout.write(`wrote ${w.wav} (${w.seconds.toFixed(2)} s of audio)\n`);
  if (many) {
    const { manifestPath } = await import('../synthesis/batch.js');
    const skipped = texts.length - written.length;
    process.stdout.write(
      `wrote ${manifestPath(out)} (${written.length} of ${texts.length} lines${skipped ? `; ${skipped} skipped, see above` : ''})\n`,
    );
  }
}

/** Writes bytes to stdout and waits until they are handed over (a closed pipe is one line, exit 1). */
function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EPIPE' ? new UserError('stdout: the reader closed the pipe before the WAV was written', 1) : err),
    );
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}
