/**
 * `difftts synthesize` as a user runs it with the shipped voice (steps 0 and few Griffin-Lim
 * iterations keep it fast): pipes, a batch with its manifest and skipped lines, escaped notices,
 * one-line refusals, and random hostile text that never gives a stack trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../testing/paths.js';
import { decodeWav } from '../audio/wav.js';
import { Rng } from '../util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'difftts-synthcli-'));
const FAST = ['--steps', '0', '--iters', '2', '--workers', '1'];

function difftts(args: string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cliPath, '--backend', 'wasm', 'synthesize', ...args], {
    input,
    cwd: dir,
    maxBuffer: 64e6,
    env: { ...process.env, ...env },
  });
  const stderr = r.stderr.toString('utf8');
  const errLines = stderr.split('\n').filter((l) => l.length > 0 && !l.startsWith('difftts: using backend'));
  return { code: r.status, stdout: r.stdout, out: r.stdout.toString('utf8'), errLines, stderr };
}

test('synthesize: stdin to stdout is one WAV on stdout, every message on stderr, an unspeakable line named FILE:LINE', () => {
  const r = difftts(
    ['--voice', 'allison-enc128', '--text-file', '-', '--out', '-', ...FAST],
    'Please hold.\n\n😀\nThank you for calling.\n',
  );
  assert.equal(r.code, 0, r.stderr);
  const wav = decodeWav(r.stdout, 'stdout');
  assert.equal(wav.sampleRate, 22050);
  assert.ok(wav.durationSec > 1.5 && wav.durationSec < 8, `${wav.durationSec} s`);
  assert.deepEqual(r.errLines, [
    'difftts: stdin:3: text "😀": nothing to speak after cleaning (no character has a symbol: 😀) — skipped',
    `difftts: wrote ${wav.durationSec.toFixed(2)} s of audio to stdout`,
  ]);
});

test('synthesize --text-file: numbered WAVs, a manifest (index, line, text, file, seconds), a skipped line, escaped control characters', () => {
  const file = join(dir, 'lines.txt');
  writeFileSync(file, 'Please hold.\n\n\u001b]0;owned\u0007Hello \u0000there.\n🎉🎉\n');
  const r = difftts(['--text-file', file, '--out', join(dir, 'batch', 'say.wav'), ...FAST]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /[\u0000\u0007\u001b]/, 'no raw control character reaches the terminal');
  assert.ok(
    r.errLines.includes(`difftts: ${file}:4: text "🎉🎉": nothing to speak after cleaning (no character has a symbol: 🎉) — skipped`),
    r.stderr,
  );
  assert.ok(
    r.errLines.some((l) =>
      l.startsWith(`difftts: ${file}:3: "\\x1b]0;owned\\x07Hello \\x00there.": skipped characters not in the symbol set:`),
    ),
    r.stderr,
  );
  const manifest = readFileSync(join(dir, 'batch', 'say.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    manifest.map((m) => [m.index, m.line, m.file]),
    [
      [1, 1, join(dir, 'batch', 'say-001.wav')],
      [2, 3, join(dir, 'batch', 'say-002.wav')],
    ],
  );
  assert.equal(manifest[1].text, '\u001b]0;owned\u0007Hello \u0000there.');
  for (const m of manifest) assert.ok(Math.abs(decodeWav(readFileSync(m.file), m.file).durationSec - m.seconds) < 1e-3);
  assert.deepEqual(readdirSync(join(dir, 'batch')).sort(), ['say-001.wav', 'say-002.wav', 'say.jsonl']);
  assert.match(r.out, /\(2 of 3 lines; 1 skipped, see above\)/);
});

test('synthesize --text-file: a batch that stops part-way says how far it got; the manifest lists what was written', () => {
  const file = join(dir, 'three.txt');
  writeFileSync(file, 'One.\nTwo.\nThree.\n');
  const r = difftts(['--text-file', file, '--out', join(dir, 'part') + '/', ...FAST], undefined, {
    DIFFTTS_DEBUG_WRITE_FAIL: 'ENOSPC:002.wav',
  });
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(r.errLines, [
    `difftts: batch stopped after 1 of 3 sentences; ${join(dir, 'part', 'manifest.jsonl')} lists the files written`,
    `difftts: ${join(dir, 'part', '002.wav')}: cannot write (no space left on device, ENOSPC)`,
  ]);
  const manifest = readFileSync(join(dir, 'part', 'manifest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    manifest.map((m) => m.file),
    [join(dir, 'part', '001.wav')],
  );
  assert.deepEqual(readdirSync(join(dir, 'part')).sort(), ['001.wav', 'manifest.jsonl']);
});

test('synthesize: misleading inputs get a one-line answer and write nothing', () => {
  const file = join(dir, 'two.txt');
  writeFileSync(file, 'One.\nTwo.\n');
  const cases: [string[], RegExp][] = [
    [['--text', '', '--out', 'e.wav'], /^difftts: synthesize: --text is empty \(nothing to speak\)$/],
    [['--text', '   ', '--out', 'e.wav'], /--text is empty/],
    [
      ['--text', 'hi', '--out', 'x.mp3'],
      /^difftts: --out x\.mp3: difftts writes \.wav files here \(expected a name ending in \.wav, or - for stdout\)$/,
    ],
    [
      ['--text-file', file, '--out', 'file.txt'],
      /^difftts: --out file\.txt: difftts writes \.wav files here \(expected a name ending in \.wav, or a directory, or - for stdout\)$/,
    ],
    [['--text', 'hi', '--out', 'a.wav', '--png', 'a.jpg'], /--png a\.jpg: difftts writes \.png files/],
    [
      ['--text', 'hi', '--out', 'a.wav', '--voice', 'nosuch'],
      /^difftts: voice 'nosuch': neither a shipped voice \(allison-enc128-shallow, .*\) nor a directory$/,
    ],
    [['--text', 'hi', '--text-file', file, '--out', 'a.wav'], /give one of --text or --text-file, not both/],
    [['--text-file', join(dir, 'missing.txt'), '--out', 'a.wav'], /missing\.txt: cannot read the text file \(ENOENT\)/],
    [['--text', 'hi', '--out', 'a.wav', '--steps', '-1'], /--steps: expected ≥ 0, got -1/],
  ];
  for (const [args, want] of cases) {
    const r = difftts(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.errLines.length, 1, r.stderr);
    assert.match(r.errLines[0]!, want);
  }
  assert.deepEqual(
    readdirSync(dir).filter((f) => /^(e|x|a|file)/.test(f)),
    [],
    'nothing written',
  );
  const help = spawnSync(process.execPath, [cliPath, 'synthesize', '--help'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(help, /worker processes/);
  assert.match(help, /worker threads/);
});

test('synthesize on random hostile text: exit 0, 1 or 2, never a stack trace, one line on failure', () => {
  const rng = new Rng(5);
  const parts = [
    'hello',
    'world',
    '. ',
    ', ',
    ' ',
    '😀',
    '👩‍👩‍👧',
    '\u0000',
    '\u001b[2J',
    '\u0007',
    '\u202e',
    'ümlaut',
    '中文',
    'Ω',
    '12/05/2024',
    '3pm',
    '$9,999,999,999',
    '9'.repeat(30),
    '1e309',
    '-0',
    '#1',
    '%',
    '&',
    '\ud800',
    '\t',
    '"',
    "'",
    '…',
    'Dr.',
    '100th',
    '3.14159',
  ];
  const lines = Array.from({ length: 24 }, () => Array.from({ length: rng.int(12) }, () => parts[rng.int(parts.length)]).join(''));
  const file = join(dir, 'fuzz.txt');
  writeFileSync(file, lines.join('\n') + '\n\n\n' + '7'.repeat(300) + '\n');
  const runs = [
    difftts(['--text-file', file, '--out', join(dir, 'fuzz') + '/', ...FAST]),
    // a command line cannot hold NUL; the file above does
    ...lines.slice(0, 2).map((l) => difftts(['--text', l.replace(/\u0000/g, '') || ' ', '--out', join(dir, 'fuzz-one.wav'), ...FAST])),
    difftts(['--text', '😀\u0007', '--out', join(dir, 'fuzz-emoji.wav'), ...FAST]),
  ];
  for (const r of runs) {
    assert.ok([0, 1, 2].includes(r.code!), `exit ${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at |Error:|[\u0000\u0007\u001b]/, r.stderr);
    if (r.code !== 0) assert.equal(r.errLines.length, 1, r.stderr);
  }
  assert.equal(runs[0]!.code, 0, runs[0]!.stderr);
  assert.ok(existsSync(join(dir, 'fuzz', 'manifest.jsonl')));
  assert.equal(runs.at(-1)!.code, 2);
  assert.match(runs.at(-1)!.errLines[0]!, /^difftts: text "😀\\x07": nothing to speak after cleaning/);
});
