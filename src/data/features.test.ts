import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareFeatures, loadFeatures, openDataset } from './features.js';
import { computeSplit } from './split.js';
import { readWav, writeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { logMel, DEFAULT_MEL } from '../audio/mel.js';
import { textToIds } from '../text/index.js';
import { makeCorpus, makeSpeakerCorpus, tone } from '../testing/corpora.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'difftts-feat-'));

test('prepare caches exactly logMel and textToIds, and loadFeatures reads them back', async () => {
  const corpus = makeCorpus(8);
  const out = join(tmp(), 'features');
  const fs = await prepareFeatures(corpus, out);
  assert.equal(fs.utterances.size, 8);
  assert.deepEqual(fs.report!.computed.length, 8);
  const loaded = loadFeatures(out);
  for (const id of ['u00', 'u05']) {
    const ref = logMel(readWav(join(corpus, 'wavs', `${id}.wav`)).samples, DEFAULT_MEL);
    for (const u of [fs.utterances.get(id)!, loaded.utterances.get(id)!]) {
      assert.equal(u.mel.frames, ref.frames);
      assert.equal(u.mel.nMels, 80);
      assert.deepEqual(u.mel.data, ref.data);
    }
    const text = readFileSync(join(corpus, 'metadata.csv'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${id}|`))!
      .split('|')[2]!;
    assert.deepEqual(loaded.utterances.get(id)!.ids, textToIds(text).ids);
  }
  // The split is the shared seeded split over the corpus ids.
  assert.deepEqual(loaded.splits, computeSplit(Array.from({ length: 8 }, (_, i) => `u0${i}`)));
  assert.deepEqual(loaded.textConfig, { mode: 'phonemes', addBlank: true });
  rmSync(corpus, { recursive: true });
  rmSync(out, { recursive: true });
});

test('a changed wav or text invalidates only its own entry; a changed parameter invalidates all mels', async () => {
  const corpus = makeCorpus(6);
  const out = join(tmp(), 'features');
  await prepareFeatures(corpus, out);
  writeWav(join(corpus, 'wavs', 'u02.wav'), tone(0.9, 555), 22050);
  const meta = join(corpus, 'metadata.csv');
  writeFileSync(meta, readFileSync(meta, 'utf8').replace(/^u04\|.*$/m, 'u04|A brand new sentence.|A brand new sentence.'));
  const again = await prepareFeatures(corpus, out);
  assert.deepEqual(again.report!.computed, ['u02']);
  assert.equal(again.report!.reused.length, 5);
  assert.deepEqual(again.utterances.get('u04')!.ids, textToIds('A brand new sentence.').ids);
  const ref = logMel(readWav(join(corpus, 'wavs', 'u02.wav')).samples);
  assert.deepEqual(loadFeatures(out).utterances.get('u02')!.mel.data, ref.data);
  // Old mel files of replaced entries are removed.
  assert.equal(readdirSync(join(out, 'mels')).length, 6);
  const hop = await prepareFeatures(corpus, out, { melConfig: { ...DEFAULT_MEL, hop: 200 } });
  assert.equal(hop.report!.computed.length, 6);
  assert.equal(readdirSync(join(out, 'mels')).length, 6);
  rmSync(corpus, { recursive: true });
  rmSync(out, { recursive: true });
});

test('other sample rates are resampled before the mel; unusable rows fail or are skipped', async () => {
  const corpus = makeCorpus(6);
  writeWav(join(corpus, 'wavs', 'u01.wav'), tone(0.8, 300, 16000), 16000);
  writeFileSync(join(corpus, 'wavs', 'u03.wav'), 'garbage');
  const out = join(tmp(), 'features');
  await assert.rejects(
    prepareFeatures(corpus, out),
    (e: Error) => e.name === 'UserError' && /1 unusable rows; first: .*u03\.wav/.test(e.message) && !e.message.includes('\n'),
  );
  assert.ok(!existsSync(join(out, 'manifest.json')));
  const warnings: string[] = [];
  const fs = await prepareFeatures(corpus, out, { skipBad: true, warn: (l) => warnings.push(l) });
  assert.ok(!fs.utterances.has('u03'));
  assert.equal(fs.report!.skipped[0]!.id, 'u03');
  assert.ok(warnings.some((w) => /16000 Hz, resampled/.test(w)));
  const a = readWav(join(corpus, 'wavs', 'u01.wav'));
  assert.deepEqual(fs.utterances.get('u01')!.mel.data, logMel(resample(a.samples, 16000, 22050)).data);
  rmSync(corpus, { recursive: true });
  rmSync(out, { recursive: true });
});

test('openDataset accepts a corpus (cached inside it) or a features dir; rejects anything else', async () => {
  const corpus = makeCorpus(5);
  const a = await openDataset(corpus);
  assert.ok(existsSync(join(corpus, '.difftts-features', 'manifest.json')));
  const b = await openDataset(join(corpus, '.difftts-features'));
  assert.deepEqual([...b.utterances.keys()], [...a.utterances.keys()]);
  const c = await openDataset(corpus);
  assert.equal(c.report!.reused.length, 5);
  const empty = tmp();
  await assert.rejects(openDataset(empty), /neither a features directory/);
  writeFileSync(join(empty, 'manifest.json'), '{"format":"other"}');
  assert.throws(() => loadFeatures(empty), /not a difftts features manifest/);
  rmSync(corpus, { recursive: true });
  rmSync(empty, { recursive: true });
});

test("speakers: a VCTK corpus prepares with each utterance's speaker, the speaker list and a per-speaker split; old caches load as one unnamed speaker", async () => {
  const corpus = makeSpeakerCorpus('vctk', ['p225', 'p226', 'p227'], 12);
  const out = join(tmp(), 'features');
  const fs = await prepareFeatures(corpus, out, { valid: 3, test: 3 });
  const loaded = loadFeatures(out);
  for (const set of [fs, loaded]) {
    assert.deepEqual(set.speakers, ['p225', 'p226', 'p227']);
    assert.equal(set.utterances.get('p226_004')!.speaker, 'p226');
    for (const split of Object.values(set.splits) as string[][])
      assert.deepEqual([...new Set(split.map((id) => id.slice(0, 4)))], ['p225', 'p226', 'p227']);
  }
  // A cache written before speakers existed: no speakers list, no speaker fields.
  const single = makeCorpus(6);
  const old = join(tmp(), 'features');
  await prepareFeatures(single, old);
  const m = JSON.parse(readFileSync(join(old, 'manifest.json'), 'utf8'));
  delete m.speakers;
  for (const u of m.utterances) delete u.speaker;
  writeFileSync(join(old, 'manifest.json'), JSON.stringify(m));
  const back = loadFeatures(old);
  assert.deepEqual(back.speakers, []);
  assert.deepEqual(
    [...back.utterances.values()].map((u) => u.speaker),
    Array(6).fill(null),
  );
  assert.deepEqual(back.splits, computeSplit(Array.from({ length: 6 }, (_, i) => `u0${i}`)));
  // openDataset prepares a VCTK folder as it does an LJSpeech one.
  assert.deepEqual((await openDataset(corpus, { valid: 3, test: 3 })).speakers, ['p225', 'p226', 'p227']);
  for (const d of [corpus, out, single, old]) rmSync(d, { recursive: true });
});
