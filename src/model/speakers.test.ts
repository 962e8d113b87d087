/**
 * Multi-speaker GradTTS (cfg.nSpeakers > 1): the single-speaker model is bit for bit what it was
 * before speakers existed; with speakers, the embedding table's row is what changes μ, durations and
 * the decoder's output (closed form: swapping two rows swaps the two speakers' outputs exactly), its
 * gradient matches finite differences and vanishes on rows of speakers not in the batch, and a few
 * training steps on two speakers reading the same text separate their μ.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.js';
import { UserError } from '../errors.js';
import { parseLossConfig } from '../loss/index.js';
import { assertGradsClose, assertNoLeak } from '../testing/tensors.js';
import { ItemDraws, Rng } from '../util/rng.js';
import { GradTTS, SPEAKER_TABLE, type Batch } from './gradtts.js';
import { validateModelConfig, type ModelConfig } from './configs.js';
import { TEST_CFG } from '../testing/model-config.js';
import { scoreFromPrior, scorePrior } from './unet.js';
import { ParamStore } from './params.js';

const N_SYMBOLS = 12;
const L2 = parseLossConfig({ type: 'l2' }, 'test');
const MULTI: ModelConfig = { ...TEST_CFG, nSpeakers: 3 };

before(async () => {
  await initBackend('wasm');
});

/** Three utterances with seeded random mels (3 frames per token, + item index). */
function batch(speakers?: number[]): Batch {
  const rng = new Rng(11);
  const f = TEST_CFG.nFeats;
  const ids = [Int32Array.from([1, 5, 2, 7, 3]), Int32Array.from([4, 4, 9]), Int32Array.from([2, 6, 8, 10, 11, 3, 1])];
  const mels = ids.map((x, s) => {
    const frames = 3 * x.length + s;
    return { data: rng.normals(f * frames), nMels: f, frames };
  });
  return speakers ? { ids, mels, speakers } : { ids, mels };
}

const sha = (a: Float32Array) =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex')
    .slice(0, 16);
const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!.toString(16);

test('single speaker: weights, loss terms, gradients, prior and samples bit-identical to the model before speakers (score and flow)', async () => {
  // Recorded with the code of main at a44d475 (before speakers) by the same computation.
  const pinned = {
    score: {
      loss: { duration: '40039164', prior: '3fc4395b', diffusion: '3f88eb6a', total: '409511e4', deltaMean: '3f800000' },
      mel: '53ecfe4d59298e42',
    },
    flow: {
      loss: { duration: '40039164', prior: '3fc4395b', diffusion: '4012e37a', total: '40bc48c6', deltaMean: '3f800000' },
      mel: 'e9c40bea45a1031b',
    },
  };
  for (const objective of ['score', 'flow'] as const) {
    const cfg: ModelConfig = objective === 'flow' ? { ...TEST_CFG, decoder: { ...TEST_CFG.decoder, objective } } : TEST_CFG;
    const m = GradTTS.create(cfg, N_SYMBOLS, 5);
    assert.equal(m.variables.size, 215);
    assert.equal(m.paramCount(), 181128);
    assert.equal(m.nSpeakers, 1);
    const all: number[] = [];
    for (const v of m.variables.values()) all.push(...v.dataSync());
    assert.equal(sha(Float32Array.from(all)), 'fb1c4088295253f4', 'initial weights');
    const t = m.losses(batch(), L2, new ItemDraws(77), true);
    const got = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, bits((v as tf.Scalar).dataSync()[0]!)]));
    tf.dispose(Object.values(t));
    assert.deepEqual(got, pinned[objective].loss, objective);
    const mel = await m.synthesize(Int32Array.from([1, 5, 2, 7]), {
      steps: 3,
      temperature: 1.5,
      lengthScale: 1,
      stochastic: false,
      rng: new Rng(3),
    });
    assert.equal(sha(mel.data), pinned[objective].mel, `${objective} sample`);
    assert.equal(sha((await m.prior(Int32Array.from([1, 5, 2, 7]), 1)).data), '8eea23d5b978caae', 'prior');
    if (objective === 'score') {
      const { value, grads } = tf.variableGrads(() => m.losses(batch(), L2, new ItemDraws(77), true).total);
      const g: number[] = [];
      for (const v of m.variables.values()) g.push(...grads[v.name]!.dataSync());
      tf.dispose([value, grads]);
      assert.equal(sha(Float32Array.from(g)), '3b2833626c2a5f12', 'gradients');
    }
    m.dispose();
  }
});

