/**
 * Sanity run (not a test): trains a config on the three LibriVox fixtures (one batch of all three)
 * and prints the loss terms every few steps, then the prior/synthesis error against the reference
 * mel of the first fixture. Usage: node dist/bench/model-overfit.js [config=tiny] [steps=60] [backend=wasm]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.js';
import { parseLossConfig } from '../src/loss/index.js';
import { textToIds, symbolCount } from '../src/text/index.js';
import { readNpy } from '../src/util/npy.js';
import { Rng } from '../src/util/rng.js';
import { speechFixtures } from '../src/testing/paths.js';
import { MODEL_CONFIGS, GradTTS, type Batch } from '../src/model/index.js';

const TEXTS: Record<string, string> = {
  librivox_0870: 'and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them',
  librivox_0890: 'unless to be rather cold hearted and rather selfish is to be ill disposed',
  librivox_0930: 'he might even have been made amiable himself',
};

const [cfgName = 'tiny', stepsArg = '60', backend = 'wasm'] = process.argv.slice(2);
await initBackend(backend);
const cfg = MODEL_CONFIGS[cfgName as 'tiny'];
const batch: Batch = { ids: [], mels: [] };
for (const fx of speechFixtures()) {
  const { data, shape } = readNpy(fx.mel);
  batch.ids.push(textToIds(TEXTS[fx.name]!).ids);
  batch.mels.push({ data, nMels: shape[0]!, frames: shape[1]! });
}
const model = GradTTS.create(cfg, symbolCount(), 1);
const opt = tf.train.adam(cfg.training.lr);
const loss = parseLossConfig({ type: 'l2' }, 'overfit');
const rng = new Rng(1);
const c0 = process.cpuUsage();
for (let s = 1; s <= Number(stepsArg); s++) {
  const kept: Record<string, tf.Scalar> = {};
  const { value, grads } = tf.variableGrads(() => {
    const t = model.losses(batch, loss, rng);
    for (const k of ['duration', 'prior', 'diffusion'] as const) kept[k] = tf.keep(t[k]);
    return t.total;
  });
  // clip the global gradient norm as the recipe does
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
  const k = Math.min(1, cfg.training.gradClip / (norm + 1e-6));
  const clipped = tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.mul(g, k)])));
  opt.applyGradients(clipped as Record<string, tf.Variable>);
  if (s === 1 || s % 10 === 0) {
    const v = Object.fromEntries(Object.entries(kept).map(([n, t]) => [n, t.dataSync()[0]!.toFixed(3)]));
    console.log(
      `step ${s}: total ${value.dataSync()[0]!.toFixed(3)} ${JSON.stringify(v)} |g| ${norm.toFixed(2)} cpu ${(process.cpuUsage(c0).user / 1e6 / s).toFixed(2)} s/step`,
    );
  }
  tf.dispose([value, grads, clipped, Object.values(kept)]);
}
const ref = batch.mels[2]!;
const prior = await model.prior(batch.ids[2]!);
const mel = await model.synthesize(batch.ids[2]!, { steps: 10, temperature: 1.5, lengthScale: 1, stochastic: false, rng: new Rng(2) });
const stat = (m: { data: Float32Array }) => {
  let s = 0;
  for (const v of m.data) s += v;
  return (s / m.data.length).toFixed(2);
};
console.log(
  `fixture 0930: ${ref.frames} frames (mean ${stat(ref)}); prior ${prior.frames} frames (mean ${stat(prior)}); synthesized ${mel.frames} frames (mean ${stat(mel)}); tensors ${tf.memory().numTensors}`,
);
