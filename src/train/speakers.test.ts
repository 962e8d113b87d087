/**
 * Multi-speaker training end to end at minuscule sizes: a corpus naming three speakers gives a
 * 3-speaker model (worker threads get the speaker of every item), the names reach state.json and an
 * exported voice, synthesis and evaluation take `speaker` (one line for a missing or unknown one, on
 * the command line too), --init onto a corpus with a new name adds one embedding row (the mean of the
 * trained ones) and, with every other part frozen, trains that row alone; old checkpoints load as
 * one unnamed speaker.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { initBackend } from '../backend/index.js';
import { makeSpeakerCorpus } from '../testing/corpora.js';
import { SPEAKER_TABLE } from '../model/index.js';
import { exportWeights, readCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { writeMicroRecipe } from '../testing/recipes.js';
import { repoRoot } from '../testing/paths.js';
import { runTraining, type TrainRunOptions } from './run.js';
import { planSpeakers, withAddedSpeakers, type BaseSpeakers } from './speakers.js';
import { loadModel } from '../synthesis/model.js';
import { synthesizeToFiles } from '../synthesis/batch.js';
import { loadVoice } from '../synthesis/voice.js';
import type { CaseResult } from '../testing/cli-cases.js';

before(async () => {
  await initBackend('wasm');
});

const root = mkdtempSync(join(tmpdir(), 'difftts-speakers-'));
const corpus = makeSpeakerCorpus('ljspeech', ['cy', 'ann', 'bob'], 4);
const quiet: Partial<TrainRunOptions> = { progress: false, log: () => {} };
const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');
const train = { steps: 2, batchSize: 6, lr: 0.01, checkpointEvery: 2, logEvery: 1, pngEvery: 2, seed: 3 };
const recipe = writeMicroRecipe(join(root, 'multi.json'), { ...train, workers: 1 }, { synth: { steps: 2 } });

test('planSpeakers: the data decides a fresh run, an --init adds rows, a resume may not, a recipe that disagrees is one line', () => {
  const init = (speakers: string[]): BaseSpeakers => ({ how: 'init', dir: 'voice', speakers, nSpeakers: speakers.length || 1 });
  assert.deepEqual(planSpeakers(['a', 'b', 'c'], null, undefined, 'r.json', 'DATA'), {
    speakers: ['a', 'b', 'c'],
    nSpeakers: 3,
    added: [],
  });
  assert.deepEqual(planSpeakers(['solo'], null, undefined, 'r.json', 'DATA'), { speakers: ['solo'], nSpeakers: 1, added: [] });
  assert.deepEqual(planSpeakers([], null, 1, 'r.json', 'DATA'), { speakers: [], nSpeakers: 1, added: [] });
  assert.deepEqual(planSpeakers(['x', 'new', 'b'], init(['b', 'x', 'z']), undefined, 'r.json', 'DATA'), {
    speakers: ['b', 'x', 'z', 'new'],
    nSpeakers: 4,
    added: ['new'],
  });
  assert.deepEqual(planSpeakers(['z'], init(['b', 'x', 'z']), undefined, 'r.json', 'DATA'), {
    speakers: ['b', 'x', 'z'],
    nSpeakers: 3,
    added: [],
  });
  assert.deepEqual(
    planSpeakers(['a', 'b'], init(['allison']), undefined, 'r.json', 'DATA'),
    { speakers: ['a', 'b'], nSpeakers: 2, added: [] },
    'a single-speaker base has no rows to keep',
  );
  assert.throws(
    () => planSpeakers(['a', 'b', 'c'], null, 2, 'r.json', 'DATA'),
    userError(
      /^r\.json: model\.nSpeakers is 2, but the run has 3 \(DATA names 3 \(a, b, c\)\); remove model\.nSpeakers \(it follows the data\) or set it to 3$/,
    ),
  );
  assert.throws(
    () => planSpeakers(['new'], { ...init(['b', 'x']), how: 'resume', dir: 'run/ck' }, undefined, 'r.json', 'DATA'),
    userError(
      /^DATA: names speakers the run's checkpoint run\/ck has no row for \(new\): to add them start a new run from it with --init$/,
    ),
  );
  assert.throws(
    () => planSpeakers([], init(['b', 'x']), undefined, 'r.json', 'DATA'),
    userError(/^DATA: names no speaker, but voice has 2 \(b, x\): name the speaker/),
  );
});

test('withAddedSpeakers: new rows are the mean of the trained rows, one line names them; nothing added is the checkpoint itself', () => {
  const table = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 5, 6, 7]) };
  const other = { shape: [1], data: Float32Array.from([9]) };
  const ckpt = {
    dir: 'voice',
    meta: { model: { kind: 'gradtts', config: { nSpeakers: 2 } }, speakers: ['a', 'b'] },
    weights: new Map([
      [SPEAKER_TABLE, table],
      ['x', other],
    ]),
    ema: null,
    optimizer: { iterations: 1, accBeta1: 0, accBeta2: 0, tensors: [] },
  } as unknown as LoadedCheckpoint;
  const lines: string[] = [];
  const grown = withAddedSpeakers(ckpt, ['a', 'b', 'c', 'd'], (m) => lines.push(m));
  assert.deepEqual(grown.weights.get(SPEAKER_TABLE), { shape: [4, 3], data: Float32Array.from([1, 2, 3, 5, 6, 7, 3, 4, 5, 3, 4, 5]) });
  assert.equal(grown.weights.get('x'), other);
  assert.equal(grown.optimizer, null);
  assert.deepEqual(lines, ["--init from voice: speaker rows added for 'c' (row 2), 'd' (row 3), each the mean of the 2 trained rows"]);
  assert.equal(
    withAddedSpeakers(ckpt, ['a', 'b'], () => {}),
    ckpt,
  );
  assert.throws(
    () => withAddedSpeakers(ckpt, ['b', 'a', 'c'], () => {}),
    userError(/^voice: its speaker table \[2,3\] and names \(a, b\) do not start the run's speakers/),
  );
});

test('a corpus naming 3 speakers trains a 3-speaker model; 2 worker threads carry the speakers and agree with 1; state.json and the voice name them', async () => {
  const one = await runTraining({ ...quiet, recipePath: recipe, dataPath: corpus, outDir: join(root, 'multi') });
  const two = await runTraining({
    ...quiet,
    recipePath: writeMicroRecipe(join(root, 'multi2.json'), { ...train, workers: 2 }, { synth: { steps: 2 } }),
    dataPath: corpus,
    outDir: join(root, 'multi2'),
  });
  const a = readCheckpoint(one.checkpoint);
  const b = readCheckpoint(two.checkpoint);
  assert.deepEqual(a.meta.speakers, ['ann', 'bob', 'cy']);
  const cfg = a.meta.model.config as { nSpeakers?: number; speakerEmbDim?: number };
  assert.equal(cfg.nSpeakers, 3);
  assert.equal(cfg.speakerEmbDim, 64);
  assert.deepEqual(a.weights.get(SPEAKER_TABLE)!.shape, [3, 64]);
  for (const [name, w] of a.weights) {
    const v = b.weights.get(name)!.data;
    const scale = Math.max(1e-3, ...w.data.map(Math.abs));
    assert.ok(
      w.data.every((x, i) => Math.abs(x - v[i]!) <= 1e-4 * scale),
      `${name}: 1 and 2 workers differ beyond rounding`,
    );
  }
  // the state.json round trip: an exported voice lists the speakers, and speaks as each
  const voiceDir = join(root, 'multi-voice');
  exportWeights(one.runDir, voiceDir);
  assert.deepEqual(JSON.parse(readFileSync(join(voiceDir, 'state.json'), 'utf8')).speakers, ['ann', 'bob', 'cy']);
  const lm = loadModel(voiceDir);
  assert.deepEqual(lm.speakers, ['ann', 'bob', 'cy']);
  const say = (speaker?: string) =>
    synthesizeToFiles({
      checkpoint: voiceDir,
      texts: ['All circuits are busy now.'],
      out: join(root, `say-${speaker}.wav`),
      melOut: join(root, `say-${speaker}.npy`),
      iters: 2,
      loaded: lm,
      ...(speaker ? { speaker } : {}),
    });
  const [ann] = await say('ann');
  const [cy] = await say('cy');
  assert.notDeepEqual(readFileSync(join(root, 'say-ann.npy')), readFileSync(join(root, 'say-cy.npy')), 'two speakers, two mels');
  assert.ok(ann!.frames > 0 && cy!.frames > 0);
  await assert.rejects(say(), userError(/^no speaker chosen: this voice has 3 speakers \(--speaker NAME\): ann, bob, cy$/));
  await assert.rejects(say('dee'), userError(/^speaker 'dee' is not one of this voice's 3 speakers: ann, bob, cy$/));
  lm.model.dispose();
  // the library: voice.speakers, and the same one-line refusals
  const voice = await loadVoice(voiceDir);
  assert.deepEqual(voice.speakers, ['ann', 'bob', 'cy']);
  const audio = await voice.synthesize('Thank you for calling.', { speaker: 'bob', steps: 0, iters: 2 });
  assert.ok(audio.samples.length > 0);
  await assert.rejects(voice.synthesize('Thank you.', { steps: 0 }), userError(/^no speaker chosen: this voice has 3 speakers/));
  voice.dispose();
  // evaluation speaks as one speaker and compares it with that speaker's recordings only
  const { evaluateRun } = await import('../eval/evaluate-run.js');
  const ev = await evaluateRun({
    checkpoint: voiceDir,
    refs: corpus,
    split: 'train',
    steps: 0,
    seed: 1,
    max: 0,
    iters: 2,
    wer: false,
    speakerRefs: 2,
    speaker: 'bob',
    out: join(root, 'eval-bob'),
    progress: false,
  });
  assert.equal(ev.speaker, 'bob');
  assert.ok(ev.n > 0 && ev.utterances.every((u) => u.id.startsWith('bob-')), ev.utterances.map((u) => u.id).join(' '));
  const cross = await evaluateRun({
    checkpoint: voiceDir,
    refs: corpus,
    features: join(root, 'eval-bob', 'ref-features'),
    split: 'train',
    steps: 0,
    seed: 1,
    max: 1,
    iters: 2,
    wer: false,
    speakerRefs: 2,
    speaker: 'bob',
    refSpeaker: 'cy',
    out: join(root, 'eval-bob-cy'),
    progress: false,
  });
  assert.deepEqual([cross.refSpeaker, cross.utterances.every((u) => u.id.startsWith('cy-'))], ['cy', true]);
  await assert.rejects(
    evaluateRun({
      checkpoint: voiceDir,
      refs: corpus,
      features: join(root, 'eval-bob', 'ref-features'),
      split: 'train',
      seed: 1,
      max: 1,
      iters: 2,
      wer: false,
      out: join(root, 'eval-none'),
      progress: false,
    }),
    userError(/^no speaker chosen: this voice has 3 speakers/),
  );
});

test("the page's voice loader (src/web/voice.ts) reads the speakers and speaks as one, as Node does", async () => {
  const { fetchVoice } = await import('../web/voice.js');
  const { speakText } = await import('../synthesis/speak.js');
  const dir = join(root, 'multi-voice');
  const web = await fetchVoice('http://x/voice/', async (url) => {
    const b = new Uint8Array(readFileSync(join(dir, url.slice(url.lastIndexOf('/') + 1))));
    return { ok: true, status: 200, json: async () => JSON.parse(new TextDecoder().decode(b)), arrayBuffer: async () => b.slice().buffer };
  });
  assert.deepEqual(web.speakers, ['ann', 'bob', 'cy']);
  const lm = loadModel(dir);
  const p = { steps: 2, temperature: 1.5, lengthScale: 1, stochastic: false, seed: 4, speaker: 'cy' };
  assert.deepEqual((await speakText(web, 'Good morning.', p, 2)).samples, (await speakText(lm, 'Good morning.', p, 2)).samples);
  lm.model.dispose();
  web.model.dispose();
});

test('--init onto a corpus with a new speaker adds its row; with encoder, duration predictor and decoder frozen only that row trains', async () => {
  const newcomer = makeSpeakerCorpus('ljspeech', ['dee'], 4);
  const src = readCheckpoint(join(root, 'multi', 'checkpoints', 'step-000002'));
  const lines: string[] = [];
  const frozen = writeMicroRecipe(join(root, 'add.json'), {
    ...train,
    workers: 1,
    pngEvery: 0,
    freeze: ['encoder', 'durationPredictor', 'decoder'],
  });
  const r = await runTraining({
    ...quiet,
    log: (m) => lines.push(m),
    recipePath: frozen,
    dataPath: newcomer,
    outDir: join(root, 'add'),
    init: join(root, 'multi'),
  });
  assert.ok(
    lines.includes(`--init from ${src.dir}: speaker rows added for 'dee' (row 3), each the mean of the 3 trained rows`),
    lines.join('\n'),
  );
  const ck = readCheckpoint(r.checkpoint);
  assert.deepEqual(ck.meta.speakers, ['ann', 'bob', 'cy', 'dee']);
  assert.equal((ck.meta.model.config as { nSpeakers: number }).nSpeakers, 4);
  for (const [name, w] of ck.weights)
    if (name !== SPEAKER_TABLE) assert.deepEqual(w.data, src.weights.get(name)!.data, `${name} is frozen`);
  const before = src.weights.get(SPEAKER_TABLE)!.data;
  const after = ck.weights.get(SPEAKER_TABLE)!.data;
  assert.deepEqual(after.subarray(0, 3 * 64), before, 'the trained speakers are not in the batches: their rows stay');
  const mean = Float32Array.from({ length: 64 }, (_, j) => (before[j]! + before[64 + j]! + before[128 + j]!) / 3);
  assert.notDeepEqual(after.subarray(3 * 64), mean, 'the new row trained');
  // a resumed run keeps its rows; the recipe may not disagree with the data
  await runTraining({
    ...quiet,
    recipePath: frozen,
    dataPath: newcomer,
    outDir: join(root, 'add'),
    resume: true,
    steps: 3,
    init: join(root, 'multi'),
  });
  const fixed = writeMicroRecipe(
    join(root, 'two.json'),
    { ...train, workers: 1 },
    {
      model: {
        base: 'tiny',
        nSpeakers: 2,
        encoder: { channels: 8, filterChannels: 16, layers: 1, heads: 2, prenetLayers: 1 },
        durationPredictor: { channels: 8 },
        decoder: { dim: 4, groups: 2 },
        segmentFrames: 16,
      },
    },
  );
  await assert.rejects(
    runTraining({ ...quiet, recipePath: fixed, dataPath: corpus, outDir: join(root, 'two') }),
    userError(/two\.json: model\.nSpeakers is 2, but the run has 3 \(.* names 3 \(ann, bob, cy\)\); remove model\.nSpeakers/),
  );
});

test('single-speaker voices: an old state.json without speakers loads as one unnamed speaker; --speaker is one line; the CLI refuses in one line, exit 2', async () => {
  const single = await runTraining({
    ...quiet,
    recipePath: recipe,
    dataPath: makeSpeakerCorpus('ljspeech', ['solo'], 4),
    outDir: join(root, 'single'),
  });
  const ck = readCheckpoint(single.checkpoint);
  assert.deepEqual(ck.meta.speakers, ['solo']);
  assert.equal(
    (ck.meta.model.config as { nSpeakers?: number }).nSpeakers,
    undefined,
    'one speaker: no embedding, the config as before speakers',
  );
  assert.equal(ck.weights.has(SPEAKER_TABLE), false);
  const old = join(root, 'old-voice');
  exportWeights(single.runDir, old);
  const state = JSON.parse(readFileSync(join(old, 'state.json'), 'utf8'));
  delete state.speakers;
  writeFileSync(join(old, 'state.json'), JSON.stringify(state));
  const lm = loadModel(old);
  assert.deepEqual(lm.speakers, []);
  await assert.rejects(
    synthesizeToFiles({ checkpoint: old, texts: ['Hello.'], out: join(root, 'old.wav'), iters: 2, loaded: lm, speaker: 'solo' }),
    userError(/^speaker 'solo': this voice has one speaker and takes no --speaker$/),
  );
  lm.model.dispose();
  // the command line, in one process (src/testing/cli-cases.ts)
  const voice = join(root, 'multi-voice');
  const cases = [
    ['synthesize', '--checkpoint', voice, '--text', 'Hello.', '--out', join(root, 'c1.wav'), '--steps', '0', '--iters', '2'],
    [
      'synthesize',
      '--checkpoint',
      voice,
      '--text',
      'Hello.',
      '--out',
      join(root, 'c2.wav'),
      '--steps',
      '0',
      '--iters',
      '2',
      '--speaker',
      'zed',
    ],
    [
      'synthesize',
      '--checkpoint',
      single.runDir,
      '--text',
      'Hello.',
      '--out',
      join(root, 'c3.wav'),
      '--steps',
      '0',
      '--iters',
      '2',
      '--speaker',
      'ann',
    ],
    ['evaluate', '--checkpoint', voice, '--refs', corpus, '--speaker', 'zed', '--out', join(root, 'c4')],
    [
      'synthesize',
      '--checkpoint',
      voice,
      '--text',
      'Hello.',
      '--out',
      join(root, 'c5.wav'),
      '--steps',
      '0',
      '--iters',
      '2',
      '--speaker',
      'cy',
    ],
  ];
  writeFileSync(join(root, 'cases.json'), JSON.stringify(cases.map((c) => ['--backend', 'wasm', ...c])));
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, 'dist', 'src', 'testing', 'cli-cases.js'), join(root, 'cases.json'), join(root, 'results.json')],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const results = JSON.parse(readFileSync(join(root, 'results.json'), 'utf8')) as CaseResult[];
  const errors = results.map((r) => r.stderr.split('\n').filter((l) => l && !l.startsWith('difftts: using backend')));
  assert.deepEqual(
    results.map((r) => [r.code, r.threw]),
    [
      [2, null],
      [2, null],
      [2, null],
      [2, null],
      [0, null],
    ],
  );
  assert.deepEqual(errors.slice(0, 4), [
    ['difftts: no speaker chosen: this voice has 3 speakers (--speaker NAME): ann, bob, cy'],
    ["difftts: speaker 'zed' is not one of this voice's 3 speakers: ann, bob, cy"],
    ["difftts: speaker 'ann': this voice has one speaker (solo) and takes no --speaker"],
    ["difftts: speaker 'zed' is not one of this voice's 3 speakers: ann, bob, cy"],
  ]);
});

test('recipes/voices-multi.json: allison-enc128’s model with speakers from the data (6 speakers: 3.30 M weights), μ alone by default', async () => {
  const { resolveRecipe } = await import('./run.js');
  const { recipeModelConfig, withSpeakerCount } = await import('./gradtts-task.js');
  const { GradTTS } = await import('../model/index.js');
  const { symbolCount } = await import('../text/index.js');
  const multi = resolveRecipe({ recipePath: join(repoRoot, 'recipes', 'voices-multi.json') });
  const single = resolveRecipe({ recipePath: join(repoRoot, 'recipes', 'allison-enc128.json') });
  assert.deepEqual(multi.recipe.model, single.recipe.model, 'the proven voice’s model; nSpeakers follows the data');
  assert.equal(multi.recipe.synth.steps, 0, 'the encoder’s μ alone, as allison-enc128');
  assert.ok(multi.recipe.train.priorOnlySteps < multi.recipe.train.steps);
  const cfg = withSpeakerCount(recipeModelConfig(multi.recipe, multi.where), 6);
  const m = GradTTS.create(cfg, symbolCount({ mode: 'phonemes', addBlank: true }), 1);
  assert.equal((m.paramCount() / 1e6).toFixed(2), '3.30');
  m.dispose();
  assert.deepEqual(
    withSpeakerCount(cfg, 1),
    recipeModelConfig(single.recipe, single.where),
    'one speaker: the config as stored before speakers',
  );
});
