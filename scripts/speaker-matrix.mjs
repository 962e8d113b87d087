// A multi-speaker voice, speaker by speaker: pocketsphinx WER on unseen sentences and the speaker-distance
// confusion matrix (each speaker's samples against every voice's references; src/eval/speaker.ts).
// Every speaker of the voice speaks every sentence of --sentences (seed 7 + i, the voice's own synthesis
// defaults unless --steps/--temperature/--start-time are given); references are --refs utterances per
// speaker from the corpus (the same prompt ids for every speaker, every k-th of the prompts all speakers
// share), resynthesised log-mel → Griffin-Lim 32 so the references and the samples share the vocoder
// (scripts/speaker-validation.mjs shows why that matters). d[s][t] = speakerDistance(samples of s, refs of t)
// in dB; a speaker is recognised when its own column is the nearest.
// Usage: npm run build && node scripts/speaker-matrix.mjs --checkpoint DIR --data CORPUS [--refs 16]
//          [--sentences FILE] [--steps N] [--temperature T] [--start-time T0] [--speakers a,b] [--rows a,b] --out DIR
// --speakers: the voices compared (matrix columns; default every speaker of the voice); --rows: the
// speakers whose samples are made and scored (default all of --speakers).
// Writes OUT/matrix.json, OUT/matrix.png, OUT/<speaker>/NNN.wav; prints the JSON's summary line.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'dist', 'src', p);
const { initBackend } = await import(dist('backend/index.js'));
const { loadModel } = await import(dist('synthesis/model.js'));
const { speakAndScore } = await import(dist('eval/intelligibility.js'));
const { readSentences } = await import(dist('eval/sentences.js'));
const { speakerStats, speakerDistance } = await import(dist('eval/speaker.js'));
const { melCepstrum } = await import(dist('eval/mcep.js'));
const { readWav } = await import(dist('audio/wav.js'));
const { logMel } = await import(dist('audio/mel.js'));
const { griffinLim } = await import(dist('audio/griffinlim.js'));
const { Canvas, encodePng, BLACK } = await import(dist('util/plot.js'));

const { arg, num, fail } = scriptArgs('speaker-matrix');
const checkpoint = arg('checkpoint');
const corpus = arg('data');
const out = arg('out');
if (!checkpoint || !corpus || !out) fail('--checkpoint DIR, --data CORPUS and --out DIR are required');
const R = num('refs') ?? 16;
if (!Number.isInteger(R) || R < 1) fail(`--refs: expected an integer ≥ 1, got ${R}`);
const TITLE = 'Speaker distance (dB): samples of each speaker (rows) vs references of each voice (columns)';

