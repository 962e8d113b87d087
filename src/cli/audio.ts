/**
 * `difftts audio …`: look at and convert audio with the same front end the models use.
 *   info FILE.wav                                  rate, channels, format, duration
 *   mel FILE.wav --out MEL.npy [--png MEL.png]     HiFi-GAN log-mel [80, frames] '<f4' (resampled to 22050 Hz first)
 *   griffinlim MEL.npy --out OUT.wav [...]         waveform from a log-mel (fast Griffin-Lim)
 *   resample IN.wav --rate R --out OUT.wav         band-limited resampling
 * Inputs, then output paths (checkOutput), are checked before any work; outputs are written atomically.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { UserError } from '../errors.js';
import { printable } from '../util/printable.js';
import { readWav, writeWav, describeFormat } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { logMel, DEFAULT_MEL, type Mel } from '../audio/mel.js';
import { griffinLim } from '../audio/griffinlim.js';
import { readNpy, writeNpy } from '../util/npy.js';
import { checkOutput } from '../util/atomic.js';
import { writeSpectrogramPng } from '../plot/spectrogram.js';
import { parseNumber } from './options.js';

/** Loads a log-mel .npy [nMels, frames] and checks it fits DEFAULT_MEL; errors name the file. */
export function readMelNpy(path: string): Mel {
  const { data, shape } = readNpy(path, { rank: 2 });
  const [nMels, frames] = shape as [number, number];
  if (nMels !== DEFAULT_MEL.nMels) throw new UserError(`${path}: ${nMels} mel bins (expected shape [${DEFAULT_MEL.nMels}, frames])`);
  if (frames < 1) throw new UserError(`${path}: 0 frames (expected shape [${DEFAULT_MEL.nMels}, frames ≥ 1])`);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new UserError(
      `${path}: value at [${Math.floor(bad / frames)}, ${bad % frames}] is ${data[bad]} (expected finite log-mel values)`,
    );
  }
  return { data, nMels, frames };
}

function progressBar(label: string): cliProgress.SingleBar {
  return new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
}

export function register(program: Command): void {
  const audio = program.command('audio').description('inspect and convert audio: info, log-mel, Griffin-Lim, resampling');

  audio
    .command('info')
    .description('print sample rate, channels, format and duration of a WAV file')
    .argument('<file>', 'WAV file')
    .option('--json', 'print JSON instead of text')
    .action((file: string, o: { json?: boolean }) => {
      const a = readWav(file);
      const info = {
        file,
        sampleRate: a.sampleRate,
        channels: a.channels,
        format: describeFormat(a),
        samples: a.samples.length,
        durationSec: a.durationSec,
      };
      if (o.json) {
        process.stdout.write(JSON.stringify(info) + '\n');
        return;
      }
      process.stdout.write(
        `${file}\n  rate      ${a.sampleRate} Hz\n  channels  ${a.channels}${a.channels > 1 ? ' (read as their mean)' : ''}\n` +
          `  format    ${info.format}\n  duration  ${a.durationSec.toFixed(3)} s (${a.samples.length} samples)\n`,
      );
    });

  audio
    .command('mel')
    .description(
      `HiFi-GAN/Grad-TTS log-mel (${DEFAULT_MEL.nMels} mels, ${DEFAULT_MEL.sampleRate} Hz, hop ${DEFAULT_MEL.hop}) as .npy [nMels, frames] float32`,
    )
    .argument('<file>', 'WAV file')
    .requiredOption('--out <npy>', 'output .npy')
    .option('--png <png>', 'also write a spectrogram image')
    .action((file: string, o: { out: string; png?: string }) => {
      const a = readWav(file);
      checkOutput(o.out);
      if (o.png) checkOutput(o.png);
      let x = a.samples;
      if (a.sampleRate !== DEFAULT_MEL.sampleRate) {
        process.stderr.write(`difftts: resampling ${printable(file)} from ${a.sampleRate} Hz to ${DEFAULT_MEL.sampleRate} Hz\n`);
        x = resample(x, a.sampleRate, DEFAULT_MEL.sampleRate);
      }
      const mel = logMel(x);
      if (mel.frames === 0)
        throw new UserError(`${file}: too short for one mel frame (expected ≥ ${DEFAULT_MEL.hop} samples at ${DEFAULT_MEL.sampleRate} Hz)`);
      writeNpy(o.out, mel.data, [mel.nMels, mel.frames]);
      if (o.png) writeSpectrogramPng(o.png, { title: `Log-mel spectrogram of ${file}`, panels: [{ mel }] });
      process.stderr.write(`difftts: wrote ${printable(o.out)} [${mel.nMels}, ${mel.frames}]${o.png ? ` and ${printable(o.png)}` : ''}\n`);
    });

  audio
    .command('griffinlim')
    .description('rebuild a waveform from a log-mel .npy with fast Griffin-Lim')
    .argument('<mel>', `log-mel .npy, float32 [${DEFAULT_MEL.nMels}, frames]`)
    .requiredOption('--out <wav>', 'output WAV (16-bit PCM unless --float)')
    .option('--iters <n>', 'Griffin-Lim iterations', '32')
    .option('--momentum <m>', 'fast Griffin-Lim momentum (0 = classic)', '0.99')
    .option('--seed <s>', 'seed of the random initial phase', '0')
    .option('--float', 'write 32-bit float WAV')
    .action((file: string, o: { out: string; iters: string; momentum: string; seed: string; float?: boolean }) => {
      const iters = parseNumber(o.iters, '--iters', { integer: true, min: 0, max: 100000 });
      const momentum = parseNumber(o.momentum, '--momentum', { min: 0, max: 1.5 });
      const seed = parseNumber(o.seed, '--seed', { integer: true, min: 0, max: 2 ** 32 - 1 });
      const mel = readMelNpy(file);
      checkOutput(o.out);
      const bar = progressBar('griffin-lim');
      bar.start(iters, 0);
      const y = griffinLim(mel, { iters, momentum, seed, onIter: (i) => bar.update(i) });
      bar.stop();
      writeWav(o.out, y, DEFAULT_MEL.sampleRate, o.float ? 'float32' : 'pcm16');
      process.stderr.write(
        `difftts: wrote ${printable(o.out)} (${(y.length / DEFAULT_MEL.sampleRate).toFixed(3)} s at ${DEFAULT_MEL.sampleRate} Hz)\n`,
      );
    });

  audio
    .command('resample')
    .description('resample a WAV file (Kaiser windowed-sinc, ≥ 100 dB alias rejection); mono output')
    .argument('<file>', 'WAV file')
    .requiredOption('--rate <hz>', 'target sample rate in Hz')
    .requiredOption('--out <wav>', 'output WAV (16-bit PCM, or 32-bit float when the input is float or --float)')
    .option('--float', 'write 32-bit float WAV')
    .action((file: string, o: { rate: string; out: string; float?: boolean }) => {
      const rate = parseNumber(o.rate, '--rate', { integer: true, min: 1, max: 1_000_000 });
      const a = readWav(file);
      checkOutput(o.out);
      const y = resample(a.samples, a.sampleRate, rate);
      writeWav(o.out, y, rate, o.float || a.format === 'float' ? 'float32' : 'pcm16');
      process.stderr.write(`difftts: wrote ${printable(o.out)} (${a.sampleRate} Hz → ${rate} Hz, ${y.length} samples)\n`);
    });
}
