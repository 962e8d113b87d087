/**
 * What happens around each training step, one hook per concern: metrics.jsonl lines, checkpoints,
 * sample images, the progress bar (or status lines), and the two ways a run stops early (Ctrl-C,
 * the time budget). The loop (run.ts) calls every hook's `afterStep` in order, then asks the stop
 * conditions; none of them changes what the step computes.
 */
import cliProgress from 'cli-progress';
import { join } from 'node:path';
import { WriteError } from '../errors.js';
import type { Recipe } from './recipe.js';
import { checkpointName, rotateCheckpoints, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import type { StepResult, Trainer } from './loop.js';
import { appendMetrics, type MetricsLine } from './metrics.js';
import type { Task } from './task.js';
import type { DataOrder } from '../trainable/trainable.js';
import type { Rng } from '../util/rng.js';

/** Where a run is: the step count and the random state a checkpoint records with it. */
export interface RunState {
  step: number;
  order: DataOrder;
  modelRng: Rng;
}

export interface StepHook {
  /** After step `state.step` (1-based) was taken: `res` its numbers, `sPerStep` its wall time. */
  afterStep(state: RunState, res: StepResult, sPerStep: number): void | Promise<void>;
  /** When the loop ends, whether or not it finished (idempotent). */
  close?(): void;
}

/** metrics.jsonl, only on the logEvery grid, so an interrupted-and-resumed run logs exactly the same lines. */
export function metricsHook(path: string, trainer: Trainer<unknown>, logEvery: number): StepHook {
  return {
    afterStep: ({ step, order }, res, sPerStep) => {
      if (step % logEvery !== 0) return;
      const line: MetricsLine = {
        step,
        epoch: order.currentEpoch,
        ...res.terms,
        lr: trainer.learningRate,
        gradNorm: res.gradNorm,
        skipped: res.ok ? 0 : 1,
        badSteps: trainer.loop.badSteps,
        sPerStep,
      };
      appendMetrics(path, line);
    },
  };
}

/** Checkpoints every train.checkpointEvery steps and at train.steps, the newest keepCheckpoints kept; `save` also ends the loop. */
export function checkpointHook(
  runDir: string,
  task: Task<unknown>,
  trainer: Trainer<unknown>,
  recipe: Recipe,
  lastSaved: number,
): StepHook & { save(state: RunState): Promise<void> } {
  const t = recipe.train;
  const save = async ({ step, order, modelRng }: RunState) => {
    if (step === lastSaved) return;
    const meta: CheckpointMeta = {
      step,
      data: order.state(),
      modelRng: modelRng.state(),
      loop: structuredClone(trainer.loop),
      ...task.meta,
      recipe,
    };
    await saveCheckpoint(
      join(runDir, 'checkpoints', checkpointName(step)),
      task.trainable.variables,
      trainer.optimizer,
      meta,
      trainer.ema?.shadow ?? null,
    );
    rotateCheckpoints(runDir, t.keepCheckpoints);
    lastSaved = step;
  };
  return {
    save,
    afterStep: async (state) => {
      if (state.step % t.checkpointEvery === 0 || state.step === t.steps) await save(state);
    },
  };
}

/** A sample spectrogram PNG every train.pngEvery steps, from the weights synthesis will use (the moving average when there is one). */
export function samplesHook(
  runDir: string,
  task: Task<unknown>,
  trainer: Trainer<unknown>,
  pngEvery: number,
  log: (msg: string) => void,
): StepHook {
  return {
    afterStep: async ({ step }) => {
      if (pngEvery === 0 || step % pngEvery !== 0 || !task.sample) return;
      try {
        const png = join(runDir, 'samples', `${checkpointName(step)}.png`);
        if (trainer.ema) await trainer.ema.withAverage(() => task.sample!(png, step));
        else await task.sample(png, step);
      } catch (err) {
        if (err instanceof WriteError) throw err; // a full disk stops the run; a drawing problem does not
        log(`could not write the sample image at step ${step}: ${(err as Error).message.split('\n')[0]}`);
      }
    },
  };
}

/** Seconds of training left in a time budget (Infinity without one). */
export interface TimeBudget {
  left(): number;
  /** Whether the budget is spent: the loop stops with a checkpoint. */
  spent(): boolean;
}

export function timeBudget(maxSeconds: number | undefined): TimeBudget {
  const started = Date.now();
  const left = () => (maxSeconds === undefined ? Infinity : Math.max(0, maxSeconds - (Date.now() - started) / 1000));
  return { left, spent: () => maxSeconds !== undefined && (Date.now() - started) / 1000 >= maxSeconds };
}

/**
 * The progress bar on a terminal; elsewhere (CI, logs) a status line every minute, unless
 * `progress` is false. With a time budget the bar shows the budget left instead of a step ETA.
 */
export function progressHook(
  totalSteps: number,
  startStep: number,
  progress: boolean | undefined,
  budget: TimeBudget | null,
  log: (msg: string) => void,
): StepHook {
  const showBar = progress ?? process.stderr.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  if (showBar) {
    bar = new cliProgress.SingleBar(
      {
        format: `train |{bar}| step {value}/{total} | loss {loss} | {sps} s/step | ${budget === null ? 'ETA {eta_formatted}' : '{left} left of the time budget'}`,
        stream: process.stderr,
        etaBuffer: 20,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(totalSteps, startStep, { loss: '—', sps: '—', left: '—' });
  }
  const statusLines = !showBar && progress !== false;
  let lastStatus = Date.now();
  return {
    afterStep: ({ step }, res, sPerStep) => {
      if (statusLines && Date.now() - lastStatus >= 60_000) {
        lastStatus = Date.now();
        log(`step ${step}/${totalSteps}, loss ${res.terms.total!.toFixed(4)}, ${sPerStep.toFixed(2)} s/step`);
      }
      const left = budget?.left() ?? 0;
      bar?.update(step, {
        loss: res.terms.total!.toFixed(4),
        sps: sPerStep.toFixed(2),
        left: `${Math.floor(left / 60)}m${String(Math.round(left % 60)).padStart(2, '0')}s`,
      });
    },
    close: () => {
      bar?.stop();
      bar = null;
    },
  };
}

/** Ctrl-C: the first finishes the step and checkpoints (the loop asks `interrupted`); a second quits at once. */
export function interruptHandler(log: (msg: string) => void): { readonly interrupted: boolean; close(): void } {
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // second Ctrl-C: give up now (the last checkpoint stays)
    interrupted = true;
    log('interrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  return {
    get interrupted() {
      return interrupted;
    },
    close: () => process.off('SIGINT', onSigint),
  };
}
