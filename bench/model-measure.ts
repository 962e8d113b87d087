/**
 * Quick measurements for the model (not a test): parameter counts of each config and the time of
 * training steps of a config on the chosen backend with synthetic data.
 * Usage: node dist/bench/model-measure.js [config=tiny] [backend=wasm] [steps=3] [frames=200]
 */
import * as tf from '@tensorflow/tfjs';
import { capabilities, initBackend } from '../src/backend/index.js';
import { parseLossConfig } from '../src/loss/index.js';
import { Rng } from '../src/util/rng.js';
import { MODEL_CONFIGS, GradTTS, type Batch, type ModelConfig } from '../src/model/index.js';

const [cfgName = 'tiny', backend = 'wasm', stepsArg = '3', framesArg = '200'] = process.argv.slice(2);
await initBackend(backend);
const N_SYMBOLS = 109; // symbolCount() of the default text config
for (const [name, cfg] of Object.entries(MODEL_CONFIGS)) {
  const m = GradTTS.create(cfg, N_SYMBOLS, 1);
  console.log(`${name}: ${m.paramCount()} parameters (${N_SYMBOLS} symbols)`);
  m.dispose();
}
const cfg: ModelConfig = process.env.MODEL_CFG_JSON
  ? { ...MODEL_CONFIGS[cfgName as 'tiny'], ...JSON.parse(process.env.MODEL_CFG_JSON) }
  : MODEL_CONFIGS[cfgName as 'tiny'];
if (process.env.MODEL_CFG_JSON)
  console.log(`variant: ${process.env.MODEL_CFG_JSON} → ${GradTTS.create(cfg, N_SYMBOLS, 1).paramCount()} parameters`);
const model = GradTTS.create(cfg, N_SYMBOLS, 1);
const rng = new Rng(7);
const frames = Number(framesArg);
const batch: Batch = { ids: [], mels: [] };
for (let i = 0; i < cfg.training.batchSize; i++) {
  const tx = Math.round(frames / 5) - i;
  const ty = frames - 7 * i;
  batch.ids.push(Int32Array.from({ length: tx }, () => 1 + rng.int(N_SYMBOLS - 1)));
  batch.mels.push({ data: Float32Array.from(rng.normals(80 * ty), (v) => v - 5), nMels: 80, frames: ty });
}
const loss = parseLossConfig({ type: 'l2' }, 'measure');
const opt = tf.train.adam(cfg.training.lr);
const vars = [...model.variables.values()];
for (let s = 0; s < Number(stepsArg); s++) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  // webgpu reads only asynchronously: the MAS alignment first, as the trainer does
  const b = capabilities().syncReads ? batch : { ...batch, paths: await model.alignments(batch, Rng.fromState(rng.state())) };
  const { value, grads } = tf.variableGrads(() => model.losses(b, loss, rng).total, vars);
  opt.applyGradients(grads as Record<string, tf.Variable>);
  const total = (await value.data())[0];
  tf.dispose([value, grads]);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  console.log(
    `${cfgName} step ${s}: total ${total?.toFixed(4)} ${sec.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU (batch ${cfg.training.batchSize}, ~${frames} frames, backend ${tf.getBackend()}, tensors ${tf.memory().numTensors})`,
  );
}
if (process.env.SYNTH_STEPS) {
  const ids = batch.ids[0]!;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const mel = await model.synthesize(ids, {
    steps: Number(process.env.SYNTH_STEPS),
    temperature: 1.5,
    lengthScale: 1,
    stochastic: false,
    rng: new Rng(1),
  });
  const cpu = process.cpuUsage(c0);
  console.log(
    `${cfgName} synthesize ${process.env.SYNTH_STEPS} steps → ${mel.frames} frames: ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`,
  );
}
