/**
 * The training task registers src/kernels' fast wasm kernels (registerFastWasmKernels), after which
 * ops.ts leaves gradients to tfjs and those kernels. Same whole-model check as gradtts.test.ts, in
 * its own file because the registration is process-wide.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { registerFastWasmKernels } from '../kernels/register.js';
import { parseLossConfig } from '../loss/index.js';
import { Rng } from '../util/rng.js';
import type { Mel } from '../audio/mel.js';
import { GradTTS, type Batch } from './gradtts.js';
import { usesReplacementGrads } from './ops.js';
import { TEST_CFG } from './test-config.js';

const N_SYMBOLS = 12;
const L2 = parseLossConfig({ type: 'l2' }, 'test');

before(async () => {
  await initBackend('wasm');
  registerFastWasmKernels();
});

test('after registration ops.ts uses tfjs gradients on wasm', () => {
  assert.equal(usesReplacementGrads(), false);
});

/** Utterances whose mel frames are a per-token pattern (+ noise), each token held 2–5 frames. */
function makeBatch(seed: number, n = 3): Batch {
  const rng = new Rng(seed);
  const f = TEST_CFG.nFeats;
  const pattern = Array.from({ length: N_SYMBOLS }, () => rng.normals(f));
  const batch: Batch = { ids: [], mels: [] };
  for (let s = 0; s < n; s++) {
    const ids = Int32Array.from({ length: 4 + s }, () => 1 + rng.int(N_SYMBOLS - 1));
    const cols: Float32Array[] = [];
    for (const id of ids) for (let k = 0, d = 2 + rng.int(4); k < d; k++) cols.push(pattern[id]!);
    const frames = cols.length;
    const data = new Float32Array(f * frames);
    for (let r = 0; r < f; r++) for (let j = 0; j < frames; j++) data[r * frames + j] = cols[j]![r]! - 4 + 0.1 * rng.normal();
    batch.ids.push(ids);
    batch.mels.push({ data, nMels: f, frames } satisfies Mel);
  }
  return batch;
}

test('with src/kernels registered on wasm: losses and all weight gradients agree with cpu', async () => {
  const batch = makeBatch(8, 2);
  const run = () => {
    const model = GradTTS.create(TEST_CFG, N_SYMBOLS, 8);
    for (const [name, v] of model.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.5)); // open the ReZero gates
    const { value, grads } = tf.variableGrads(() => model.losses(batch, L2, new Rng(2), true).total);
    const out = { total: value.dataSync()[0]!, grads: new Map<string, Float32Array>() };
    for (const [name, v] of model.variables) {
      const g = grads[v.name];
      if (g) out.grads.set(name, g.dataSync() as Float32Array);
    }
    tf.dispose([value, grads]);
    model.dispose();
    return out;
  };
  const onWasm = run();
  await tf.setBackend('cpu');
  let onCpu: ReturnType<typeof run>;
  try {
    onCpu = run();
  } finally {
    await tf.setBackend('wasm');
  }
  assert.ok(Math.abs(onWasm.total - onCpu.total) < 1e-3 * Math.abs(onCpu.total), `total ${onWasm.total} vs ${onCpu.total}`);
  assert.deepEqual([...onWasm.grads.keys()].sort(), [...onCpu.grads.keys()].sort());
  assert.ok(onCpu.grads.size > 100);
  for (const [name, gc] of onCpu.grads) {
    const gw = onWasm.grads.get(name)!;
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < gc.length; i++) {
      scale = Math.max(scale, Math.abs(gc[i]!));
      diff = Math.max(diff, Math.abs(gc[i]! - gw[i]!));
    }
    assert.ok(diff <= 2e-3 * scale + 1e-6, `${name}: gradients differ by ${diff} (scale ${scale})`);
  }
});

