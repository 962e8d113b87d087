/**
 * Fuzz-style: every command that writes, given output paths a user can type — a parent that is a
 * file, a directory where a file goes (and the reverse), /proc, a name too long, a link loop, an
 * empty name, '-', control characters, new nested directories — ends with exit code 0, 1 or 2,
 * never a stack trace, and when it fails with one stderr line that names the path (control
 * characters escaped). The command lines run in one process (src/testing/cli-cases.ts) to stay fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCorpus } from '../testing/corpora.js';
import { repoRoot } from '../testing/paths.js';
import { writeMicroRecipe } from '../testing/recipes.js';
import type { CaseResult } from '../testing/cli-cases.js';
import { printable } from '../util/printable.js';

const LONG = 'n'.repeat(300);
const CONTROL = 'ctl\u0001\u001b[31m\nname';
/** Outputs that are files, with the extension `ext` their command expects: [path, expected exit code]. */
const filePaths = (ext: string): [string, number][] => [
  [`file.txt/x${ext}`, 1],
  [`file.txt/a/b/x${ext}`, 1],
  ['adir', 1],
  ['.', 1],
  [`/proc/difftts-fuzz${ext}`, 1],
  [`/proc/difftts-fuzz/x${ext}`, 1],
  [`${LONG}${ext}`, 1],
  [`adir/${LONG}/x${ext}`, 1],
  [`loop/x${ext}`, 1],
  ['', 1],
  ['-', 0],
  [`${CONTROL}${ext}`, 0],
  [`new/nested/dirs/x${ext}`, 0],
];
/** Outputs that are directories. */
const DIR_PATHS: [string, number][] = [
  ['file.txt', 1],
  ['file.txt/run', 1],
  ['/proc/difftts-fuzz', 1],
  ['/proc/self/status', 1],
  [LONG, 1],
  ['loop/run', 1],
  ['', 1],
];
/** Where a cheap directory command (export) also writes successfully. */
const DIR_OK: [string, number][] = [
  [`${CONTROL}-dir`, 0],
  ['new/nested/run', 0],
];

/** stderr lines that are information, not the outcome. */
const INFO = /using backend|training (with \d+ workers: |in the main thread)|^=+$|looks like you are running TensorFlow\.js|^model |^\s*$/;

