import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cliPath } from '../testing/paths.js';
import { adapterFromInfo, describeAdapter, probeAdapter } from './webgpu.js';

const probe = await probeAdapter();
const noAdapter = 'reason' in probe ? `no WebGPU adapter: ${probe.reason}` : false;

test('adapter classification: CPU rasterisers are software, GPUs hardware', () => {
  // what Mesa 25 lavapipe reports through Dawn
  const lavapipe = adapterFromInfo({
    vendor: 'mesa',
    architecture: 'software',
    device: 'llvmpipe-llvm-15-0-6-256-bits-',
    description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)',
  });
  assert.equal(lavapipe.software, true);
  assert.equal(
    adapterFromInfo({ vendor: 'google', device: 'swiftshader-device', description: 'SwiftShader Device (Subzero)' }).software,
    true,
  );
  assert.equal(adapterFromInfo({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }).software, true);
  assert.equal(adapterFromInfo({ vendor: 'nvidia' }, true).software, true, 'the fallback flag alone');
  const nv = adapterFromInfo({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' });
  assert.equal(nv.software, false);
  assert.equal(adapterFromInfo({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M2' }).software, false);
  assert.match(describeAdapter(nv), /^nvidia hopper \(NVIDIA H100 80GB HBM3\), hardware adapter$/);
  assert.match(describeAdapter(lavapipe), /software adapter/);
});

test('auto pick: a software adapter is skipped with its name and the way to ask for it', {
  skip: noAdapter || ('adapter' in probe && !probe.adapter.software ? 'a hardware adapter is present' : false),
}, () => {
  const r = spawnSync(process.execPath, [cliPath, 'backend'], { encoding: 'utf8', env: { ...process.env, DIFFTTS_BACKEND: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /^backend: webgpu/);
  assert.match(r.stdout, /not webgpu: only a software adapter: .+; used only when asked for \(--backend webgpu\)/);
});

test('--backend webgpu names the adapter, hardware or software, and why the others are not used', { skip: noAdapter }, () => {
  const r = spawnSync(process.execPath, [cliPath, '--backend', 'webgpu', 'backend'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^backend: webgpu \(tfjs 'webgpu'\) — requested by --backend\n\s+adapter: .+, (software adapter \(runs on the CPU\)|hardware adapter)\n/,
  );
  for (const n of ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']) assert.match(r.stdout, new RegExp(`not ${n}: not requested`));
  assert.match(r.stdout, /AddN/);
});

test('without the webgpu package or an adapter, --backend webgpu is a one-line error', {
  skip: noAdapter ? false : 'an adapter is present',
}, () => {
  const r = spawnSync(process.execPath, [cliPath, '--backend', 'webgpu', 'backend'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /backend 'webgpu' was requested \(--backend\) but is unavailable: /);
});

test('the package lists Dawn and the tfjs webgpu backend as optional (npm ci succeeds without them)', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  assert.ok(pkg.optionalDependencies.webgpu && pkg.optionalDependencies['@tensorflow/tfjs-backend-webgpu']);
  assert.equal(pkg.dependencies.webgpu, undefined);
});
