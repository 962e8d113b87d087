#!/usr/bin/env node
/**
 * Seconds per training step of a recipe's model on real batches, for variants of the step,
 * interleaved round by round (this machine's speed drifts): the whole model, and the decoder alone
 * with the encoder and duration predictor frozen (train.freeze). One thread (tfjs-wasm), no workers.
 *
 *   node scripts/step-time.mjs [--recipe recipes/allison-enc128.json] [--data datasets/allison-mini]
 *                              [--rounds 4] [--steps 3] [--objective score|flow]
 * Prints one line per round and the medians. Needs `npx tsc -p .` first (runs dist/).
 */
import { parseArgs } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { values: a } = parseArgs({
  options: {
    recipe: { type: 'string', default: 'recipes/allison-enc128.json' },
    data: { type: 'string', default: 'datasets/allison-mini' },
    rounds: { type: 'string', default: '4' },
    steps: { type: 'string', default: '3' },
    objective: { type: 'string', default: 'score' },
  },
});
const dist = new URL('../dist/src/', import.meta.url);
const imp = (p) => import(new URL(p, dist).href);
const { initBackend } = await imp('backend/index.js');
const { resolveRecipe } = await imp('train/run.js');
const { recipeModelConfig, gradTTSTrainable } = await imp('train/gradtts-task.js');
const { openDataset } = await imp('data/index.js');
const { GradTTS } = await imp('model/index.js');
const { symbolCount } = await imp('text/index.js');
const { Trainer } = await imp('train/loop.js');
const { DataOrder } = await imp('trainable/trainable.js');
const { Rng } = await imp('util/rng.js');

await initBackend('wasm');
const { recipe, where } = resolveRecipe({ recipePath: a.recipe });
const loss = recipe.loss;
const cfg = recipeModelConfig(recipe, where);
if (a.objective !== 'score') cfg.decoder.objective = a.objective;
const textConfig = { mode: recipe.data.textMode, addBlank: recipe.data.addBlank };
const fs = await openDataset(a.data, { cacheDir: join(tmpdir(), 'difftts-step-time-features'), textConfig, skipBad: true, warn: () => {} });
const items = fs.splits.train.map((id) => fs.utterances.get(id));
const nSymbols = symbolCount(fs.textConfig);
const t = recipe.train;
const variants = [
  ['whole model', []],
  ['decoder only (encoder, durationPredictor frozen)', ['encoder', 'durationPredictor']],
].map(([label, freeze]) => {
  const model = GradTTS.create(cfg, nSymbols, t.seed);
  const trainer = new Trainer(gradTTSTrainable(model, loss, 0), {
    lr: t.lr,
    gradClip: t.gradClip,
    maxBadSteps: 5,
    ema: t.ema,
    frozen: model.variablesOf(freeze),
  });
  return { label, trainer, order: DataOrder.create(items.length, t.batchSize, t.seed), rng: new Rng(1), times: [] };
});
console.log(
  `${cfg.name} (${where}), ${cfg.decoder.objective ?? 'score'} decoder, batch ${t.batchSize}, ${a.data}: ${a.rounds} rounds × ${a.steps} steps per variant, after 1 warm-up step each`,
);
const stepOnce = async (v, step) => {
  const idx = v.order.next();
  const t0 = performance.now();
  await v.trainer.step({ ids: idx.map((i) => items[i].ids), mels: idx.map((i) => items[i].mel) }, v.rng, step);
  return (performance.now() - t0) / 1000;
};
for (const v of variants) await stepOnce(v, 0);
for (let r = 0; r < Number(a.rounds); r++) {
  const line = [];
  for (const v of variants) {
    let s = 0;
    for (let k = 0; k < Number(a.steps); k++) s += await stepOnce(v, 1 + r * Number(a.steps) + k);
    v.times.push(s / Number(a.steps));
    line.push(`${v.label} ${(s / Number(a.steps)).toFixed(3)} s`);
  }
  console.log(`round ${r + 1}: ${line.join(', ')}`);
}
const med = (xs) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
for (const v of variants) console.log(`median: ${v.label}: ${med(v.times).toFixed(3)} s/step`);
console.log(`ratio (decoder only / whole): ${(med(variants[1].times) / med(variants[0].times)).toFixed(3)}`);
