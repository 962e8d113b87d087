import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corruptCorpus } from './corrupt.js';
import { computeSplit } from './split.js';
import { prepareFeatures } from './features.js';
import { measureSnrDb } from './signal.js';
import { readWav, writeWav } from '../audio/wav.js';
import { makeCorpus, tone } from '../testing/corpora.js';

const N = 16; // split: valid 4, test 4, train 8
const corpus = makeCorpus(N);
const work = mkdtempSync(join(tmpdir(), 'difftts-corrupt-'));
after(() => {
  rmSync(corpus, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});
const ids = Array.from({ length: N }, (_, i) => `u${String(i).padStart(2, '0')}`);
const split = computeSplit(ids);
const bytes = (p: string) => readFileSync(p);

test('exact count from the training split only; untouched files byte-identical; deterministic', async () => {
  const out1 = join(work, 'c1');
  const out2 = join(work, 'c2');
  const log = await corruptCorpus(corpus, out1, { mode: 'clip', fraction: 0.5, seed: 3, level: 0.3 });
  await corruptCorpus(corpus, out2, { mode: 'clip', fraction: 0.5, seed: 3, level: 0.3 });
  assert.equal(log.eligible, split.train.length);
  assert.equal(log.count, Math.round(0.5 * split.train.length));
  const hit = log.corrupted.map((r) => r.id);
  assert.equal(hit.length, log.count);
  for (const id of hit) assert.ok(split.train.includes(id), `${id} is a training id`);
  for (const id of ids) {
    const a = bytes(join(out1, 'wavs', `${id}.wav`));
    assert.deepEqual(a, bytes(join(out2, 'wavs', `${id}.wav`)), `${id} deterministic`);
    assert.equal(a.equals(bytes(join(corpus, 'wavs', `${id}.wav`))), !hit.includes(id), `${id} copied iff not corrupted`);
  }
  assert.deepEqual(bytes(join(out1, 'metadata.csv')), bytes(join(corpus, 'metadata.csv')));
  assert.deepEqual(bytes(join(out1, 'corruption.json')), bytes(join(out2, 'corruption.json')));
  const other = await corruptCorpus(corpus, join(work, 'c3'), { mode: 'clip', fraction: 0.5, seed: 4, level: 0.3 });
  assert.notDeepEqual(
    other.corrupted.map((r) => r.id),
    hit,
  );
  const all = await corruptCorpus(corpus, join(work, 'c4'), { mode: 'clip', fraction: 1, seed: 4, level: 0.3 });
  assert.deepEqual(
    all.corrupted.map((r) => r.id),
    split.train,
  );
  const none = await corruptCorpus(corpus, join(work, 'c4'), { mode: 'clip', fraction: 0, seed: 4, level: 0.3 });
  assert.equal(none.count, 0);
});

test('prepare gives the corrupted corpus the same valid/test split as the clean one', async () => {
  const out = join(work, 'split-check');
  const donor = mkdtempSync(join(work, 'short-donor-'));
  // Donor clips shorter than the duration floor: those rows become unusable, the split must not move.
  for (const id of ids) writeWav(join(donor, 'wavs', `${id}.wav`), tone(0.3, 900), 22050);
  await corruptCorpus(corpus, out, { mode: 'replace-voice', fraction: 0.5, seed: 11, donor });
  const clean = await prepareFeatures(corpus, join(work, 'f-clean'));
  const dirty = await prepareFeatures(out, join(work, 'f-dirty'), { skipBad: true });
  assert.equal(dirty.report!.skipped.length, 4);
  assert.deepEqual(dirty.splits.valid, clean.splits.valid);
  assert.deepEqual(dirty.splits.test, clean.splits.test);
});

test('clip: corrupted audio peaks at level × the original peak', async () => {
  const out = join(work, 'clip');
  const log = await corruptCorpus(corpus, out, { mode: 'clip', fraction: 0.25, seed: 1, level: 0.4 });
  for (const r of log.corrupted) {
    const x = readWav(join(corpus, 'wavs', `${r.id}.wav`)).samples;
    const y = readWav(join(out, 'wavs', `${r.id}.wav`)).samples;
    const peak = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(Math.abs(peak(y) - 0.4 * peak(x)) <= 1 / 32768, `${r.id}: peak ${peak(y)} vs ${0.4 * peak(x)}`);
    assert.ok((r.clippedFraction as number) > 0.3);
    // Samples under the threshold are untouched.
    const px = peak(x);
    for (let i = 0; i < x.length; i++) if (Math.abs(x[i]!) < 0.39 * px) assert.equal(y[i], x[i]);
  }
});

for (const noise of ['white', 'pink', 'babble']) {
  test(`noise ${noise}: SNR measured on the written files is within 0.5 dB of the target`, async () => {
    const out = join(work, `noise-${noise}`);
    const log = await corruptCorpus(corpus, out, { mode: 'noise', fraction: 0.25, seed: 2, snr: 5, noise });
    assert.equal(log.count, 2);
    for (const r of log.corrupted) {
      const x = readWav(join(corpus, 'wavs', `${r.id}.wav`)).samples;
      const y = readWav(join(out, 'wavs', `${r.id}.wav`)).samples;
      // A loud mix is scaled down (signal and noise together) to stay within ±1.
      const gain = r.gain as number;
      assert.ok(gain > 0 && gain <= 1);
      const snr = measureSnrDb(
        x.map((v) => v * gain),
        y,
      );
      assert.ok(Math.abs(snr - 5) < 0.5, `${r.id}: measured ${snr} dB`);
      if (noise === 'babble') assert.equal((r.talkers as string[]).length, 4);
    }
  });
}

test('bandlimit: a tone above the cutoff is attenuated > 60 dB, one below kept within 0.1 dB', async () => {
  const dir = mkdtempSync(join(work, 'bl-src-'));
  writeFileSync(join(dir, 'metadata.csv'), ids.map((id) => `${id}|Two tones.`).join('\n'));
  const rate = 22050;
  const lowHz = 500;
  const highHz = 3000;
  for (const id of ids) {
    const a = tone(1, lowHz, rate, 0.3, 1);
    const b = tone(1, highHz, rate, 0.3, 2);
    writeWav(
      join(dir, 'wavs', `${id}.wav`),
      a.map((v, i) => v + b[i]!),
      rate,
    );
  }
  const out = join(work, 'bl');
  const log = await corruptCorpus(dir, out, { mode: 'bandlimit', fraction: 0.25, seed: 5, cutoff: 2000 });
  // Amplitude of a sinusoid at f over the middle half (away from the filter's edge effects).
  const amp = (x: Float32Array, f: number) => {
    let re = 0,
      im = 0;
    const lo = Math.floor(x.length / 4),
      hi = Math.floor((3 * x.length) / 4);
    for (let i = lo; i < hi; i++) {
      re += x[i]! * Math.cos((2 * Math.PI * f * i) / rate);
      im += x[i]! * Math.sin((2 * Math.PI * f * i) / rate);
    }
    return (2 * Math.hypot(re, im)) / (hi - lo);
  };
  for (const r of log.corrupted) {
    const x = readWav(join(dir, 'wavs', `${r.id}.wav`)).samples;
    const y = readWav(join(out, 'wavs', `${r.id}.wav`)).samples;
    assert.ok(Math.abs(20 * Math.log10(amp(y, lowHz) / amp(x, lowHz))) < 0.1);
    assert.ok(20 * Math.log10(amp(y, highHz) / amp(x, highHz)) < -60, `attenuation ${20 * Math.log10(amp(y, highHz) / amp(x, highHz))} dB`);
  }
});

test("swap-text: chosen rows get another row's text, other rows stay byte-identical", async () => {
  const out = join(work, 'swap');
  const log = await corruptCorpus(corpus, out, { mode: 'swap-text', fraction: 0.5, seed: 9 });
  const src = readFileSync(join(corpus, 'metadata.csv'), 'utf8').split('\n');
  const dst = readFileSync(join(out, 'metadata.csv'), 'utf8').split('\n');
  assert.equal(dst.length, src.length);
  const textOf = (lines: string[], id: string) => lines.find((l) => l.startsWith(`${id}|`))!.split('|')[2];
  for (let i = 0; i < src.length; i++) {
    const id = src[i]!.split('|')[0]!;
    const r = log.corrupted.find((c) => c.id === id);
    if (!r) assert.equal(dst[i], src[i]);
    else {
      assert.notEqual(textOf(dst, id), textOf(src, id));
      assert.equal(textOf(dst, id), textOf(src, r.textFrom as string));
    }
  }
  for (const id of ids) assert.deepEqual(bytes(join(out, 'wavs', `${id}.wav`)), bytes(join(corpus, 'wavs', `${id}.wav`)));
});

test('replace-voice: chosen audio is the donor file of the same id', async () => {
  const donor = mkdtempSync(join(work, 'donor-'));
  for (const id of ids) writeWav(join(donor, 'wavs', `${id}.wav`), tone(0.7, 1234, 22050, 0.2, 77), 22050);
  const out = join(work, 'rv');
  const log = await corruptCorpus(corpus, out, { mode: 'replace-voice', fraction: 0.5, seed: 1, donor });
  for (const r of log.corrupted) assert.deepEqual(bytes(join(out, 'wavs', `${r.id}.wav`)), bytes(join(donor, 'wavs', `${r.id}.wav`)));
});

test('mistakes are UserErrors raised before anything is written', async () => {
  const out = join(work, 'never');
  const bad = async (opts: Parameters<typeof corruptCorpus>[2], re: RegExp) => {
    await assert.rejects(corruptCorpus(corpus, out, opts), (e: Error) => e.name === 'UserError' && re.test(e.message));
    assert.ok(!existsSync(out));
    assert.deepEqual(
      readdirSync(work).filter((f) => f.startsWith('.never')),
      [],
    );
  };
  await bad({ mode: 'clip', fraction: 1.5, seed: 1, level: 0.5 }, /--fraction: expected a number in \[0, 1\]/);
  await bad({ mode: 'clip', fraction: -0.1, seed: 1, level: 0.5 }, /--fraction/);
  await bad({ mode: 'reverb', fraction: 0.5, seed: 1 }, /unknown mode 'reverb'/);
  await bad({ mode: 'noise', fraction: 0.5, seed: 1, snr: 10, noise: 'brown' }, /unknown noise 'brown'/);
  await bad({ mode: 'bandlimit', fraction: 0.5, seed: 1, cutoff: 20000 }, /Nyquist/);
  const donor = mkdtempSync(join(work, 'partial-donor-'));
  writeWav(join(donor, 'wavs', `${split.train[0]}.wav`), tone(0.7, 300), 22050);
  await bad({ mode: 'replace-voice', fraction: 1, seed: 1, donor }, /no wavs\/u\d\d\.wav \(and \d+ more/);
  await assert.rejects(
    corruptCorpus(corpus, join(corpus, 'inside'), { mode: 'swap-text', fraction: 0.5, seed: 1 }),
    /outside the source corpus/,
  );
});
