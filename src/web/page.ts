/// <reference lib="dom" />
/**
 * The `difftts web` page's script (bundled by scripts/build-web.mjs into dist/web/difftts-web.js):
 * picks a tfjs backend (backend.ts), fetches the voice next to the page (voice.ts: `voice/`, or
 * `?voice=URL`), and speaks the text box's text in the page itself (speak.ts) — audio player and
 * spectrogram. For automation it exposes
 *
 *   window.difftts.ready  → Promise<{ backend, voice, timings }>
 *   window.difftts.speak(text, { steps, temperature, lengthScale, seed, iters, speaker }?) → Promise<{ sampleRate, samples }>
 *     (speaker: one of ready's voice.speakers; default the speaker chosen in the page, the first one)
 *   window.difftts.timings: ms since navigation start when the backend, the voice and the first audio were ready
 *
 * Page parameters: ?backend=webgpu|wasm|cpu (default: webgpu where offered, else wasm), ?voice=URL.
 */
import type { Mel } from '../audio/mel.js';
import { renderSpectrogram } from '../util/spectrogram-pixels.js';
import { initPageBackend, type PageBackend } from './backend.js';
import { joinMels, speakPieces } from '../synthesis/speak.js';
import { buildVoice, fetchVoiceFiles, type WebVoice } from './voice.js';

interface SpeakOptions {
  steps?: number;
  temperature?: number;
  lengthScale?: number;
  seed?: number;
  iters?: number;
  /** A multi-speaker voice's speaker (default: the page's choice). */
  speaker?: string;
}

interface Timings {
  /** ms since navigation start (performance.now()): the bundle downloaded, parsed and its modules run. */
  scriptStart: number;
  backendReady?: number;
  voiceReady?: number;
  /** When the first speak() call had its first sentence's samples. */
  firstAudio?: number;
}

const params = new URLSearchParams(location.search);
const timings: Timings = { scriptStart: performance.now() };
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

function status(text: string): void {
  const el = $('status');
  if (el) el.textContent = text;
}

async function load(): Promise<{ backend: string; notes: string[]; voice: WebVoice; timings: Timings }> {
  const want = (params.get('backend') ?? 'auto') as PageBackend | 'auto';
  // the voice's 9 MB download and checksum overlap the backend's start
  const voiceUrl = new URL(params.get('voice') ?? 'voice/', location.href).href;
  const files = fetchVoiceFiles(voiceUrl);
  files.catch(() => {}); // reported below, once the backend is up
  const choice = await initPageBackend(want, new URL('./', location.href).href);
  timings.backendReady = performance.now();
  status(`backend ${choice.name}; loading the voice…`);
  const voice = buildVoice(await files);
  timings.voiceReady = performance.now();
  const stepsBox = $<HTMLInputElement>('steps');
  if (stepsBox && stepsBox.value === '') stepsBox.value = String(voice.synth.steps);
  // a multi-speaker voice: a choice of its speakers (the first chosen)
  const choose = $<HTMLSelectElement>('speaker');
  if (choose && voice.model.nSpeakers > 1) {
    for (const name of voice.speakers) choose.append(new Option(name, name));
    $('speaker-label')?.removeAttribute('hidden');
  }
  status(
    `ready: backend ${choice.name}${choice.notes.length ? ` (${choice.notes.join('; ')})` : ''}; voice step ${voice.checkpoint.meta.step}, ${(timings.voiceReady / 1000).toFixed(2)} s after the page started loading`,
  );
  return { backend: choice.name, notes: choice.notes, voice, timings };
}

const ready = load();
ready.catch((err) => status(`error: ${err instanceof Error ? err.message : String(err)}`));

/** Calls run one after another: the model's tensors are shared. */
let queue: Promise<unknown> = Promise.resolve();

