#!/usr/bin/env node
/**
 * Process CPU seconds (all threads) and wall seconds of `synthesizeToFiles` on bench/synth.ts's
 * 10-sentence file (untrained `tiny`, lengthScale 4, 10 steps, Griffin-Lim 32) — the issue #24
 * measurement, for A/B runs on a busy machine where wall time is noise:
 *
 *   W=1 node scripts/synth-file-cpu.mjs            (W=2: this thread + one helper; D=DIST picks a build,
 *   W=2 D=/path/to/other/dist node scripts/synth-file-cpu.mjs       e.g. a copy of dist/ before a change)
 *
 * LOG=1 adds when each sentence finished (count@seconds). The checkpoint is written once under
 * $TMPDIR/difftts-synth-file-cpu.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const D = resolve(process.env.D ?? new URL('../dist', import.meta.url).pathname);
const { initBackend } = await import(`${D}/src/backend/index.js`);
const { saveCheckpoint } = await import(`${D}/src/train/checkpoint.js`);
const { freshLoopState } = await import(`${D}/src/train/loop.js`);
const { synthesizeToFiles } = await import(`${D}/src/synthesis/batch.js`);
const { GradTTS, MODEL_CONFIGS } = await import(`${D}/src/model/index.js`);
const { DEFAULT_TEXT, symbolCount } = await import(`${D}/src/text/index.js`);
const { DEFAULT_MEL } = await import(`${D}/src/audio/mel.js`);
const { TfAdam } = await import(`${D}/src/train/optimizer.js`);
const { Rng } = await import(`${D}/src/util/rng.js`);
await initBackend('wasm');
const ck = join(tmpdir(), 'difftts-synth-file-cpu', 'step-000000');
if (!existsSync(ck)) {
  const model = GradTTS.create(MODEL_CONFIGS.tiny, symbolCount(DEFAULT_TEXT), 1);
  const opt = new TfAdam(1e-3);
  await saveCheckpoint(ck, model.variables, opt, {
    step: 0,
    data: { rng: new Rng(0).state(), epoch: 0, pos: 0, order: [] },
    modelRng: new Rng(0).state(),
    loop: freshLoopState(),
    model: { kind: 'gradtts', config: MODEL_CONFIGS.tiny },
    nSymbols: symbolCount(DEFAULT_TEXT),
    textConfig: DEFAULT_TEXT,
    melConfig: DEFAULT_MEL,
    recipe: { synth: { steps: 10, temperature: 1.5, lengthScale: 4 } },
  });
  opt.dispose();
  model.dispose();
}
const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Please enter your password, followed by the pound key.',
  'All circuits are busy now, please try again later.',
  'Thank you for calling, goodbye.',
  'She sells sea shells by the sea shore.',
  'The birch canoe slid on the smooth planks.',
  'Glue the sheet to the dark blue background.',
  'It is easy to tell the depth of a well.',
  'These days a chicken leg is a rare dish.',
  'Rice is often served in round bowls.',
];
const workers = Number(process.env.W ?? 1);
const out = mkdtempSync(join(tmpdir(), 'difftts-synth-file-'));
try {
  const log = [];
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const files = await synthesizeToFiles({
    checkpoint: ck,
    texts: TEXTS,
    out: join(out, 'x.wav'),
    many: true,
    steps: 10,
    lengthScale: 4,
    iters: 32,
    workers,
    onDone: process.env.LOG ? (d) => log.push(`${d}@${secs().toFixed(1)}`) : undefined,
  });
  const c = process.cpuUsage(c0);
  const wall = secs();
  const audio = files.reduce((a, f) => a + f.seconds, 0);
  console.log(
    `workers ${workers}: cpu ${((c.user + c.system) / 1e6).toFixed(2)} s, wall ${wall.toFixed(2)} s, audio ${audio.toFixed(2)} s ${log.join(' ')}`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
