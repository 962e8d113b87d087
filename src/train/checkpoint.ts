/**
 * Checkpoints: one directory per step (`checkpoints/step-000100/`), written atomically (temp dir,
 * then rename), so a kill at any moment leaves either the old set or the new one.
 *
 *   weights.bin    float32 little-endian, the model variables one after another
 *   weights.json   {entries: [{name, shape, offset, length}], bytes, sha256}
 *   ema.bin/.json  the weights' moving average, same layout (only when train.ema > 0)
 *   optimizer.bin  Adam m then v (float32), in the order the optimizer holds them
 *   optimizer.json {iterations, accBeta1, accBeta2, entries, bytes, sha256}
 * An exported voice (`difftts export`, saveWeightsOnly) has weights + state.json only.
 *   state.json     written last: step, RNG states, data order, loop counters, model/text/mel config
 *
 * A checkpoint explains itself: state.json carries the model config and nSymbols, so synthesis
 * needs nothing else.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeDirAtomicAsync, writeFileAtomic } from '../util/atomic.js';
import type { Optimizer, OptimizerSnapshot } from './optimizer.js';
import type { RngState } from '../util/rng.js';
import type { DataOrderState } from '../trainable/trainable.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, parseCheckpointState, unpackTensors } from './checkpoint-format.js';

export { assignWeights, CHECKPOINT_FORMAT, CHECKPOINT_VERSION } from './checkpoint-format.js';

/** Counters of the training loop that must survive a resume for identical metrics. */
export interface LoopState {
  /** Steps skipped for a non-finite loss or gradient, in total and in a row. */
  badSteps: number;
  badInRow: number;
  /** Recent finite total losses (newest last), for the divergence check. */
  recentLosses: number[];
  /** Updates folded into the weights' moving average (absent in checkpoints from before EMA). */
  emaUpdates: number;
}

export interface CheckpointMeta {
  step: number;
  data: DataOrderState;
  modelRng: RngState;
  loop: LoopState;
  /** 'gradtts' or 'toy', and the full model config. */
  model: { kind: string; config: unknown };
  nSymbols: number | null;
  textConfig: unknown;
  melConfig: unknown;
  /** The resolved recipe (for reference; the run directory's recipe.json is authoritative). */
  recipe: unknown;
  /**
   * GradTTS: the name of each speaker embedding row (model config nSpeakers > 1), or the single
   * speaker's name, or [] for one unnamed speaker; absent in checkpoints from before speakers ([]).
   */
  speakers?: string[];
}

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export interface LoadedTensor {
  shape: number[];
  data: Float32Array;
}

export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  weights: Map<string, LoadedTensor>;
  /** The weights' moving average, when the run kept one (what synthesis and --init prefer). */
  ema: Map<string, LoadedTensor> | null;
  /** null for a weights-only checkpoint (an exported voice): it cannot be resumed. */
  optimizer: OptimizerSnapshot | null;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function packTensors(items: { name: string; shape: number[]; data: Float32Array }[]): { bin: Uint8Array; entries: TensorEntry[] } {
  const total = items.reduce((s, t) => s + t.data.length, 0);
  const all = new Float32Array(total);
  const entries: TensorEntry[] = [];
  let off = 0;
  for (const t of items) {
    all.set(t.data, off);
    entries.push({ name: t.name, shape: t.shape, offset: off, length: t.data.length });
    off += t.data.length;
  }
  // Float32Array is little-endian on every platform Node runs on.
  return { bin: new Uint8Array(all.buffer), entries };
}

/**
 * Writes checkpoint `dir` atomically from the live variables and optimizer (whose snapshot holds
 * m and v for every variable, frozen ones included). Returns once the directory is in place.
 */
export async function saveCheckpoint(
  dir: string,
  variables: Map<string, tf.Variable>,
  optimizer: Optimizer,
  meta: CheckpointMeta,
  ema: Map<string, tf.Variable> | null = null,
): Promise<void> {
  const w = packTensors(await tensorItems(variables));
  const e = ema ? packTensors(await tensorItems(ema)) : null;
  const snap = await optimizer.snapshot();
  // tfjs names Adam's slots after its own variable ids, which differ between processes; store ours.
  const names = [...variables.keys()];
  if (snap.tensors.length === 2 * names.length) {
    snap.tensors.forEach((t, i) => (t.name = `${names[i % names.length]}/${i < names.length ? 'm' : 'v'}`));
  }
  const o = packTensors(snap.tensors);
  await writeDirAtomicAsync(dir, async (tmp) => {
    writeFileSync(join(tmp, 'weights.bin'), w.bin);
    writeFileSync(join(tmp, 'weights.json'), JSON.stringify({ entries: w.entries, bytes: w.bin.length, sha256: sha256(w.bin) }) + '\n');
    if (e) {
      writeFileSync(join(tmp, 'ema.bin'), e.bin);
      writeFileSync(
        join(tmp, 'ema.json'),
        JSON.stringify({ decayUpdates: meta.loop.emaUpdates, entries: e.entries, bytes: e.bin.length, sha256: sha256(e.bin) }) + '\n',
      );
    }
    writeFileSync(join(tmp, 'optimizer.bin'), o.bin);
    writeFileSync(
      join(tmp, 'optimizer.json'),
      JSON.stringify({
        iterations: snap.iterations,
        accBeta1: snap.accBeta1,
        accBeta2: snap.accBeta2,
        entries: o.entries,
        bytes: o.bin.length,
        sha256: sha256(o.bin),
      }) + '\n',
    );
    writeFileSync(
      join(tmp, 'state.json'),
      JSON.stringify({ format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...meta }, null, 1) + '\n',
    );
  });
}

