/**
 * A voice over HTTP: the browser's counterpart of loading a checkpoint directory (src/train/
 * checkpoint.ts + loadModel). Fetches `BASE/state.json`, `weights.json` and `weights.bin` (an exported,
 * weights-only voice such as pretrained/allison-enc128), verifies them with the same code as Node
 * (checkpoint-format.ts; SHA-256 by SubtleCrypto) and builds the GradTTS model with those weights.
 * No DOM and no Node APIs: it runs in a page, a worker, or Node with an injected `fetch`.
 */
import { UserError } from '../errors.js';
import { GradTTS } from '../model/gradtts.js';
import type { LoadedCheckpoint, LoadedTensor } from '../train/checkpoint.js';
import {
  assignWeights,
  parseCheckpointState,
  pathIn,
  unpackTensors,
  voiceSettings,
  type VoiceSettings,
} from '../train/checkpoint-format.js';

/** A loaded voice: the same fields as Node's LoadedModel (src/synthesis/model.ts), so synthesis code takes either. */
export interface WebVoice {
  model: GradTTS;
  textConfig: VoiceSettings['textConfig'];
  melConfig: VoiceSettings['melConfig'];
  synth: VoiceSettings['synth'];
  speakers: VoiceSettings['speakers'];
  checkpoint: LoadedCheckpoint;
}

export type Fetch = (
  url: string,
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; arrayBuffer(): Promise<ArrayBuffer> }>;

async function get(fetchFn: Fetch, url: string): Promise<{ json(): Promise<unknown>; arrayBuffer(): Promise<ArrayBuffer> }> {
  let r: Awaited<ReturnType<Fetch>>;
  try {
    r = await fetchFn(url);
  } catch (err) {
    throw new UserError(`${url}: cannot fetch (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!r.ok) throw new UserError(`${url}: HTTP ${r.status} (the voice is incomplete)`);
  return r;
}

async function getJson(fetchFn: Fetch, url: string): Promise<any> {
  const r = await get(fetchFn, url);
  try {
    return await r.json();
  } catch {
    throw new UserError(`${url}: truncated or not JSON (the voice is damaged)`);
  }
}

/** Hex SHA-256 of `bytes` (Web Crypto: browsers, workers, Node ≥ 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A voice's files, fetched and verified (no tfjs needed yet: the page fetches while the backend starts). */
export interface VoiceFiles {
  base: string;
  checkpoint: LoadedCheckpoint;
  settings: VoiceSettings;
}

/** `base` (a URL of a voice directory) → its verified files. Errors are UserErrors naming the URL. */
export async function fetchVoiceFiles(base: string, fetchFn: Fetch = (u) => globalThis.fetch(u)): Promise<VoiceFiles> {
  const statePath = pathIn(base, 'state.json');
  const indexPath = pathIn(base, 'weights.json');
  const binPath = pathIn(base, 'weights.bin');
  const [state, index, buf] = await Promise.all([
    getJson(fetchFn, statePath),
    getJson(fetchFn, indexPath),
    get(fetchFn, binPath).then((r) => r.arrayBuffer()),
  ]);
  const { meta } = parseCheckpointState(state, statePath);
  const settings = voiceSettings(meta, statePath);
  const bytes = new Uint8Array(buf);
  const weights = new Map<string, LoadedTensor>();
  for (const t of unpackTensors(bytes, await sha256Hex(bytes), index, binPath, indexPath))
    weights.set(t.name, { shape: t.shape, data: t.data });
  // A training checkpoint's moving average (ema.bin) is not fetched: ship voices with `difftts export`.
  return { base, checkpoint: { dir: base, meta, weights, ema: null, optimizer: null }, settings };
}

/** Verified files → the voice, ready to speak (on the initialised tfjs backend). */
export function buildVoice(f: VoiceFiles): WebVoice {
  const model = GradTTS.create(f.settings.config, f.settings.nSymbols, 0);
  try {
    assignWeights(model.variables, f.checkpoint, 'best');
  } catch (err) {
    model.dispose();
    throw err;
  }
  return {
    model,
    textConfig: f.settings.textConfig,
    melConfig: f.settings.melConfig,
    synth: f.settings.synth,
    speakers: f.settings.speakers,
    checkpoint: f.checkpoint,
  };
}

/** `fetchVoiceFiles` then `buildVoice`. */
export async function fetchVoice(base: string, fetchFn?: Fetch): Promise<WebVoice> {
  return buildVoice(await fetchVoiceFiles(base, fetchFn));
}