try {
  await initBackend('wasm');
  const lm = loadModel(checkpoint);
  const speakers = arg('speakers')?.split(',') ?? lm.speakers;
  if (speakers.length < 2) fail(`${checkpoint}: not a multi-speaker voice (speakers: ${JSON.stringify(lm.speakers)})`);
  const meta = join(corpus, 'metadata.csv');
  let lines;
  try {
    lines = readFileSync(meta, 'utf8').trim().split('\n');
  } catch {
    fail(`${meta}: cannot read the corpus's metadata (expected id|text|normalized|speaker rows)`);
  }
  // prompt id → { speaker → utterance id }, from ids of the form <speaker>_<prompt id>
  const byPrompt = new Map();
  for (const line of lines) {
    const [id, , , spk] = line.split('|');
    if (!spk || !id.startsWith(`${spk}_`)) continue;
    const prompt = id.slice(spk.length + 1);
    if (!byPrompt.has(prompt)) byPrompt.set(prompt, {});
    byPrompt.get(prompt)[spk] = id;
  }
  const shared = [...byPrompt.entries()].filter(([, m]) => speakers.every((s) => m[s])).map(([p]) => p);
  if (shared.length < R) fail(`${meta}: ${shared.length} prompts are read by all of ${speakers.join(', ')}; --refs ${R} needs as many`);
  const step = Math.floor(shared.length / R);
  const refPrompts = shared.filter((_, i) => i % step === 0).slice(0, R);
  const cepOf = (samples) => melCepstrum(samples);
  const refs = {};
  for (const s of speakers) {
    refs[s] = speakerStats(
      refPrompts.map((p) =>
        cepOf(griffinLim(logMel(readWav(join(corpus, 'wavs', `${byPrompt.get(p)[s]}.wav`)).samples), { iters: 32, seed: 1 })),
      ),
    );
    process.stderr.write(`speaker-matrix: references of ${s} done\n`);
  }
  const texts = readSentences(arg('sentences', join(root, 'datasets', 'sentences', 'unseen.txt')));
  const settings = {
    steps: num('steps') ?? lm.synth.steps,
    temperature: num('temperature') ?? lm.synth.temperature,
    startTime: num('start-time') ?? lm.synth.startTime,
    iters: 32,
  };
  const rowSpeakers = arg('rows')?.split(',') ?? speakers;
  const strangers = rowSpeakers.filter((s) => !speakers.includes(s));
  if (strangers.length) fail(`--rows: ${strangers.join(', ')} not among the compared speakers (${speakers.join(', ')})`);
  const rows = [];
  for (const s of rowSpeakers) {
    const dir = join(out, s);
    const r = await speakAndScore(lm, texts, { ...settings, seed: 7, speaker: s, outDir: dir });
    if (r === null) fail('pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)', 1);
    const gen = speakerStats(r.rows.map((w) => cepOf(readWav(w.wav).samples)));
    const dist = Object.fromEntries(speakers.map((t) => [t, speakerDistance(gen, refs[t])]));
    const nearest = speakers.reduce((a, b) => (dist[b] < dist[a] ? b : a));
    rows.push({
      speaker: s,
      wer: r.corpusWer,
      distance: dist,
      nearest,
      perSentence: r.rows.map((w) => [w.substitutions + w.deletions + w.insertions, w.refWords]),
    });
    process.stderr.write(`speaker-matrix: ${s}: WER ${r.corpusWer?.toFixed(3)}, nearest ${nearest} (${dist[s].toFixed(2)} dB to itself)\n`);
  }
  // reference voices against each other: how far apart the voices are to begin with
  const refVsRef = Object.fromEntries(
    speakers.map((s) => [s, Object.fromEntries(speakers.map((t) => [t, speakerDistance(refs[s], refs[t])]))]),
  );
  const result = {
    checkpoint,
    corpus,
    ...settings,
    sentences: texts.length,
    refs: R,
    refPrompts,
    speakers,
    allNearestSelf: rows.every((r) => r.nearest === r.speaker),
    rows,
    refVsRef,
  };
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'matrix.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, 'matrix.png'), encodePng(heatmap(rows, speakers), TITLE));
  console.log(
    JSON.stringify({ checkpoint, allNearestSelf: result.allNearestSelf, wer: Object.fromEntries(rows.map((r) => [r.speaker, r.wer])) }),
  );
} catch (err) {
  fail(err instanceof Error ? err.message.split('\n')[0] : String(err), 1);
}

/** Rows = generated speaker, columns = reference voice; darker = nearer (per row); the nearest cell is boxed. */
function heatmap(rows, speakers) {
  const cell = 92;
  const left = 130;
  const top = 70;
  const n = speakers.length;
  const c = new Canvas(left + n * cell + 20, top + rows.length * cell + 50);
  c.text('Speaker distance (dB)', 10, 8, BLACK, 2);
  c.text('rows: samples of a speaker; columns: references of a voice', 10, 28, BLACK, 1);
  speakers.forEach((t, j) => c.text(t, left + j * cell + 6, top - 16, BLACK, 2));
  rows.forEach((r, i) => {
    const ds = speakers.map((t) => r.distance[t]);
    // the row's median maps to mid-shade, so one far voice (kal, 8 kHz) does not wash out the rest
    const lo = Math.min(...ds);
    const mid = [...ds].sort((a, b) => a - b)[Math.floor(ds.length / 2)];
    c.text(r.speaker, 8, top + i * cell + cell / 2 - 6, BLACK, 2);
    speakers.forEach((t, j) => {
      const u = mid > lo ? Math.min(1, (r.distance[t] - lo) / (mid - lo) / 2) : 0;
      const shade = [Math.round(40 + 215 * u), Math.round(90 + 165 * u), 255];
      const x0 = left + j * cell;
      const y0 = top + i * cell;
      c.rect(x0 + 2, y0 + 2, x0 + cell - 2, y0 + cell - 2, shade);
      if (t === r.nearest) {
        c.rect(x0, y0, x0 + cell, y0 + 2, BLACK);
        c.rect(x0, y0 + cell - 2, x0 + cell, y0 + cell, BLACK);
        c.rect(x0, y0, x0 + 2, y0 + cell, BLACK);
        c.rect(x0 + cell - 2, y0, x0 + cell, y0 + cell, BLACK);
      }
      c.text(r.distance[t].toFixed(2), x0 + 14, y0 + cell / 2 - 6, u < 0.5 ? [255, 255, 255] : BLACK, 2);
    });
  });
  c.text(
    'rows: generated speaker; columns: reference voice; box = nearest; darker = nearer (per row, the median mid-shade)',
    8,
    top + rows.length * cell + 20,
    BLACK,
    1,
  );
  return c;
}
