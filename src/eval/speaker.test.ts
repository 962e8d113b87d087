import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readWav } from '../audio/wav.js';
import { fixturesDir, repoRoot } from '../testing/paths.js';
import { MCD_DB } from './mcd.js';
import { melCepstrum, type MelCepstra } from './mcep.js';
import { auc, equalErrorRate, speakerDistance, speakerStats, speechFrames } from './speaker.js';
import { evaluatePair } from './evaluate.js';
import { logMel } from '../audio/mel.js';

test('speaker statistics: identical sets are 0 apart; a mean shift Δ gives MCD_DB·|Δ|; a std change adds in quadrature', () => {
  const frames = 40;
  const mk = (f: (t: number, d: number) => number): MelCepstra => {
    const data = new Float64Array(frames * 25);
    for (let t = 0; t < frames; t++) {
      data[t * 25] = 0; // every frame at full level: all are speech
      for (let d = 1; d <= 24; d++) data[t * 25 + d] = f(t, d);
    }
    return { data, frames, order: 24 };
  };
  const base = mk((t, d) => Math.sin(t * 0.7 + d) + (t % 2 ? 0.5 : -0.5));
  const a = speakerStats([base]);
  assert.equal(speakerDistance(a, a), 0);
  const shifted = speakerStats([mk((t, d) => Math.sin(t * 0.7 + d) + (t % 2 ? 0.5 : -0.5) + (d === 3 ? 0.3 : d === 9 ? 0.4 : 0))]);
  assert.ok(Math.abs(speakerDistance(shifted, a) - MCD_DB * 0.5) < 1e-9);
  // scaling dimension 5 about its mean by 2 doubles its std: Δσ = σ₅
  const m5 = a.mean[4]!;
  const scaled = speakerStats([
    mk((t, d) => {
      const v = Math.sin(t * 0.7 + d) + (t % 2 ? 0.5 : -0.5);
      return d === 5 ? m5 + 2 * (v - m5) : v;
    }),
  ]);
  assert.ok(Math.abs(speakerDistance(scaled, a) - MCD_DB * a.std[4]!) < 1e-9);
});

test('speech frames: c̃(0) within 30 dB of the loudest frame', () => {
  const c0 = [0, -1, -3.4, -3.5, -10]; // ln amplitude; 30 dB = 3.454 nepers
  const data = new Float64Array(5 * 25);
  c0.forEach((v, t) => (data[t * 25] = v));
  assert.deepEqual(speechFrames({ data, frames: 5, order: 24 }), [0, 1, 2]);
});

test('auc and equalErrorRate: perfect, inverted, tied and half-overlapping scores', () => {
  assert.equal(auc([1, 2], [3, 4]), 1);
  assert.equal(auc([3, 4], [1, 2]), 0);
  assert.equal(auc([1], [1]), 0.5);
  assert.equal(auc([1, 3], [2, 4]), 0.75);
  assert.equal(equalErrorRate([1, 2], [3, 4]), 0);
  assert.equal(equalErrorRate([1, 3], [2, 4]), 0.5);
});

test("Allison vs flite slt on the committed corpora: same-voice utterances are nearer Allison's references (AUC ≥ 0.9), also through Griffin-Lim", () => {
  const rows = readFileSync(join(repoRoot, 'datasets', 'allison-mini', 'metadata.csv'), 'utf8')
    .trim()
    .split('\n');
  const ids = rows
    .filter((_, i) => i % 6 === 0)
    .map((r) => r.split('|')[0]!)
    .slice(0, 22);
  const cep = (path: string) => melCepstrum(readWav(path).samples);
  const allison = (id: string) => cep(join(repoRoot, 'datasets', 'allison-mini', 'wavs', `${id}.wav`));
  const slt = (id: string) => cep(join(repoRoot, 'datasets', 'allison-mini-donor', 'wavs', `${id}.wav`));
  const refs = speakerStats(ids.slice(0, 12).map(allison));
  const same = ids.slice(12).map((id) => speakerDistance(speakerStats([allison(id)]), refs));
  const other = ids.slice(12).map((id) => speakerDistance(speakerStats([slt(id)]), refs));
  const a = auc(same, other);
  assert.ok(a >= 0.9, `AUC ${a}: same ${same.map((v) => v.toFixed(1))} other ${other.map((v) => v.toFixed(1))}`);
  // the committed Griffin-Lim resyntheses of two Allison clips (test/fixtures/sptk) stay nearer than flite slt's mean distance
  const mean = other.reduce((s, v) => s + v, 0) / other.length;
  for (const id of ['agent-loginok', 'call-fwd-on-busy']) {
    const d = speakerDistance(speakerStats([cep(join(fixturesDir, 'sptk', `${id}.gl.wav`))]), refs);
    assert.ok(d < mean, `${id} through Griffin-Lim: ${d} vs other-voice mean ${mean}`);
  }
});

test('evaluatePair reports the speaker distance to the given reference statistics (0 against its own)', () => {
  const w = readWav(join(repoRoot, 'datasets', 'allison-mini', 'wavs', 'agent-loginok.wav')).samples;
  const u = { wav: w, mel: logMel(w) };
  const own = speakerStats([melCepstrum(w)]);
  assert.equal(evaluatePair(u, u, 22050, { speaker: own }).speakerDist, 0);
  const slt = readWav(join(repoRoot, 'datasets', 'allison-mini-donor', 'wavs', 'agent-loginok.wav')).samples;
  assert.ok(evaluatePair({ wav: slt, mel: logMel(slt) }, u, 22050, { speaker: own }).speakerDist > 5);
});
