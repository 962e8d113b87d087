/**
 * Data-corruption experiments (arXiv 2403.16728): a copy of a corpus in which a seeded choice of
 * exactly round(fraction · N) training utterances is corrupted, N being the usable utterances of
 * the training split. The split is the one `data prepare` computes (split.ts: split seed 1234 and
 * the default valid/test sizes unless given), so valid/test utterances are never touched and a
 * model trained on the corrupted corpus is scored on the same clean held-out set.
 *
 * Every other file is a byte-identical copy; `corruption.json` lists each corrupted id and what
 * was done to it. The output is built in a temporary sibling directory and renamed into place.
 * Corrupted audio is written as 16-bit PCM at the source file's rate (mono).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { UserError } from '../errors.js';
import { writeDirAtomicAsync, checkOutput } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { readWav, writeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { readCorpus, sha256Hex, speakersById, type CorpusEntry } from './corpus.js';
import { computeSplit, DEFAULT_SPLIT_SEED } from './split.js';
import { addNoiseAtSnr, babbleNoise, clipAtLevel, lowpass, measureSnrDb, pinkNoise, whiteNoise } from './signal.js';

export const CORRUPT_MODES = ['replace-voice', 'noise', 'clip', 'bandlimit', 'swap-text'] as const;
export type CorruptMode = (typeof CORRUPT_MODES)[number];
export const NOISE_TYPES = ['white', 'pink', 'babble'] as const;
export type NoiseType = (typeof NOISE_TYPES)[number];

/** Talkers summed into one babble track. */
export const BABBLE_TALKERS = 4;
/** FIR length of the band-limit filter (odd). */
export const BANDLIMIT_TAPS = 1001;

export interface CorruptOptions {
  mode: string;
  /** Fraction in [0, 1] of the usable training utterances to corrupt. */
  fraction: number;
  /** Chooses the utterances and seeds all noise. */
  seed: number;
  /** replace-voice: an LJSpeech-layout corpus with wavs/<id>.wav for every chosen id. */
  donor?: string;
  /** noise: SNR in dB over the whole utterance, and the noise type (default white). */
  snr?: number;
  noise?: string;
  /** clip: threshold as a fraction (0, 1] of each utterance's peak. */
  level?: number;
  /** bandlimit: low-pass cutoff in Hz. */
  cutoff?: number;
  /** Split parameters; must match those given to `data prepare` (defaults match its defaults). */
  splitSeed?: number;
  valid?: number;
  test?: number;
  minDur?: number;
  maxDur?: number;
  progress?: boolean;
}

export interface CorruptionRecord {
  id: string;
  [detail: string]: unknown;
}

export interface CorruptionLog {
  format: 'difftts-corruption';
  version: 1;
  source: string;
  mode: CorruptMode;
  fraction: number;
  seed: number;
  split: { seed: number; valid: number | null; test: number | null };
  params: Record<string, unknown>;
  /** Usable training-split utterances (N); count = round(fraction · N). */
  eligible: number;
  count: number;
  corrupted: CorruptionRecord[];
}

/** Checks the mode and its options; returns the params recorded in corruption.json. Throws UserError. */
export function checkCorruptOptions(o: CorruptOptions): { mode: CorruptMode; params: Record<string, unknown> } {
  if (!(CORRUPT_MODES as readonly string[]).includes(o.mode))
    throw new UserError(`--mode: unknown mode '${o.mode}' (expected one of ${CORRUPT_MODES.join(', ')})`);
  const mode = o.mode as CorruptMode;
  if (!(Number.isFinite(o.fraction) && o.fraction >= 0 && o.fraction <= 1))
    throw new UserError(`--fraction: expected a number in [0, 1], got ${o.fraction}`);
  if (!Number.isInteger(o.seed)) throw new UserError(`--seed: expected an integer, got ${o.seed}`);
  switch (mode) {
    case 'replace-voice':
      if (!o.donor) throw new UserError(`--mode replace-voice needs --donor DIR (a corpus with wavs/<id>.wav for the same ids)`);
      if (!existsSync(join(o.donor, 'wavs')))
        throw new UserError(`--donor ${o.donor}: no wavs/ folder (expected an LJSpeech-layout corpus with the same ids)`);
      return { mode, params: { donor: resolve(o.donor) } };
    case 'noise': {
      if (o.snr === undefined || !Number.isFinite(o.snr)) throw new UserError(`--mode noise needs --snr DB (a number), got ${o.snr}`);
      const noise = o.noise ?? 'white';
      if (!(NOISE_TYPES as readonly string[]).includes(noise))
        throw new UserError(`--noise: unknown noise '${noise}' (expected ${NOISE_TYPES.join(', ')})`);
      return { mode, params: { snrDb: o.snr, noise, ...(noise === 'babble' ? { talkers: BABBLE_TALKERS } : {}) } };
    }
    case 'clip':
      if (o.level === undefined || !(o.level > 0 && o.level <= 1))
        throw new UserError(`--mode clip needs --level in (0, 1] (fraction of each utterance's peak), got ${o.level}`);
      return { mode, params: { level: o.level } };
    case 'bandlimit':
      if (o.cutoff === undefined || !(o.cutoff > 0)) throw new UserError(`--mode bandlimit needs --cutoff HZ > 0, got ${o.cutoff}`);
      return { mode, params: { cutoffHz: o.cutoff, taps: BANDLIMIT_TAPS, filter: 'Blackman-windowed sinc, zero phase' } };
    case 'swap-text':
      return { mode, params: {} };
  }
}