test('nSpeakers 3: the speaker table, spk_mlp and the third U-Net channel are the only new weights; the transformer is C + E wide', () => {
  const one = GradTTS.create(TEST_CFG, N_SYMBOLS, 5);
  const m = GradTTS.create(MULTI, N_SYMBOLS, 5);
  const shape = (name: string) => m.variables.get(name)?.shape;
  const e = 64;
  const c = TEST_CFG.encoder.channels + e;
  assert.deepEqual(shape(SPEAKER_TABLE), [3, e]);
  assert.deepEqual(shape('decoder.spk_mlp.lin1.w'), [e, 4 * e]);
  assert.deepEqual(shape('decoder.spk_mlp.lin2.w'), [4 * e, TEST_CFG.nFeats]);
  assert.deepEqual(shape('decoder.down0.res1.block1.conv.w'), [3, 3, 3, 8]);
  assert.deepEqual(shape('decoder.down0.res1.res.w'), [1, 1, 3, 8]);
  assert.deepEqual(shape('encoder.layer0.attn.q.w'), [c, c]);
  assert.deepEqual(shape('encoder.layer0.ffn1.w'), [3, TEST_CFG.encoder.filterChannels, c]);
  assert.deepEqual(shape('encoder.proj_mu.w'), [c, TEST_CFG.nFeats]);
  assert.deepEqual(shape('dp.conv0.w'), [3, c, TEST_CFG.durationPredictor.channels]);
  assert.deepEqual(shape('encoder.prenet.conv0.w'), one.variables.get('encoder.prenet.conv0.w')!.shape, 'the pre-net is unchanged');
  const added = [...m.variables.keys()].filter((k) => !one.variables.has(k));
  assert.deepEqual(
    added.sort(),
    [SPEAKER_TABLE, 'decoder.spk_mlp.lin1.b', 'decoder.spk_mlp.lin1.w', 'decoder.spk_mlp.lin2.b', 'decoder.spk_mlp.lin2.w'].sort(),
  );
  assert.deepEqual(m.variablesOf(['speakers']), [SPEAKER_TABLE]);
  assert.equal(m.nSpeakers, 3);
  one.dispose();
  m.dispose();
  // a width the rotary heads cannot split, and bad counts: one line naming the fields
  assert.throws(
    () => validateModelConfig({ ...MULTI, speakerEmbDim: 6 }),
    (err: unknown) =>
      err instanceof UserError && /encoder\.channels 16 \+ speakerEmbDim 6 \/ encoder\.heads 2 must be an even integer/.test(err.message),
  );
  assert.throws(
    () => validateModelConfig({ ...MULTI, nSpeakers: 0 }),
    (err: unknown) => err instanceof UserError && /nSpeakers is 0 \(expected an integer ≥ 1\)/.test(err.message),
  );
  assert.doesNotThrow(() => validateModelConfig({ ...TEST_CFG, speakerEmbDim: 6 }), 'one speaker: no embedding, no constraint');
});

test('the embedding row is what changes μ, durations and the sample (score and flow): swapping rows 0 and 1 swaps the speakers exactly', async () => {
  const m = GradTTS.create(MULTI, N_SYMBOLS, 6);
  const ids = Int32Array.from([1, 5, 2, 7, 3]);
  const opts = { steps: 2, temperature: 1.5, lengthScale: 1, stochastic: false };
  const say = async (speaker: number) => ({
    prior: await m.prior(ids, 1, speaker),
    durations: await m.durations(ids, 1, speaker),
    mel: await m.synthesize(ids, { ...opts, rng: new Rng(4), speaker }),
  });
  const before0 = await assertNoLeak(() => say(0), 'synthesis with a speaker');
  const before1 = await say(1);
  assert.notDeepEqual(before0.prior.data, before1.prior.data, 'two speakers, two μ');
  const table = m.variables.get(SPEAKER_TABLE)!;
  const rows = table.arraySync() as number[][];
  table.assign(tf.tensor2d([rows[1]!, rows[0]!, rows[2]!]));
  const after0 = await say(0);
  const after1 = await say(1);
  assert.deepEqual(after0, before1);
  assert.deepEqual(after1, before0);
  // one line for a missing or foreign speaker, at the model's level (names are resolved above it)
  await assert.rejects(
    m.prior(ids, 1),
    (err: unknown) =>
      err instanceof UserError &&
      err.message === 'synthesize: the model has 3 speakers: a speaker (embedding row 0..2) is needed for every item',
  );
  await assert.rejects(
    m.synthesize(ids, { ...opts, rng: new Rng(1), speaker: 3 }),
    (err: unknown) => err instanceof UserError && err.message === "synthesize: speaker 3 outside the model's 3 speakers (expected 0..2)",
  );
  assert.throws(
    () => m.losses(batch(), L2, new Rng(1)),
    (err: unknown) => err instanceof UserError && /batch\.speakers: the model has 3 speakers/.test(err.message),
  );
  m.dispose();
  // the flow decoder reads the speaker channel the same way
  const flow = GradTTS.create({ ...MULTI, decoder: { ...MULTI.decoder, objective: 'flow' } }, N_SYMBOLS, 6);
  const sample = (speaker: number) => flow.synthesize(ids, { ...opts, rng: new Rng(4), speaker });
  const [f0, f1] = [await sample(0), await sample(1)];
  const ft = flow.variables.get(SPEAKER_TABLE)!;
  const fr = ft.arraySync() as number[][];
  ft.assign(tf.tensor2d([fr[1]!, fr[0]!, fr[2]!]));
  assert.deepEqual([await sample(0), await sample(1)], [f1, f0]);
  const terms = flow.losses(batch([1, 0, 2]), L2, new Rng(1));
  assert.ok(Number.isFinite(terms.total.dataSync()[0]!));
  tf.dispose(Object.values(terms));
  flow.dispose();
  const one = GradTTS.create(TEST_CFG, N_SYMBOLS, 6);
  await assert.rejects(
    one.prior(ids, 1, 1),
    (err: unknown) => err instanceof UserError && err.message === 'synthesize: speaker 1 given to a single-speaker model (expected none)',
  );
  assert.deepEqual(await one.prior(ids, 1, 0), await one.prior(ids, 1), 'row 0 of a single-speaker model is the model itself');
  one.dispose();
});

