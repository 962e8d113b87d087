/**
 * `difftts data …`: corpora, the feature cache and corruption experiments.
 *   check CORPUS [--layout L] [--min-dur S] [--max-dur S] [--fix-list FILE] [--json]   validate; exit 2 when rows are unusable
 *   prepare CORPUS --out FEATURES [--layout L] [--seed S] [--valid N|F] [--test N|F] [--text-mode M] [--skip-bad]
 * CORPUS is an LJSpeech, VCTK or LibriTTS folder (detected, or named by --layout).
 *   corrupt CORPUS --out DIR --mode MODE --fraction F --seed S [mode options]
 *   text "TEXT" [--text-mode M] [--no-blank]                                 show the tokens the model reads
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { printable } from '../util/printable.js';
import { checkOutput, writeFileAtomic } from '../util/atomic.js';
import { cleanText, idsToSymbols, textToIds, symbolCount, type TextConfig } from '../text/index.js';
import { readCorpus, fatalProblems, speakerSummary, DEFAULT_MIN_DUR, DEFAULT_MAX_DUR, type CorpusReport } from '../data/corpus.js';
import { LAYOUTS, type Layout } from '../data/layouts.js';
import { groupProblems } from '../data/problems.js';
import { prepareFeatures } from '../data/features.js';
import { corruptCorpus, CORRUPT_MODES, NOISE_TYPES } from '../data/corrupt.js';
import { DEFAULT_SPLIT_SEED } from '../data/split.js';
import { parseNumber } from './options.js';

const EXAMPLES = 3;

function textConfigOf(o: { textMode?: string; blank?: boolean }): TextConfig {
  const mode = o.textMode ?? 'phonemes';
  if (mode !== 'phonemes' && mode !== 'characters') throw new UserError(`--text-mode: expected phonemes or characters, got '${mode}'`);
  return { mode, addBlank: o.blank !== false };
}

function layoutOf(o: { layout?: string }): Layout | 'auto' {
  const l = o.layout ?? 'auto';
  if (l !== 'auto' && !(LAYOUTS as readonly string[]).includes(l))
    throw new UserError(`--layout: expected auto, ${LAYOUTS.join(', ')}, got '${l}'`);
  return l as Layout | 'auto';
}
const LAYOUT_HELP = `corpus layout: auto (default: detected), ${LAYOUTS.join(', ')}`;

const num =
  (flag: string, opts: Parameters<typeof parseNumber>[2] = {}) =>
  (v: string) =>
    parseNumber(v, flag, opts);

/** Rows of metadata.csv that cannot be used (a row can have several problems). */
function unusableRows(r: CorpusReport): number {
  return new Set(fatalProblems(r).map((p) => p.row ?? p.file)).size;
}

function checkSummary(r: CorpusReport) {
  const groups = [...groupProblems(r.problems)].map(([kind, ps]) => ({
    kind,
    count: ps.length,
    unusable: ps[0]!.fatal,
    examples: ps.slice(0, EXAMPLES).map((p) => p.message),
  }));
  return {
    corpus: r.dir,
    layout: r.layout,
    rows: r.entries.length + r.problems.filter((p) => ['bad-fields', 'bad-id', 'duplicate-id', 'empty-text'].includes(p.kind)).length,
    usable: r.usable.length,
    unusable: unusableRows(r),
    hours: r.usableSec / 3600,
    seconds: r.usableSec,
    sampleRates: Object.fromEntries(r.sampleRates),
    /** Usable utterances and minutes per speaker (speaker null: the rows name none). */
    speakers: speakerSummary(r.usable).map((s) => ({ speaker: s.speaker, utterances: s.utterances, minutes: s.seconds / 60 })),
    problems: groups,
  };
}