/** Named float32 tensors' data, in the map's order. */
async function tensorItems(vars: Map<string, tf.Variable>): Promise<{ name: string; shape: number[]; data: Float32Array }[]> {
  const items = [];
  for (const [name, v] of vars) {
    if (v.dtype !== 'float32') throw new Error(`checkpoint: variable ${name} is ${v.dtype}, only float32 is supported`);
    items.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  }
  return items;
}

/**
 * Writes a weights-only checkpoint (no optimizer state: a voice to synthesize with or to start
 * fine-tuning from with `train --init`), e.g. pretrained/allison-tiny. `weights` are the ones to
 * ship — the moving average when the run kept one. Other files in `dir` (README, LICENSE,
 * metrics) stay; each file is replaced atomically and state.json last, so a reader never pairs a
 * new state with missing weights (the checksum catches old state + new weights).
 */
export function saveWeightsOnly(dir: string, weights: Map<string, LoadedTensor>, meta: CheckpointMeta): void {
  const w = packTensors([...weights].map(([name, t]) => ({ name, shape: t.shape, data: t.data })));
  writeFileAtomic(join(dir, 'weights.bin'), w.bin);
  writeFileAtomic(join(dir, 'weights.json'), JSON.stringify({ entries: w.entries, bytes: w.bin.length, sha256: sha256(w.bin) }) + '\n');
  writeFileAtomic(
    join(dir, 'state.json'),
    JSON.stringify({ format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, weightsOnly: true, ...meta }, null, 1) + '\n',
  );
}

