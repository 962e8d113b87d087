import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mel } from '../audio/mel.js';
import { readNpy } from '../util/npy.js';
import { speechFixtures } from '../testing/paths.js';
import { Rng } from '../util/rng.js';
import { dct2, dctMatrix, melCepstra } from './cepstrum.js';
import { MCD_DB, mcdDtw } from './mcd.js';

function fixtureMel(k = 2): Mel {
  const { data, shape } = readNpy(speechFixtures()[k]!.mel, { rank: 2 });
  return { data, nMels: shape[0]!, frames: shape[1]! };
}

/** Applies f(bin, frame, value) to every cell. */
function mapMel(m: Mel, f: (b: number, t: number, v: number) => number, frames = m.frames, src = (t: number) => t): Mel {
  const data = new Float32Array(m.nMels * frames);
  for (let b = 0; b < m.nMels; b++) for (let t = 0; t < frames; t++) data[b * frames + t] = f(b, t, m.data[b * m.frames + src(t)]!);
  return { data, nMels: m.nMels, frames };
}

test('the DCT-II is orthonormal: B·Bᵀ = I, a constant maps to c0 only, Parseval holds', () => {
  const N = 16;
  const B = dctMatrix(N);
  for (let a = 0; a < N; a++) {
    for (let b = 0; b < N; b++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += B[a * N + n]! * B[b * N + n]!;
      assert.ok(Math.abs(s - (a === b ? 1 : 0)) < 1e-12, `(${a},${b})`);
    }
  }
  const c = dct2(new Array(N).fill(3));
  assert.ok(Math.abs(c[0]! - 3 * Math.sqrt(N)) < 1e-12);
  for (let k = 1; k < N; k++) assert.ok(Math.abs(c[k]!) < 1e-12);
  const x = Array.from({ length: N }, (_, i) => Math.sin(i * 1.7) + i / 5);
  const e1 = x.reduce((a, v) => a + v * v, 0);
  const e2 = dct2(x).reduce((a, v) => a + v * v, 0);
  assert.ok(Math.abs(e1 - e2) < 1e-9);
});

test('melCepstra matches dct2 per frame', () => {
  const mel = fixtureMel();
  const cep = melCepstra(mel, 24, 1);
  for (const t of [0, 100, mel.frames - 1]) {
    const frame = Array.from({ length: mel.nMels }, (_, b) => mel.data[b * mel.frames + t]!);
    const ref = dct2(frame);
    for (let k = 0; k < 24; k++) assert.ok(Math.abs(cep[t * 24 + k]! - ref[k + 1]!) < 1e-9);
  }
});

test('MCD of a mel with itself is 0 on the diagonal path', () => {
  const mel = fixtureMel();
  const { mcd, alignment } = mcdDtw(mel, mel);
  assert.equal(mcd, 0);
  assert.equal(alignment.path.length, mel.frames);
  alignment.path.forEach(([i, j]) => assert.equal(i, j));
});

test('MCD of a time-stretched copy (frames repeated) is 0 and the path follows the stretch', () => {
  const mel = fixtureMel();
  const stretched = mapMel(mel, (_b, _t, v) => v, mel.frames * 2, (t) => t >> 1);
  const { mcd, alignment } = mcdDtw(stretched, mel);
  assert.equal(mcd, 0);
  assert.equal(alignment.path.length, 2 * mel.frames);
  alignment.path.forEach(([i, j]) => assert.equal(j, i >> 1));
});

test('MCD ignores a gain change (c0 dropped) and equals MCD_DB·α for a shift α along one cepstral basis', () => {
  const mel = fixtureMel();
  assert.ok(mcdDtw(mapMel(mel, (_b, _t, v) => v + 0.7), mel).mcd < 1e-5, 'gain');
  // distinct random frames so the diagonal is the only cheap alignment
  const rng = new Rng(3);
  const rand: Mel = { data: Float32Array.from({ length: 80 * 50 }, () => 3 * rng.normal()), nMels: 80, frames: 50 };
  const B = dctMatrix(80);
  const alpha = 0.25;
  const k = 5;
  const shifted = mapMel(rand, (b, _t, v) => v + alpha * B[k * 80 + b]!);
  const { mcd, alignment } = mcdDtw(shifted, rand);
  assert.equal(alignment.path.length, 50);
  assert.ok(Math.abs(mcd - MCD_DB * alpha) < 1e-5, `mcd ${mcd} vs ${MCD_DB * alpha}`);
  // c25 is beyond order 24: invisible to MCD
  assert.ok(mcdDtw(mapMel(rand, (b, _t, v) => v + alpha * B[25 * 80 + b]!), rand).mcd < 1e-5);
});