/** A per-utterance generator, so each utterance's noise does not depend on processing order. */
function rngFor(seed: number, id: string): Rng {
  return new Rng(parseInt(sha256Hex(`${seed}:${id}`).slice(0, 8), 16));
}

/** Reads a wav as mono samples at `rate` (resampled when needed). */
function readAt(path: string, rate: number): Float32Array {
  const a = readWav(path);
  return a.sampleRate === rate ? a.samples : resample(a.samples, a.sampleRate, rate);
}

/** Replaces field 2 and 3 of metadata line `row` (1-based), keeping BOM, CR and speaker. */
function swapLine(lines: string[], e: CorpusEntry, from: CorpusEntry): void {
  const line = lines[e.row - 1]!;
  const cr = line.endsWith('\r') ? '\r' : '';
  const bom = line.startsWith('\uFEFF') ? '\uFEFF' : '';
  lines[e.row - 1] = `${bom}${e.id}|${from.rawText}|${from.text}${e.speaker !== null ? `|${e.speaker}` : ''}${cr}`;
}

/**
 * Writes the corrupted copy of `corpusDir` to `outDir`. Everything is checked (mode, fraction,
 * donor ids, cutoff, output location) before anything is written.
 */
export async function corruptCorpus(corpusDir: string, outDir: string, opts: CorruptOptions): Promise<CorruptionLog> {
  const { mode, params } = checkCorruptOptions(opts);
  const src = resolve(corpusDir);
  const out = resolve(outDir);
  if (out === src || out.startsWith(`${src}/`) || src.startsWith(`${out}/`))
    throw new UserError(`--out ${outDir}: must be outside the source corpus ${corpusDir}`);
  if (existsSync(out) && (!statSync(out).isDirectory() || (readdirSync(out).length > 0 && !existsSync(join(out, 'corruption.json'))))) {
    throw new UserError(`--out ${outDir}: exists and is not a corrupted corpus from an earlier run (expected a new or empty directory)`);
  }
  checkOutput(outDir, 'dir');
  // The copy is written in the LJSpeech layout (metadata.csv + wavs/), so the source must be one too.
  const corpus = readCorpus(corpusDir, { minDur: opts.minDur, maxDur: opts.maxDur, layout: 'ljspeech' });
  const splitSeed = opts.splitSeed ?? DEFAULT_SPLIT_SEED;
  const split = computeSplit(
    corpus.entries.map((e) => e.id),
    { seed: splitSeed, valid: opts.valid, test: opts.test, speakers: speakersById(corpus.entries) },
  );
  const train = new Set(split.train);
  const eligible = corpus.usable.filter((e) => train.has(e.id)).sort((a, b) => (a.id < b.id ? -1 : 1));
  const count = Math.round(opts.fraction * eligible.length);
  const chosen = new Rng(opts.seed)
    .shuffle([...eligible])
    .slice(0, count)
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const chosenIds = new Set(chosen.map((e) => e.id));

  if (mode === 'replace-voice') {
    const missing = chosen.filter((e) => !existsSync(join(opts.donor!, 'wavs', `${e.id}.wav`)));
    if (missing.length)
      throw new UserError(
        `--donor ${opts.donor}: no wavs/${missing[0]!.id}.wav${missing.length > 1 ? ` (and ${missing.length - 1} more of the ${count} chosen ids)` : ''} (expected the same ids as ${corpusDir})`,
      );
  }
  if (mode === 'bandlimit') {
    const lowest = Math.min(...chosen.map((e) => e.sampleRate));
    if (chosen.length && !(opts.cutoff! < lowest / 2))
      throw new UserError(`--cutoff ${opts.cutoff}: expected below the Nyquist frequency ${lowest / 2} Hz`);
  }
  if (mode === 'swap-text' && count > 0 && new Set(eligible.map((e) => e.text)).size < 2) {
    throw new UserError(`${corpus.metadataPath}: swap-text needs at least two different training texts`);
  }

  const records: CorruptionRecord[] = [];
  const metaLines = readFileSync(corpus.metadataPath, 'utf8').split('\n');
  const bar = opts.progress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: `corrupt ${mode} [{bar}] {value}/{total} utterances`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : null;

  await writeDirAtomicAsync(out, async (tmp) => {
    for (const f of readdirSync(src)) {
      const p = join(src, f);
      if (statSync(p).isFile() && f !== 'metadata.csv' && f !== 'corruption.json') copyFileSync(p, join(tmp, f));
    }
    mkdirSync(join(tmp, 'wavs'));
    for (const f of readdirSync(join(src, 'wavs'))) {
      if (!statSync(join(src, 'wavs', f)).isFile()) continue;
      const id = f.replace(/\.wav$/i, '');
      if (!chosenIds.has(id) || mode === 'swap-text') copyFileSync(join(src, 'wavs', f), join(tmp, 'wavs', f));
    }
    bar?.start(chosen.length, 0);
    for (const e of chosen) {
      const rng = rngFor(opts.seed, e.id);
      const dst = join(tmp, 'wavs', `${e.id}.wav`);
      const rec: CorruptionRecord = { id: e.id };
      if (mode === 'swap-text') {
        let from: CorpusEntry;
        do from = eligible[rng.int(eligible.length)]!;
        while (from.text === e.text);
        swapLine(metaLines, e, from);
        Object.assign(rec, { textFrom: from.id, oldText: e.text, newText: from.text });
      } else if (mode === 'replace-voice') {
        const donorWav = join(opts.donor!, 'wavs', `${e.id}.wav`);
        const y = readAt(donorWav, e.sampleRate);
        writeWav(dst, y, e.sampleRate);
        Object.assign(rec, {
          donorFile: relative(resolve(opts.donor!), resolve(donorWav)),
          sourceSec: e.durationSec,
          donorSec: y.length / e.sampleRate,
        });
      } else {
        const x = readWav(e.wav).samples;
        if (mode === 'noise') {
          const kind = params.noise as NoiseType;
          let noise: Float32Array;
          let talkers: string[] | undefined;
          if (kind === 'white') noise = whiteNoise(x.length, rng);
          else if (kind === 'pink') noise = pinkNoise(x.length, rng);
          else {
            const others = eligible.filter((o) => o.id !== e.id);
            talkers = rng
              .shuffle(others.map((o) => o.id))
              .slice(0, BABBLE_TALKERS)
              .sort();
            noise = babbleNoise(
              x.length,
              talkers.map((t) => readAt(join(src, 'wavs', `${t}.wav`), e.sampleRate)),
              rng,
            );
          }
          const { y, gain } = addNoiseAtSnr(x, noise, params.snrDb as number);
          writeWav(dst, y, e.sampleRate);
          const clean = gain === 1 ? x : x.map((v) => v * gain);
          Object.assign(rec, {
            noise: kind,
            snrDb: params.snrDb,
            measuredSnrDb: Number(measureSnrDb(clean, y).toFixed(3)),
            gain,
            ...(talkers ? { talkers } : {}),
          });
        } else if (mode === 'clip') {
          const { y, threshold, clippedFraction } = clipAtLevel(x, opts.level!);
          writeWav(dst, y, e.sampleRate);
          Object.assign(rec, {
            level: opts.level,
            threshold: Number(threshold.toFixed(6)),
            clippedFraction: Number(clippedFraction.toFixed(6)),
          });
        } else {
          writeWav(dst, lowpass(x, opts.cutoff!, e.sampleRate, BANDLIMIT_TAPS), e.sampleRate);
          Object.assign(rec, { cutoffHz: opts.cutoff });
        }
      }
      records.push(rec);
      bar?.increment();
      await new Promise((r) => setImmediate(r));
    }
    bar?.stop();
    if (mode === 'swap-text') writeFileSync(join(tmp, 'metadata.csv'), metaLines.join('\n'));
    else copyFileSync(corpus.metadataPath, join(tmp, 'metadata.csv'));
    const log: CorruptionLog = {
      format: 'difftts-corruption',
      version: 1,
      source: src,
      mode,
      fraction: opts.fraction,
      seed: opts.seed,
      split: { seed: splitSeed, valid: opts.valid ?? null, test: opts.test ?? null },
      params,
      eligible: eligible.length,
      count,
      corrupted: records,
    };
    writeFileSync(join(tmp, 'corruption.json'), `${JSON.stringify(log, null, 1)}\n`);
  });
  return JSON.parse(readFileSync(join(out, 'corruption.json'), 'utf8')) as CorruptionLog;
}