export function register(program: Command): void {
  const data = program.command('data').description('corpora (LJSpeech layout): check, prepare the feature cache, corrupt, show tokens');

  data
    .command('check')
    .description(
      'validate a corpus (LJSpeech, VCTK or LibriTTS layout) and summarise it, per speaker; exit code 2 when some rows are unusable',
    )
    .argument('<corpus>', 'corpus directory (metadata.csv + wavs/, VCTK or LibriTTS)')
    .option('--layout <layout>', LAYOUT_HELP)
    .option('--min-dur <s>', `shortest usable utterance in seconds (default ${DEFAULT_MIN_DUR})`, num('--min-dur', { min: 0 }))
    .option('--max-dur <s>', `longest usable utterance in seconds (default ${DEFAULT_MAX_DUR})`, num('--max-dur', { min: 0 }))
    .option('--text-mode <mode>', 'phonemes or characters (default phonemes)')
    .option('--fix-list <file>', 'write the usable ids, one per line')
    .option('--json', 'print the summary as JSON')
    .action(
      (corpus: string, o: { layout?: string; minDur?: number; maxDur?: number; textMode?: string; fixList?: string; json?: boolean }) => {
        if (o.fixList) checkOutput(o.fixList);
        const r = readCorpus(corpus, { minDur: o.minDur, maxDur: o.maxDur, textConfig: textConfigOf(o), layout: layoutOf(o) });
        const s = checkSummary(r);
        if (o.fixList) writeFileAtomic(o.fixList, r.usable.map((e) => `${e.id}\n`).join(''));
        if (o.json) process.stdout.write(`${JSON.stringify(s, null, 1)}\n`);
        else {
          const rates =
            Object.entries(s.sampleRates)
              .map(([hz, n]) => `${hz} Hz ×${n}`)
              .join(', ') || 'none readable';
          const lines = [
            `corpus       ${r.dir} (${r.layout} layout)`,
            `rows         ${s.rows} (${s.usable} usable, ${s.unusable} unusable)`,
            `audio        ${s.hours.toFixed(3)} h usable (${s.seconds.toFixed(1)} s)`,
            `sample rates ${rates}`,
            `speakers     ${s.speakers.length === 1 && s.speakers[0]!.speaker === null ? '1 (unnamed)' : s.speakers.length}`,
          ];
          if (!(s.speakers.length === 1 && s.speakers[0]!.speaker === null)) {
            const w = Math.max(...s.speakers.map((x) => (x.speaker ?? '(none)').length));
            for (const x of s.speakers)
              lines.push(
                `  ${(x.speaker ?? '(none)').padEnd(w)}  ${String(x.utterances).padStart(6)} utterances  ${x.minutes.toFixed(2).padStart(8)} min`,
              );
          }
          lines.push(`problems     ${s.problems.length ? '' : 'none'}`);
          for (const g of s.problems) {
            lines.push(`  ${g.kind}: ${g.count} ${g.unusable ? '(unusable)' : '(usable, warning)'}`);
            for (const ex of g.examples) lines.push(`    ${ex}`);
            if (g.count > g.examples.length) lines.push(`    … and ${g.count - g.examples.length} more`);
          }
          if (o.fixList) lines.push(`wrote ${s.usable} usable ids to ${o.fixList}`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        if (s.unusable > 0)
          throw new UserError(`${r.metadataPath}: ${s.unusable} unusable rows (fix them, or use 'difftts data prepare --skip-bad')`);
      },
    );

  data
    .command('prepare')
    .description('compute log-mels and token ids once into a feature cache with a seeded train/valid/test split')
    .argument('<corpus>', 'corpus directory (metadata.csv + wavs/, VCTK or LibriTTS)')
    .requiredOption('--out <dir>', 'features directory (manifest.json + mels/); unchanged entries are reused')
    .option('--layout <layout>', LAYOUT_HELP)
    .option('--seed <n>', `split seed (default ${DEFAULT_SPLIT_SEED})`, num('--seed', { integer: true }))
    .option('--valid <n|f>', 'validation size: a count, or a fraction below 1 (default max(4, 2%))', num('--valid', { min: 0 }))
    .option('--test <n|f>', 'test size: a count, or a fraction below 1 (default max(8, 4%))', num('--test', { min: 0 }))
    .option('--text-mode <mode>', 'phonemes (CMUdict, letters for unknown words) or characters (default phonemes)')
    .option('--no-blank', 'do not interleave the blank token')
    .option('--min-dur <s>', `shortest usable utterance in seconds (default ${DEFAULT_MIN_DUR})`, num('--min-dur', { min: 0 }))
    .option('--max-dur <s>', `longest usable utterance in seconds (default ${DEFAULT_MAX_DUR})`, num('--max-dur', { min: 0 }))
    .option('--skip-bad', 'skip unusable rows (and report them) instead of failing')
    .action(
      async (
        corpus: string,
        o: {
          out: string;
          layout?: string;
          seed?: number;
          valid?: number;
          test?: number;
          textMode?: string;
          blank?: boolean;
          minDur?: number;
          maxDur?: number;
          skipBad?: boolean;
        },
      ) => {
        const fs = await prepareFeatures(corpus, o.out, {
          seed: o.seed,
          valid: o.valid,
          test: o.test,
          textConfig: textConfigOf(o),
          skipBad: o.skipBad,
          layout: layoutOf(o),
          minDur: o.minDur,
          maxDur: o.maxDur,
          progress: true,
          warn: (line) => process.stderr.write(`difftts: ${line}\n`),
        });
        const rep = fs.report!;
        const { train, valid, test } = fs.splits;
        process.stderr.write(
          `difftts: wrote ${fs.utterances.size} utterances to ${printable(o.out)} (computed ${rep.computed.length}, reused ${rep.reused.length}` +
            `${rep.skipped.length ? `, skipped ${new Set(rep.skipped.map((p) => p.row)).size} rows` : ''}); split train ${train.length} / valid ${valid.length} / test ${test.length}` +
            `${fs.speakers.length ? `; ${fs.speakers.length} speaker${fs.speakers.length > 1 ? 's (split per speaker)' : ''}` : ''}\n`,
        );
      },
    );

  data
    .command('corrupt')
    .description('copy a corpus, corrupting round(F·N) seeded training utterances (never valid/test); writes corruption.json')
    .argument('<corpus>', 'source corpus directory')
    .requiredOption('--out <dir>', 'new corpus directory (written atomically)')
    .requiredOption('--mode <mode>', CORRUPT_MODES.join(' | '))
    .requiredOption('--fraction <f>', 'fraction in [0, 1] of the usable training utterances', num('--fraction'))
    .option('--seed <n>', 'chooses the utterances and seeds the noise (default 0)', num('--seed', { integer: true }), 0)
    .option('--donor <dir>', 'replace-voice: corpus with wavs/<id>.wav for the same ids')
    .option('--snr <db>', 'noise: signal-to-noise ratio over the whole utterance, dB', num('--snr'))
    .option('--noise <type>', `noise: ${NOISE_TYPES.join(' | ')} (default white)`)
    .option('--level <f>', "clip: threshold as a fraction (0, 1] of each utterance's peak", num('--level'))
    .option('--cutoff <hz>', 'bandlimit: low-pass cutoff in Hz', num('--cutoff'))
    .option(
      '--split-seed <n>',
      `split seed; must match prepare's --seed (default ${DEFAULT_SPLIT_SEED})`,
      num('--split-seed', { integer: true }),
    )
    .option('--valid <n|f>', "validation size; must match prepare's --valid", num('--valid', { min: 0 }))
    .option('--test <n|f>', "test size; must match prepare's --test", num('--test', { min: 0 }))
    .action(
      async (
        corpus: string,
        o: {
          out: string;
          mode: string;
          fraction: number;
          seed: number;
          donor?: string;
          snr?: number;
          noise?: string;
          level?: number;
          cutoff?: number;
          splitSeed?: number;
          valid?: number;
          test?: number;
        },
      ) => {
        const log = await corruptCorpus(corpus, o.out, { ...o, progress: true });
        process.stderr.write(
          `difftts: wrote ${printable(o.out)}: ${log.mode} on ${log.count} of ${log.eligible} training utterances (fraction ${log.fraction}, seed ${log.seed}); details in ${printable(o.out)}/corruption.json\n`,
        );
      },
    );

  data
    .command('text')
    .description('show how the text front end cleans and tokenises a sentence')
    .argument('<text>', 'text to convert')
    .option('--text-mode <mode>', 'phonemes or characters (default phonemes)')
    .option('--no-blank', 'do not interleave the blank token')
    .option('--json', 'print JSON')
    .action((text: string, o: { textMode?: string; blank?: boolean; json?: boolean }) => {
      const cfg = textConfigOf(o);
      const { ids, unknown } = textToIds(text, cfg);
      const out = {
        cleaned: cleanText(text),
        symbols: idsToSymbols(ids, cfg),
        ids: Array.from(ids),
        unknown,
        vocabulary: symbolCount(cfg),
      };
      if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        process.stdout.write(
          `cleaned  ${out.cleaned}\nsymbols  ${out.symbols
            .filter((s) => s !== '<blank>')
            .map((s) => (s === ' ' ? '_' : s))
            .join(' ')}\n` +
            `ids      ${out.ids.join(' ')}\nvocab    ${out.vocabulary} symbols (0 = padding${cfg.addBlank ? `, ${out.vocabulary - 1} = blank` : ''})\n`,
        );
      }
      if (unknown.length)
        process.stderr.write(`difftts: warning: unknown characters skipped: ${unknown.map((c) => JSON.stringify(c)).join(' ')}\n`);
    });
}