/** A file of a checkpoint, read whole; a missing or unreadable one is a UserError naming it. */
function readFileOf(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${path}: missing (the checkpoint is incomplete)`);
    throw new UserError(`${path}: cannot read (${code ?? (err as Error).message})`);
  }
}

function readJson(path: string): any {
  const text = readFileOf(path).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new UserError(`${path}: truncated or not JSON (the checkpoint is damaged)`);
  }
}

function readPacked(binPath: string, index: any, indexPath: string): { name: string; shape: number[]; data: Float32Array }[] {
  const buf = readFileOf(binPath);
  return unpackTensors(buf, sha256(buf), index, binPath, indexPath);
}

/** Reads and verifies a checkpoint directory; any missing, truncated or corrupted file is a UserError naming it. */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: not a checkpoint directory`);
  try {
    readdirSync(dir);
  } catch (err) {
    throw new UserError(`${dir}: cannot read the checkpoint folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const statePath = join(dir, 'state.json');
  const { meta, weightsOnly } = parseCheckpointState(readJson(statePath), statePath);
  const wIndexPath = join(dir, 'weights.json');
  const weights = new Map<string, LoadedTensor>();
  for (const t of readPacked(join(dir, 'weights.bin'), readJson(wIndexPath), wIndexPath))
    weights.set(t.name, { shape: t.shape, data: t.data });
  let ema: Map<string, LoadedTensor> | null = null;
  if (existsSync(join(dir, 'ema.json'))) {
    const eIndexPath = join(dir, 'ema.json');
    ema = new Map();
    for (const t of readPacked(join(dir, 'ema.bin'), readJson(eIndexPath), eIndexPath)) ema.set(t.name, { shape: t.shape, data: t.data });
    const bad = [...weights].find(([name, w]) => ema!.get(name)?.shape.join('x') !== w.shape.join('x'));
    if (bad || ema.size !== weights.size)
      throw new UserError(
        `${eIndexPath}: the moving-average weights do not match weights.json${bad ? ` ('${bad[0]}')` : ''} (the checkpoint is damaged)`,
      );
  }
  if (weightsOnly) return { dir, meta, weights, ema, optimizer: null };
  const oIndexPath = join(dir, 'optimizer.json');
  const oIndex = readJson(oIndexPath);
  const tensors = readPacked(join(dir, 'optimizer.bin'), oIndex, oIndexPath);
  return {
    dir,
    meta,
    weights,
    ema,
    optimizer: { iterations: oIndex.iterations, accBeta1: oIndex.accBeta1, accBeta2: oIndex.accBeta2, tensors },
  };
}

/** What assignMatchingWeights did: variables loaded, left as initialised, checkpoint tensors unused. */
export interface PartialLoad {
  loaded: string[];
  /** Variables the checkpoint has no tensor of that name and shape for: [name, why]. */
  fresh: [string, string][];
  unused: string[];
}

/**
 * A partial `--init` (recipe train.initPartial): copies every checkpoint tensor whose name and
 * shape match a variable ('best': the moving average when there is one), leaves the others as
 * initialised, and says which.
 */
export function assignMatchingWeights(
  variables: Map<string, tf.Variable>,
  ckpt: LoadedCheckpoint,
  source: 'weights' | 'best' = 'best',
  wanted: (name: string) => boolean = () => true,
): PartialLoad {
  const weights = source === 'best' && ckpt.ema ? ckpt.ema : ckpt.weights;
  const out: PartialLoad = { loaded: [], fresh: [], unused: [...weights.keys()].filter((k) => !variables.has(k)) };
  tf.tidy(() => {
    for (const [name, v] of variables) {
      const w = weights.get(name);
      if (!wanted(name)) out.fresh.push([name, 'not in train.initParts']);
      else if (!w) out.fresh.push([name, 'not in the checkpoint']);
      else if (w.shape.join('x') !== v.shape.join('x')) out.fresh.push([name, `[${w.shape}] in the checkpoint, [${v.shape}] here`]);
      else {
        v.assign(tf.tensor(w.data, w.shape, 'float32'));
        out.loaded.push(name);
      }
    }
  });
  return out;
}

/**
 * `difftts export`: a run's (or checkpoint's) shipping weights — the moving average when it has
 * one — as a weights-only checkpoint in `outDir`. Returns what was exported.
 */
export function exportWeights(
  from: string,
  outDir: string,
  warn: (msg: string) => void = () => {},
  synth?: (recipe: Record<string, unknown>) => object,
): { source: string; step: number; ema: boolean; bytes: number } {
  const ckpt = openCheckpoint(from, warn);
  const weights = ckpt.ema ?? ckpt.weights;
  // `synth`: the voice's synthesis defaults, set at export (difftts export --synth.temperature 10 …)
  const recipe = (ckpt.meta.recipe ?? {}) as Record<string, unknown>;
  saveWeightsOnly(outDir, weights, synth ? { ...ckpt.meta, recipe: { ...recipe, synth: synth(recipe) } } : ckpt.meta);
  let bytes = 0;
  for (const t of weights.values()) bytes += t.data.byteLength;
  return { source: ckpt.dir, step: ckpt.meta.step, ema: ckpt.ema !== null, bytes };
}

/** A checkpoint directory, or a run directory's newest loadable checkpoint; UserError when neither. */
export function openCheckpoint(path: string, warn: (msg: string) => void = () => {}): LoadedCheckpoint {
  if (!existsSync(path)) throw new UserError(`${path}: no such run or checkpoint directory`);
  const ckpt = existsSync(join(path, 'state.json')) ? readCheckpoint(path) : latestLoadable(path, warn);
  if (!ckpt)
    throw new UserError(`${path}: no loadable checkpoint (expected a run directory with checkpoints/step-*/ or a checkpoint directory)`);
  return ckpt;
}

/** Checkpoint directories of a run, oldest first (temporary leftovers are ignored). */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  const root = join(runDir, 'checkpoints');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), dir: join(root, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * The newest checkpoint of a run that reads and verifies (null when none does), and why each newer
 * one failed, newest first (one line each, naming the file).
 */
export function newestLoadable(runDir: string): { ckpt: LoadedCheckpoint | null; failures: string[] } {
  const list = listCheckpoints(runDir);
  const failures: string[] = [];
  for (let i = list.length - 1; i >= 0; i--) {
    try {
      return { ckpt: readCheckpoint(list[i]!.dir), failures };
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      failures.push(err.message);
    }
  }
  return { ckpt: null, failures };
}

/** The newest checkpoint that reads and verifies, or null; damaged newer ones are reported via `warn`. */
export function latestLoadable(runDir: string, warn: (msg: string) => void = () => {}): LoadedCheckpoint | null {
  const { ckpt, failures } = newestLoadable(runDir);
  for (const f of failures) warn(`skipping damaged checkpoint: ${f}`);
  return ckpt;
}

/** Removes temp directories a killed writer left behind in `checkpoints/`. */
export function cleanCheckpointLeftovers(runDir: string): void {
  const root = join(runDir, 'checkpoints');
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) if (name.startsWith('.')) rmSync(join(root, name), { recursive: true, force: true });
}

/**
 * Keeps the newest `keep` checkpoints. The newest is re-read and verified first; if it does not
 * load, nothing is deleted (so the only loadable checkpoint is never removed).
 */
export function rotateCheckpoints(runDir: string, keep: number): void {
  const list = listCheckpoints(runDir);
  if (list.length <= keep) return;
  try {
    readCheckpoint(list[list.length - 1]!.dir);
  } catch {
    return;
  }
  for (const c of list.slice(0, list.length - keep)) {
    // Rename first so that a kill mid-delete leaves a dot-name leftover, not a half checkpoint.
    const doomed = join(runDir, 'checkpoints', `.deleting-${checkpointName(c.step)}`);
    renameSync(c.dir, doomed);
    rmSync(doomed, { recursive: true, force: true });
  }
}
