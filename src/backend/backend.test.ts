import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../testing/paths.js';

test('difftts backend picks a working backend and explains the skipped ones', () => {
  const r = spawnSync(process.execPath, [cliPath, 'backend'], { encoding: 'utf8', env: { ...process.env, DIFFTTS_BACKEND: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: (tfjs-node-gpu|tfjs-node|wasm|cpu) /);
  // On a machine without the native packages, each skipped one has a reason.
  if (/backend: wasm/.test(r.stdout)) {
    assert.match(r.stdout, /not tfjs-node-gpu: .+\n\s+not webgpu: .+\n\s+not tfjs-node: .+/);
    assert.match(r.stdout, /kernels registered on wasm: .*Conv2DBackpropFilter.*SIMD GEMM/);
  }
});

test('--backend cpu is honoured; an unknown backend is a one-line error with exit 2', () => {
  const ok = spawnSync(process.execPath, [cliPath, '--backend', 'cpu', 'backend'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^backend: cpu .*requested by --backend/);
  const bad = spawnSync(process.execPath, [cliPath, 'backend'], { encoding: 'utf8', env: { ...process.env, DIFFTTS_BACKEND: 'tpu' } });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /DIFFTTS_BACKEND: unknown backend 'tpu' \(expected one of/);
});

test('initBackend("wasm") makes conv weight gradients available (the kernel wasm lacks)', async () => {
  const tf = await import('@tensorflow/tfjs');
  const { capabilities, initBackend } = await import('./index.js');
  const c = await initBackend('wasm');
  assert.equal(c.name, 'wasm');
  // one thread, synchronous reads: difftts's workers pay off and MAS may read inside the tape
  assert.deepEqual(capabilities(), { name: 'wasm', tfName: 'wasm', native: false, parallelisesOps: false, syncReads: true });
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Conv2DBackpropFilter registered');
  const g = tf.grad((w) =>
    tf.conv2d(tf.ones([1, 4, 4, 1]) as import('@tensorflow/tfjs').Tensor4D, w as import('@tensorflow/tfjs').Tensor4D, 1, 'valid').sum(),
  )(tf.ones([3, 3, 1, 1]));
  // each filter tap sees the 2×2 valid output positions of an all-ones input
  assert.deepEqual(Array.from(g.dataSync()), new Array(9).fill(4));
});
