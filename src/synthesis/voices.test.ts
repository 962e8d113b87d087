/**
 * The shipped voices, as a user gets them after `npm install`: weights-only checkpoints of at most
 * 10 MB with their licence, loadable by --checkpoint, that speak a sentence at their own defaults.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend/index.js';
import { readWav } from '../audio/wav.js';
import { repoRoot } from '../testing/paths.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { loadModel } from './model.js';
import { synthesizeToFiles } from './batch.js';
import { medianF0, yin } from '../eval/yin.js';

before(async () => {
  await initBackend('wasm');
});

const out = mkdtempSync(join(tmpdir(), 'difftts-pretrained-'));

for (const [name, steps] of [
  ['allison-enc128-shallow', 10],
  ['allison-enc128', 0],
  ['allison-tiny', 10],
] as const) {
  test(`pretrained/${name}: ≤ 10 MB of weights, no optimizer state, licensed, speaks with synth.steps ${steps}`, async () => {
    const dir = join(repoRoot, 'pretrained', name);
    assert.ok(statSync(join(dir, 'weights.bin')).size <= 10e6);
    assert.ok(existsSync(join(dir, 'LICENSE')) && existsSync(join(dir, 'README.md')));
    assert.equal(readCheckpoint(dir).optimizer, null);
    const lm = loadModel(dir);
    assert.equal(lm.synth.steps, steps, 'the synthesis default its README states');
    const [f] = await synthesizeToFiles({ checkpoint: dir, loaded: lm, texts: ['Please hold.'], out: join(out, `${name}.wav`), iters: 8 });
    lm.model.dispose();
    // two words at Allison's pace: between half a second and three seconds, not silent
    assert.ok(f!.seconds > 0.5 && f!.seconds < 3, `${f!.seconds} s`);
    const s = readWav(f!.wav).samples;
    assert.ok(Math.sqrt(s.reduce((a, v) => a + v * v, 0) / s.length) > 0.01, 'silent');
  });
}

test('pretrained/allison-enc128-shallow: allison-enc128 with a retrained decoder (encoder and duration predictor bit for bit), shallow diffusion by default', () => {
  const shallow = readCheckpoint(join(repoRoot, 'pretrained', 'allison-enc128-shallow'));
  const base = readCheckpoint(join(repoRoot, 'pretrained', 'allison-enc128'));
  let decoderMoved = 0;
  for (const [name, w] of shallow.weights) {
    const b = base.weights.get(name)!;
    if (name.startsWith('decoder.')) decoderMoved += w.data.some((x, i) => x !== b.data[i]) ? 1 : 0;
    else assert.deepEqual(w.data, b.data, `${name} is allison-enc128's`);
  }
  assert.ok(decoderMoved > 100, `${decoderMoved} decoder tensors retrained`);
  const lm = loadModel(join(repoRoot, 'pretrained', 'allison-enc128-shallow'));
  assert.deepEqual(lm.synth, { steps: 10, temperature: 3, lengthScale: 1, startTime: 0.4 });
  lm.model.dispose();
});

test('pretrained/voices-multi: six named speakers, each speaks in its own voice; a missing or unknown speaker is one line naming them', async () => {
  const dir = join(repoRoot, 'pretrained', 'voices-multi');
  assert.ok(statSync(join(dir, 'weights.bin')).size <= 15e6);
  assert.ok(existsSync(join(dir, 'LICENSE')) && existsSync(join(dir, 'README.md')));
  assert.equal(readCheckpoint(dir).optimizer, null);
  const lm = loadModel(dir);
  try {
    assert.deepEqual([...lm.speakers].sort(), ['allison', 'awb', 'kal', 'rms', 'slt', 'slt-hts']);
    const speak = (speaker: string | undefined) =>
      synthesizeToFiles({
        checkpoint: dir,
        loaded: lm,
        texts: ['Please hold.'],
        out: join(out, `multi-${speaker}.wav`),
        iters: 8,
        speaker,
      });
    await assert.rejects(speak(undefined), /no speaker chosen: this voice has 6 speakers.*allison/);
    await assert.rejects(speak('nobody'), /speaker 'nobody' is not one of this voice's 6 speakers.*rms/);
    const mels = new Map<string, Float32Array>();
    for (const s of ['allison', 'rms', 'kal']) {
      const [f] = await speak(s);
      assert.ok(f!.seconds > 0.4 && f!.seconds < 3, `${s}: ${f!.seconds} s`);
      mels.set(s, readWav(f!.wav).samples);
    }
    // the same text and seed in a female and a male voice: the pitch follows the speaker row
    // YIN's default threshold (0.2) finds few voiced frames in a male voice's μ through 8 Griffin-Lim
    // iterations (smeared low harmonics); 0.5 tracks both (measured: allison 195 Hz, rms 117 Hz)
    const f0 = (k: string) => medianF0(yin(mels.get(k)!, 22050, { threshold: 0.5 }));
    assert.ok(f0('allison') > 1.4 * f0('rms'), `median F0 allison ${f0('allison')} Hz, rms ${f0('rms')} Hz`);
  } finally {
    lm.model.dispose();
  }
});
