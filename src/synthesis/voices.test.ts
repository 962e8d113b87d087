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