test('output paths: every command that writes ends in exit 0/1/2, no stack trace, a failure is one line naming the path', (t) => {
  const work = mkdtempSync(join(tmpdir(), 'difftts-outpaths-'));
  const corpus = makeCorpus(12);
  try {
    writeFileSync(join(work, 'file.txt'), 'hi\n');
    mkdirSync(join(work, 'adir'));
    symlinkSync('loop', join(work, 'loop'));
    const wav = join(corpus, 'wavs', 'u00.wav');
    const recipe = writeMicroRecipe(
      join(work, 'micro.json'),
      { steps: 1, batchSize: 2, checkpointEvery: 1, keepCheckpoints: 1, logEvery: 1, pngEvery: 0, seed: 1, workers: 1 },
      { synth: { steps: 1, temperature: 1.5, lengthScale: 1 } },
    );
    const features = join(work, 'features');
    const run = join(work, 'run');
    const cpu = ['--backend', 'cpu'];
    const setup: string[][] = [
      ['data', 'prepare', corpus, '--out', features, '--text-mode', 'characters'],
      [...cpu, 'train', '--recipe', recipe, '--data', features, '--out', run],
      ['audio', 'mel', wav, '--out', join(work, 'm.npy')],
    ];
    const cases: [string[], string, number][] = [];
    for (const [cmd, ext] of [
      [['audio', 'mel', wav, '--out'], '.npy'],
      [['audio', 'griffinlim', join(work, 'm.npy'), '--iters', '1', '--out'], '.wav'],
      [['audio', 'resample', wav, '--rate', '16000', '--out'], '.wav'],
      [[...cpu, 'synthesize', '--checkpoint', run, '--text', 'Hi.', '--iters', '1', '--out'], '.wav'],
    ] as [string[], string][]) {
      for (const [p, code] of filePaths(ext)) cases.push([[...cmd, p], p, code]);
    }
    const refusedOnly = (ext: string) =>
      filePaths(ext)
        .filter(([, c]) => c !== 0)
        .slice(0, 5);
    for (const [p, code] of refusedOnly('.png')) cases.push([['audio', 'mel', wav, '--out', join(work, 'ok.npy'), '--png', p], p, code]);
    for (const [p, code] of refusedOnly('.npy')) {
      cases.push([
        [...cpu, 'synthesize', '--checkpoint', run, '--text', 'Hi.', '--out', join(work, 'ok.wav'), '--mel-out', p, '--iters', '1'],
        p,
        code,
      ]);
    }
    for (const [p, code] of refusedOnly('.txt')) cases.push([['data', 'check', corpus, '--fix-list', p], p, code]);
    for (const [p, code] of [...DIR_PATHS, ...DIR_OK]) cases.push([['export', '--checkpoint', run, '--out', p], p, code]);
    for (const [p, code] of DIR_PATHS) {
      cases.push([['data', 'prepare', corpus, '--out', p], p, code]);
      cases.push([[...cpu, 'train', '--recipe', recipe, '--data', features, '--out', p], p, code]);
      cases.push([
        [
          ...cpu,
          'evaluate',
          '--checkpoint',
          run,
          '--refs',
          corpus,
          '--features',
          features,
          '--max',
          '1',
          '--steps',
          '1',
          '--iters',
          '1',
          '--workers',
          '1',
          '--out',
          p,
        ],
        p,
        code,
      ]);
    }

    const casesFile = join(work, 'cases.json');
    const resultsFile = join(work, 'results.json');
    writeFileSync(casesFile, JSON.stringify([...setup, ...cases.map(([args]) => args)]));
    const driver = join(repoRoot, 'dist', 'src', 'testing', 'cli-cases.js');
    const r = spawnSync(process.execPath, [driver, casesFile, resultsFile], { cwd: work, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as CaseResult[];
    for (const s of results.slice(0, setup.length)) assert.equal(s.code, 0, `${s.args.join(' ')}: ${s.stderr}${s.threw ?? ''}`);

    const problems: string[] = [];
    cases.forEach(([args, path, expected], i) => {
      const res = results[setup.length + i]!;
      const what = `difftts ${printable(args.join(' '))} → exit ${res.code}: ${printable(res.stderr)}`;
      const lines = res.stderr.split('\n').filter((l) => !INFO.test(l));
      if (res.threw !== null) problems.push(`${what}: threw ${res.threw.split('\n')[0]}`);
      else if (res.code !== expected) problems.push(`${what}: expected exit ${expected}`);
      else if (/[\u0000-\u001f\u007f-\u009f]/.test(lines.join(''))) problems.push(`${what}: raw control characters on stderr`);
      else if (expected !== 0) {
        const named = path === '' ? '(empty path)' : printable(path);
        if (lines.length !== 1 || !lines[0]!.startsWith(`difftts: `) || !lines[0]!.includes(named))
          problems.push(`${what}: expected one line naming ${named}`);
      }
    });
    assert.deepEqual(problems, []);
    const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 3);
    t.diagnostic(
      `${results.length} command lines in ${(results.reduce((s, x) => s + x.ms, 0) / 1000).toFixed(1)} s; slowest: ${slowest.map((x) => `${x.args.slice(0, 3).join(' ')} ${(x.ms / 1000).toFixed(1)} s`).join(', ')}`,
    );
    // what succeeded is where it was asked to be; the refusals created nothing
    assert.ok(
      statSync(join(work, '-')).isFile() &&
        statSync(join(work, `${CONTROL}.wav`)).isFile() &&
        existsSync(join(work, 'new', 'nested', 'dirs', 'x.npy')),
    );
    assert.ok(existsSync(join(work, `${CONTROL}-dir`, 'weights.bin')) && existsSync(join(work, 'new', 'nested', 'run', 'weights.bin')));
    assert.ok(!existsSync(join(work, LONG)) && !existsSync(join(work, 'adir', LONG)));
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(corpus, { recursive: true, force: true });
  }
});
