import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng.js';
import type { Mel } from '../audio/mel.js';
import type { MelCepstra } from './mcep.js';
import {
  frechetDistance,
  gaussianOf,
  melSpeechFrames,
  naturalnessRef,
  scoreSet,
  scoreUtterance,
  sqrtmPsd,
  symmetricEigen,
  utteranceNaturalness,
  type Gaussian,
} from './naturalness.js';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);

/** A random symmetric positive-definite n×n matrix (A Aᵀ + εI). */
function spd(n: number, rng: Rng, eps = 0.1): Float64Array {
  const a = Float64Array.from({ length: n * n }, () => rng.normal());
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? eps : 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * a[j * n + k]!;
      out[i * n + j] = s;
    }
  return out;
}

function mm(a: ArrayLike<number>, b: ArrayLike<number>, n: number, bT = false): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * (bT ? b[j * n + k]! : b[k * n + j]!);
      out[i * n + j] = s;
    }
  return out;
}

/** A random rotation (orthonormal columns of the eigenvectors of a random SPD matrix). */
const rotation = (n: number, rng: Rng) => symmetricEigen(spd(n, rng), n).vectors;

test('symmetricEigen and sqrtmPsd: V diag(λ) Vᵀ = A, VᵀV = I, sqrtm(A)² = A (24 × 24)', () => {
  const rng = new Rng(1);
  const n = 24;
  const a = spd(n, rng);
  const { values, vectors: V } = symmetricEigen(a, n);
  const vl = Float64Array.from({ length: n * n }, (_, i) => V[i]! * values[i % n]!);
  const back = mm(vl, V, n, true);
  const scale = Math.max(...values);
  for (let i = 0; i < n * n; i++) close(back[i]!, a[i]!, 1e-10 * scale, 'VΛVᵀ');
  const vtv = mm(
    Float64Array.from({ length: n * n }, (_, i) => V[(i % n) * n + Math.floor(i / n)]!),
    V,
    n,
  );
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) close(vtv[i * n + j]!, i === j ? 1 : 0, 1e-12, 'VᵀV');
  const s = sqrtmPsd(a, n);
  const s2 = mm(s, s, n);
  for (let i = 0; i < n * n; i++) close(s2[i]!, a[i]!, 1e-9 * scale, 'S²');
  // a rank-deficient PSD matrix (one direction of zero variance) has a real square root too
  const v = Float64Array.from({ length: 3 }, () => rng.normal());
  const r1 = Float64Array.from({ length: 9 }, (_, i) => v[Math.floor(i / 3)]! * v[i % 3]!);
  const r = sqrtmPsd(r1, 3);
  const r2 = mm(r, r, 3);
  for (let i = 0; i < 9; i++) close(r2[i]!, r1[i]!, 1e-12, 'rank-1 S²');
});

const gauss = (mean: ArrayLike<number>, cov: ArrayLike<number>): Gaussian => ({
  mean: Float64Array.from(mean),
  cov: Float64Array.from(cov),
  n: 100,
});

test('Fréchet distance against closed forms: equal → 0, shifted means → ‖Δμ‖², diagonal → ‖Δμ‖² + Σ(σ_a − σ_b)², rotation-invariant, scaled covariance → (1 − c)² tr Σ', () => {
  const rng = new Rng(2);
  const n = 24;
  const cov = spd(n, rng);
  const mu = Float64Array.from({ length: n }, () => rng.normal());
  close(frechetDistance(gauss(mu, cov), gauss(mu, cov)), 0, 1e-9, 'equal');
  const shift = Float64Array.from({ length: n }, () => 0.3 * rng.normal());
  const dm2 = shift.reduce((a, v) => a + v * v, 0);
  close(
    frechetDistance(
      gauss(mu, cov),
      gauss(
        mu.map((v, i) => v + shift[i]!),
        cov,
      ),
    ),
    dm2,
    1e-9,
    'shifted',
  );
  // diagonal covariances: the Gaussians' W₂² has the closed form Σ(σ_a − σ_b)²
  const sa = Float64Array.from({ length: n }, () => 0.2 + Math.abs(rng.normal()));
  const sb = Float64Array.from({ length: n }, () => 0.2 + Math.abs(rng.normal()));
  const diag = (s: Float64Array) => Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? s[i / (n + 1)]! ** 2 : 0));
  const expected = dm2 + sa.reduce((a, v, i) => a + (v - sb[i]!) ** 2, 0);
  const fdDiag = frechetDistance(
    gauss(mu, diag(sa)),
    gauss(
      mu.map((v, i) => v + shift[i]!),
      diag(sb),
    ),
  );
  close(fdDiag, expected, 1e-9, 'diagonal');
  // the same pair rotated into full, non-commuting-looking covariances R D Rᵀ
  const R = rotation(n, rng);
  const rot = (d: Float64Array) => mm(mm(R, d, n), R, n, true);
  const rotMean = (m: Float64Array) => Float64Array.from({ length: n }, (_, i) => m.reduce((a, v, k) => a + R[i * n + k]! * v, 0));
  close(
    frechetDistance(gauss(rotMean(mu), rot(diag(sa))), gauss(rotMean(mu.map((v, i) => v + shift[i]!)), rot(diag(sb)))),
    expected,
    1e-8,
    'rotated',
  );
  // Σ_b = c² Σ_a: tr Σ_a (1 + c² − 2c)
  const c = 1.7;
  const trA = Array.from({ length: n }, (_, i) => cov[i * (n + 1)]!).reduce((a, v) => a + v, 0);
  close(
    frechetDistance(
      gauss(mu, cov),
      gauss(
        mu,
        cov.map((v) => c * c * v),
      ),
    ),
    (1 - c) ** 2 * trA,
    1e-8 * trA,
    'scaled',
  );
  // symmetric in its arguments although the formula is not written symmetrically
  const other = spd(n, rng);
  close(frechetDistance(gauss(mu, cov), gauss(mu, other)), frechetDistance(gauss(mu, other), gauss(mu, cov)), 1e-8, 'symmetric');
});

