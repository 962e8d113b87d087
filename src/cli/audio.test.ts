import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, speechFixtures } from '../testing/paths.js';
import { encodeNpy, readNpy } from '../util/npy.js';
import { readWav, writeWav } from '../audio/wav.js';
import { logMel } from '../audio/mel.js';
import { readMelNpy } from './audio.js';
import { UserError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'difftts-cli-audio-'));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, DIFFTTS_BACKEND: 'cpu' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A valid 16-bit mono WAV, then corrupted by `edit`. */
function wavBytes(edit: (b: Buffer) => Buffer): Buffer {
  const p = join(dir, 'base.wav');
  writeWav(
    p,
    Float32Array.from({ length: 2000 }, (_, i) => 0.3 * Math.sin(i / 5)),
    22050,
    'pcm16',
  );
  return edit(readFileSync(p));
}

test('cli audio: bad inputs exit 2 with one stderr line naming the file, and write no output', async () => {
  const muLaw = wavBytes((b) => {
    b.writeUInt16LE(7, 20);
    b.writeUInt16LE(8, 34);
    b.writeUInt16LE(1, 32);
    return b;
  });
  const truncated = wavBytes((b) => b.subarray(0, b.length - 1000));
  const notWav = Buffer.from('just some text\n');
  const intNpy = (() => {
    const b = Buffer.from(encodeNpy(new Float32Array(80 * 3), [80, 3]));
    return Buffer.from(b.toString('latin1').replace("'<f4'", "'<i4'"), 'latin1');
  })();
  const rank3 = encodeNpy(new Float32Array(80 * 3), [1, 80, 3]);
  const wrongMels = encodeNpy(new Float32Array(64 * 3), [64, 3]);
  const files: Record<string, Uint8Array> = {
    'mulaw.wav': muLaw,
    'trunc.wav': truncated,
    'text.wav': notWav,
    'int.npy': intNpy,
    'rank3.npy': rank3,
    'mels64.npy': wrongMels,
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const out = (n: string) => join(dir, 'out', n);
  const cases: [string[], RegExp][] = [
    [['audio', 'info', join(dir, 'mulaw.wav')], /mulaw\.wav: unsupported encoding µ-law/],
    [['audio', 'mel', join(dir, 'trunc.wav'), '--out', out('a.npy'), '--png', out('a.png')], /trunc\.wav: data chunk declares/],
    [['audio', 'resample', join(dir, 'text.wav'), '--rate', '16000', '--out', out('b.wav')], /text\.wav: not a WAV file/],
    [['audio', 'griffinlim', join(dir, 'int.npy'), '--out', out('c.wav')], /int\.npy: dtype '<i4'/],
    [['audio', 'griffinlim', join(dir, 'rank3.npy'), '--out', out('d.wav')], /rank3\.npy: array has rank 3/],
    [['audio', 'griffinlim', join(dir, 'mels64.npy'), '--out', out('e.wav')], /mels64\.npy: 64 mel bins \(expected shape \[80, frames\]\)/],
    [['audio', 'griffinlim', join(dir, 'missing.npy'), '--out', out('f.wav')], /missing\.npy: cannot read/],
  ];
  const results = await Promise.all(cases.map(([args]) => run(args)));
  results.forEach((r, i) => {
    const [args, re] = cases[i]!;
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${args.join(' ')}: stderr was\n${r.stderr}`);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
  assert.ok(!existsSync(join(dir, 'out')) || readdirSync(join(dir, 'out')).length === 0, 'no output files');
});

test('cli audio: info, mel (with resampling and PNG), griffinlim and resample work end to end', async () => {
  const f = speechFixtures()[2]!;
  const info = await run(['audio', 'info', f.wav, '--json']);
  assert.equal(info.code, 0);
  const j = JSON.parse(info.stdout) as { sampleRate: number; channels: number; format: string; durationSec: number };
  assert.deepEqual([j.sampleRate, j.channels, j.format], [22050, 1, 'PCM 16-bit']);
  assert.ok(Math.abs(j.durationSec - 72545 / 22050) < 1e-9);

  const melPath = join(dir, 'ok', 'm.npy');
  const r1 = await run(['audio', 'mel', f.wav, '--out', melPath, '--png', join(dir, 'ok', 'm.png')]);
  assert.equal(r1.code, 0, r1.stderr);
  const mel = readNpy(melPath, { rank: 2 });
  const ref = readNpy(f.mel, { rank: 2 });
  assert.deepEqual(mel.shape, ref.shape);
  assert.ok(existsSync(join(dir, 'ok', 'm.png')));

  const r16 = join(dir, 'ok', 'r16.wav');
  const [r2, r3] = await Promise.all([
    run(['audio', 'resample', f.wav, '--rate', '16000', '--out', r16]),
    run(['audio', 'griffinlim', melPath, '--out', join(dir, 'ok', 'gl.wav'), '--iters', '4', '--seed', '3']),
  ]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r3.code, 0, r3.stderr);
  assert.equal(readWav(r16).sampleRate, 16000);
  const gl = readWav(join(dir, 'ok', 'gl.wav'));
  assert.equal(gl.samples.length, ref.shape[1]! * 256);

  // mel of a 16 kHz file resamples to 22050 first, says so, and lands close to the 22050 reference
  const r4 = await run(['audio', 'mel', r16, '--out', join(dir, 'ok', 'm16.npy')]);
  assert.equal(r4.code, 0);
  assert.match(r4.stderr, /resampling .* from 16000 Hz to 22050 Hz/);
  const m16 = readNpy(join(dir, 'ok', 'm16.npy'), { rank: 2 });
  assert.equal(m16.shape[1], logMel(readWav(f.wav).samples).frames);
});

test('cli audio: readMelNpy rejects non-finite values and empty mels, naming the file and cell', () => {
  const data = new Float32Array(80 * 4).fill(-5);
  data[2 * 4 + 3] = NaN;
  const p = join(dir, 'nan.npy');
  writeFileSync(p, encodeNpy(data, [80, 4]));
  assert.throws(
    () => readMelNpy(p),
    (e: unknown) => e instanceof UserError && e.message === `${p}: value at [2, 3] is NaN (expected finite log-mel values)`,
  );
  writeFileSync(p, encodeNpy(new Float32Array(0), [80, 0]));
  assert.throws(
    () => readMelNpy(p),
    (e: unknown) => e instanceof UserError && /0 frames/.test(e.message),
  );
  writeFileSync(p, encodeNpy(new Float32Array(80 * 2).fill(-1), [80, 2]));
  assert.equal(readMelNpy(p).frames, 2);
});