async function speakNow(text: string, o: SpeakOptions, onMel?: (mel: Mel) => void): Promise<{ sampleRate: number; samples: Float32Array }> {
  const { voice } = await ready;
  const p = {
    steps: o.steps ?? voice.synth.steps,
    temperature: o.temperature ?? voice.synth.temperature,
    lengthScale: o.lengthScale ?? voice.synth.lengthScale,
    startTime: voice.synth.startTime,
    stochastic: false,
    seed: o.seed ?? 1,
    speaker: o.speaker ?? chosenSpeaker(voice),
  };
  const parts: Float32Array[] = [];
  const mels: Mel[] = [];
  for await (const piece of speakPieces(voice, text, p, o.iters ?? 32)) {
    timings.firstAudio ??= performance.now();
    parts.push(piece.samples);
    mels.push(piece.mel);
    onMel?.(joinMels(mels));
    status(
      `spoke sentence ${piece.index + 1} of ${piece.count}${piece.unknown.length ? ` (skipped characters with no symbol: ${piece.unknown.join(' ')})` : ''}`,
    );
  }
  const samples = new Float32Array(parts.reduce((n, x) => n + x.length, 0));
  let off = 0;
  for (const x of parts) {
    samples.set(x, off);
    off += x.length;
  }
  return { sampleRate: voice.melConfig.sampleRate, samples };
}

/** The page's chosen speaker of a multi-speaker voice (undefined for a single-speaker voice). */
function chosenSpeaker(voice: WebVoice): string | undefined {
  if (voice.model.nSpeakers === 1) return undefined;
  return $<HTMLSelectElement>('speaker')?.value || voice.speakers[0];
}

function speak(text: string, o: SpeakOptions = {}, onMel?: (mel: Mel) => void): Promise<{ sampleRate: number; samples: Float32Array }> {
  const run = queue.then(() => speakNow(text, o, onMel));
  queue = run.catch(() => {});
  return run;
}

function drawMel(mel: Mel): void {
  const canvas = $<HTMLCanvasElement>('spectrogram');
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx) return;
  const px = renderSpectrogram(mel, { scale: 2 });
  canvas.width = px.width;
  canvas.height = px.height;
  ctx.putImageData(
    new ImageData(new Uint8ClampedArray(px.rgba.buffer as ArrayBuffer, px.rgba.byteOffset, px.rgba.byteLength), px.width, px.height),
    0,
    0,
  );
}

/** Mono float samples → a 16-bit PCM WAV file's bytes (for the audio player). */
function wavBytes(samples: Float32Array, rate: number): Uint8Array {
  const out = new Uint8Array(44 + 2 * samples.length);
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  tag(0, 'RIFF');
  v.setUint32(4, 36 + 2 * samples.length, true);
  tag(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  tag(36, 'data');
  v.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++) v.setInt16(44 + 2 * i, Math.round(Math.max(-1, Math.min(1, samples[i]! || 0)) * 32767), true);
  return out;
}

async function onSpeakClick(): Promise<void> {
  const button = $<HTMLButtonElement>('speak');
  const text = $<HTMLTextAreaElement>('text')?.value ?? '';
  const num = (id: string) => {
    const s = $<HTMLInputElement>(id)?.value ?? '';
    return s === '' ? undefined : Number(s);
  };
  if (button) button.disabled = true;
  try {
    const t0 = performance.now();
    const audio = await speak(text, { steps: num('steps'), seed: num('seed') }, drawMel);
    const player = $<HTMLAudioElement>('player');
    if (player) {
      if (player.src) URL.revokeObjectURL(player.src);
      player.src = URL.createObjectURL(
        new Blob([wavBytes(audio.samples, audio.sampleRate) as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }),
      );
      void player.play().catch(() => {}); // autoplay may be refused; the controls remain
    }
    status(`${(audio.samples.length / audio.sampleRate).toFixed(2)} s of audio in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  } catch (err) {
    status(`error: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (button) button.disabled = false;
  }
}

$('speak')?.addEventListener('click', () => void onSpeakClick());

(window as unknown as { difftts: object }).difftts = {
  ready: ready.then((r) => ({
    backend: r.backend,
    notes: r.notes,
    voice: {
      step: r.voice.checkpoint.meta.step,
      sampleRate: r.voice.melConfig.sampleRate,
      synth: r.voice.synth,
      speakers: r.voice.speakers,
    },
    timings: { ...timings },
  })),
  speak: (text: string, o?: SpeakOptions) => speak(text, o, drawMel),
  timings,
};
