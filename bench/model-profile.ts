/**
 * Per-kernel profile of one training step (not a test): which tfjs kernels take the time.
 * Usage: node dist/bench/model-profile.js [config=tiny] [backend=wasm] [frames=200]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { parseLossConfig } from '../src/loss/index.js';
import { Rng } from '../src/util/rng.js';
import { MODEL_CONFIGS, GradTTS, type Batch } from '../src/model/index.js';

const [cfgName = 'tiny', backend = 'wasm', framesArg = '200'] = process.argv.slice(2);
await initBackend(backend);
const cfg = MODEL_CONFIGS[cfgName as 'tiny'];
const model = GradTTS.create(cfg, 148, 1);
const rng = new Rng(7);
const frames = Number(framesArg);
const batch: Batch = { ids: [], mels: [] };
for (let i = 0; i < cfg.training.batchSize; i++) {
  const ty = frames - 7 * i;
  batch.ids.push(Int32Array.from({ length: Math.round(ty / 5) }, () => 1 + rng.int(147)));
  batch.mels.push({ data: Float32Array.from(rng.normals(80 * ty), (v) => v - 5), nMels: 80, frames: ty });
}
const loss = parseLossConfig({ type: 'l2' }, 'profile');
const vars = [...model.variables.values()];
const step = () => {
  const { value, grads } = tf.variableGrads(() => model.losses(batch, loss, rng).total, vars);
  value.dataSync();
  tf.dispose([value, grads]);
};
step();
const c0 = process.cpuUsage();
const info = await tf.profile(step);
const c1 = process.cpuUsage(c0);
const byKernel = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs) || 0;
  e.n++;
  byKernel.set(k.name, e);
}
const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, r) => s + r[1].ms, 0);
console.log(`step cpu ${(c1.user / 1e6).toFixed(2)} s user; kernels ${total.toFixed(0)} ms in ${info.kernels.length} calls`);
for (const [name, e] of rows.slice(0, 25))
  console.log(`${name.padEnd(24)} ${e.ms.toFixed(0).padStart(7)} ms ${String(e.n).padStart(5)} calls`);
if (process.env.PROFILE_DETAIL) {
  const mm = info.kernels
    .filter((k) => k.name === process.env.PROFILE_DETAIL)
    .sort((a, b) => Number(b.kernelTimeMs) - Number(a.kernelTimeMs));
  for (const k of mm.slice(0, 30))
    console.log(
      `${Number(k.kernelTimeMs).toFixed(0).padStart(6)} ms in ${JSON.stringify(k.inputShapes)} → ${JSON.stringify(k.outputShapes)}`,
    );
}
