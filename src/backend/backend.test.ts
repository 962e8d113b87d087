import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../testing/paths.js';

test('difftts backend picks a working backend and explains the skipped ones', () => {
  const r = spawnSync(process.execPath, [cliPath, 'backend'], { encoding: 'utf8', env: { ...process.env, DIFFTTS_BACKEND: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: (tfjs-node-gpu|tfjs-node|wasm|cpu) /);
  // On a machine without the native packages, each skipped one has a reason.
  if (/backend: wasm/.test(r.stdout)) assert.match(r.stdout, /not tfjs-node-gpu: .+\n\s+not tfjs-node: .+/);
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