test('speaker gradients: finite differences agree; rows of speakers outside the batch get exactly zero; wasm and cpu agree', async () => {
  const b = batch([0, 2, 0]);
  const m = GradTTS.create(MULTI, N_SYMBOLS, 7);
  for (const [name, v] of m.variables) if (name.endsWith('.g') && v.size === 1) v.assign(tf.fill([1], 0.5)); // open the ReZero gates
  // fixed alignments and no dropout: the loss is a smooth function of the weights. The duration
  // term is left out: the duration predictor reads the detached transformer output (speaker channels
  // included, as the official code), so it has no gradient for the table while its value depends on it.
  const fixed = { ...b, paths: await m.alignments(b, new Rng(1), false) };
  const terms = () => {
    const t = m.losses(fixed, L2, new ItemDraws(5), false);
    return tf.add(t.prior, t.diffusion) as tf.Scalar;
  };
  const lossOf = () => tf.tidy(() => terms().dataSync()[0]!);
  const table = m.variables.get(SPEAKER_TABLE)!;
  const { value, grads } = tf.variableGrads(terms);
  const g = grads[table.name]!.arraySync() as number[][];
  const mlp = grads[m.variables.get('decoder.spk_mlp.lin2.w')!.name]!;
  assert.ok(tf.tidy(() => tf.max(tf.abs(mlp)).dataSync()[0]!) > 0, 'the decoder reads the speaker');
  tf.dispose([value, grads]);
  const dur = tf.variableGrads(() => m.losses(fixed, L2, new ItemDraws(5), false).duration);
  assert.ok(
    (dur.grads[table.name]!.dataSync() as Float32Array).every((x) => x === 0),
    'the duration loss does not reach the table (detached, as Grad-TTS)',
  );
  tf.dispose([dur.value, dur.grads]);
  assert.ok(
    g[1]!.every((x) => x === 0),
    'speaker 1 is not in the batch',
  );
  assert.ok(g[0]!.some((x) => x !== 0) && g[2]!.some((x) => x !== 0));
  const rows = table.arraySync() as number[][];
  const h = 1e-2;
  for (const [r, k] of [
    [0, 3],
    [2, 17],
    [0, 40],
  ] as const) {
    const at = (d: number) => {
      const w = rows.map((row) => [...row]);
      w[r]![k]! += d;
      table.assign(tf.tensor2d(w));
      return lossOf();
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    table.assign(tf.tensor2d(rows));
    assert.ok(
      Math.abs(fd - g[r]![k]!) <= 2e-2 * Math.abs(g[r]![k]!) + 1e-4,
      `row ${r}, column ${k}: finite difference ${fd}, gradient ${g[r]![k]}`,
    );
  }
  m.dispose();
  // all weight gradients, wasm against tfjs's cpu reference
  const run = () => {
    const model = GradTTS.create(MULTI, N_SYMBOLS, 8);
    const { value, grads } = tf.variableGrads(() => model.losses(b, L2, new Rng(2), true).total);
    const out = new Map<string, Float32Array>();
    for (const [name, v] of model.variables) if (grads[v.name]) out.set(name, grads[v.name]!.dataSync() as Float32Array);
    tf.dispose([value, grads]);
    model.dispose();
    return out;
  };
  const onWasm = run();
  await tf.setBackend('cpu');
  let onCpu: Map<string, Float32Array>;
  try {
    onCpu = run();
  } finally {
    await tf.setBackend('wasm');
  }
  assertGradsClose(onWasm, onCpu, 2e-3);
});

test('speakers in a padded batch: each item aligns as it does alone; the sampler’s split input equals the stacked one', async () => {
  const m = GradTTS.create(MULTI, N_SYMBOLS, 9);
  const b = batch([2, 1, 0]);
  const together = await m.alignments(b, new ItemDraws(3), false);
  for (let s = 0; s < 3; s++) {
    const alone = await m.alignments({ ids: [b.ids[s]!], mels: [b.mels[s]!], speakers: [b.speakers![s]!] }, new ItemDraws(3), false);
    assert.deepEqual(alone[0], together[s], `item ${s}`);
  }
  // the U-Net with μ's and the speaker's share of the first convs precomputed (synthesis) against the stacked input (training)
  const ps = new ParamStore(1);
  const ctx = { ps, training: false, rng: null };
  const r = new Rng(2);
  const [f, w] = [TEST_CFG.nFeats, 12];
  const [split, stacked] = tf.tidy(() => {
    const mu = tf.tensor3d(r.normals(2 * f * w), [2, f, w]);
    const xt = tf.tensor3d(r.normals(2 * f * w), [2, f, w]);
    const mask = tf.tensor3d([...new Array(w).fill(1), ...new Array(w - 4).fill(1), 0, 0, 0, 0], [2, 1, w]);
    const spk = tf.tensor2d(r.normals(2 * 64), [2, 64]);
    const t = tf.tensor1d([0.3, 0.8]);
    const b = scoreFromPrior(ctx, MULTI, scorePrior(ctx, MULTI, mu, mask, false, spk), xt, t);
    const a = scoreFromPrior(ctx, MULTI, scorePrior(ctx, MULTI, mu, mask, true, spk), xt, t);
    return [a.dataSync(), b.dataSync()];
  });
  let worst = 0;
  let scale = 0;
  split.forEach((v, i) => ((worst = Math.max(worst, Math.abs(v - stacked[i]!))), (scale = Math.max(scale, Math.abs(stacked[i]!)))));
  assert.ok(scale > 0 && worst <= 1e-5 * scale, `split vs stacked input: max |Δ| ${worst} (scale ${scale})`);
  ps.dispose();
  m.dispose();
});

test('training two speakers on the same texts separates their μ toward their own recordings (no leaks per step)', async () => {
  const m = GradTTS.create({ ...MULTI, nSpeakers: 2 }, N_SYMBOLS, 10);
  const base = batch();
  // speaker 1 reads every sentence 1.5 higher in every mel bin than speaker 0
  const shifted = base.mels.map((mel) => ({ ...mel, data: mel.data.map((v) => v + 1.5) }));
  const b: Batch = { ids: [...base.ids, ...base.ids], mels: [...base.mels, ...shifted], speakers: [0, 0, 0, 1, 1, 1] };
  const gap = async () => {
    const [p0, p1] = [await m.prior(base.ids[0]!, 1, 0), await m.prior(base.ids[0]!, 1, 1)];
    const frames = Math.min(p0.frames, p1.frames);
    let d = 0;
    for (let r = 0; r < p0.nMels; r++) for (let j = 0; j < frames; j++) d += p1.data[r * p1.frames + j]! - p0.data[r * p0.frames + j]!;
    return d / (p0.nMels * frames);
  };
  const start = await gap();
  const opt = tf.train.adam(5e-3);
  let after1 = 0;
  for (let i = 0; i < 25; i++) {
    const { value, grads } = tf.variableGrads(() => m.losses(b, L2, new ItemDraws(i), true).total);
    opt.applyGradients(grads as Record<string, tf.Variable>);
    tf.dispose([value, grads]);
    if (i === 0) after1 = tf.memory().numTensors;
  }
  assert.equal(tf.memory().numTensors, after1, 'tensor count after 25 steps equals the count after 1');
  const end = await gap();
  assert.ok(Math.abs(start) < 0.3, `untrained gap ${start}`);
  assert.ok(end > 0.75, `after 25 steps speaker 1's μ is ${end} above speaker 0's (target 1.5)`);
  opt.dispose();
  m.dispose();
});