test('gaussianOf: sample mean and unbiased covariance of frame sums', () => {
  // frames (1, 2), (3, 6), (5, 4): mean (3, 4); cov [[4, 2], [2, 4]]
  const sums = { dim: 2, sum: Float64Array.from([9, 12]), outer: Float64Array.from([35, 40, 40, 56]), n: 3 };
  const g = gaussianOf(sums)!;
  assert.deepEqual(Array.from(g.mean), [3, 4]);
  assert.deepEqual(Array.from(g.cov), [4, 2, 2, 4]);
  assert.equal(gaussianOf({ dim: 2, sum: new Float64Array(2), outer: new Float64Array(4), n: 1 }), null);
});

/** A synthetic ln-mel [bands, frames]: level + amp·N(0,1) per cell, with `silence` quiet frames at the start. */
function melOf(rng: Rng, bands: number, frames: number, amp: (b: number) => number, offset = 0, silence = 0): Mel {
  const data = new Float32Array(bands * frames);
  for (let b = 0; b < bands; b++)
    for (let t = 0; t < frames; t++) data[b * frames + t] = t < silence ? -11 : -2 - 0.05 * b + offset + amp(b) * rng.normal();
  return { data, nMels: bands, frames };
}

/** Mel-cepstra [frames, 3]: c̃0 = 0 (all speech), c̃1, c̃2 ~ N(mean, 1). */
function mcepOf(rng: Rng, frames: number, mean = 0): MelCepstra {
  const data = new Float64Array(frames * 3);
  for (let t = 0; t < frames; t++) {
    data[t * 3 + 1] = mean + rng.normal();
    data[t * 3 + 2] = rng.normal();
  }
  return { data, frames, order: 2 };
}

test('speech frames of a ln-mel: frames more than 30 dB below the loudest are left out', () => {
  const rng = new Rng(3);
  const mel = melOf(rng, 8, 50, () => 0.1, 0, 10); // frames 0…9 at ln −11: ≈ 78 dB below
  assert.deepEqual(
    melSpeechFrames(mel),
    Array.from({ length: 40 }, (_, i) => i + 10),
  );
});

test('GV and mean log-mel distance: recordings vs recordings ≈ 0; a band with k× the spread reads 20·log10 k dB; an offset δ reads |δ|; silence does not count', () => {
  const rng = new Rng(4);
  const B = 10;
  const refUtts = Array.from(
    { length: 30 },
    () =>
      utteranceNaturalness(
        melOf(rng, B, 400, () => 0.5),
        mcepOf(rng, 400),
      )!,
  );
  const ref = naturalnessRef(refUtts);
  const same = Array.from(
    { length: 30 },
    () =>
      utteranceNaturalness(
        melOf(rng, B, 400, () => 0.5, 0, 100),
        mcepOf(rng, 400),
      )!,
  );
  const s0 = scoreSet(same, ref)!;
  close(s0.gvDb, 0, 0.05, 'same-source gvDb');
  close(s0.melDist, 0, 0.06, 'same-source melDist');
  assert.ok(s0.setFd < 0.01, `same-source FD ${s0.setFd}`);
  // half the spread in every band: −6.02 dB; twice the spread in band 3 only: +6.02/B on the mean
  const smooth = Array.from(
    { length: 30 },
    () =>
      utteranceNaturalness(
        melOf(rng, B, 400, () => 0.25),
        mcepOf(rng, 400),
      )!,
  );
  close(scoreSet(smooth, ref)!.gvDb, 20 * Math.log10(0.5), 0.08, 'over-smoothed');
  const loud3 = scoreSet(
    Array.from(
      { length: 30 },
      () =>
        utteranceNaturalness(
          melOf(rng, B, 400, (b) => (b === 3 ? 1 : 0.5)),
          mcepOf(rng, 400),
        )!,
    ),
    ref,
  )!;
  close(loud3.gvPerBand[3]!, 20 * Math.log10(2), 0.3, 'band 3'); // per band the two sets' log-variances each have sd ≈ 0.06 dB
  close(loud3.gvDb, (20 * Math.log10(2)) / B, 0.06, 'band 3 on the mean');
  const shifted = scoreSet(
    Array.from(
      { length: 30 },
      () =>
        utteranceNaturalness(
          melOf(rng, B, 400, () => 0.5, 0.7),
          mcepOf(rng, 400, 0.5),
        )!,
    ),
    ref,
  )!;
  close(shifted.melDist, 0.7, 0.06, 'offset');
  // c̃1 shifted by 0.5 with unit variances: FD ≈ 0.25
  close(shifted.setFd, 0.25, 0.03, 'FD of a shifted cepstrum');
  // per utterance: the set value of GV is exactly the mean of the per-utterance values
  const per = smooth.map((u) => scoreUtterance(u, ref));
  close(per.reduce((a, x) => a + x.gvDb, 0) / per.length, scoreSet(smooth, ref)!.gvDb, 1e-9, 'per-utterance mean');
  assert.ok(
    per.every((x) => Number.isFinite(x.mcepFd) && x.mcepFd < 0.1),
    'per-utterance FD of same-distribution frames is small',
  );
});
