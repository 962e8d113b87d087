/**
 * Learning-rate schedule: a pure function of the step (nanoGPT-style), so a resumed run computes
 * exactly the rates an uninterrupted one would.
 *
 *   1. linear warmup from lr/warmupSteps to lr over the first `warmupSteps` steps;
 *   2. then `constant`: lr; `cosine`: half a cosine from lr down to minLrFactor·lr at `steps`
 *      (Loshchilov & Hutter, SGDR; the form GPT/nanoGPT use), flat after that.
 * Warmup keeps Adam's first, badly estimated second moments from taking big steps in the
 * transformer encoder; decay lets a short CPU run settle instead of hovering at a high rate.
 */
export interface LrSchedule {
  lr: number;
  warmupSteps: number;
  decay: 'constant' | 'cosine';
  /** Final rate as a fraction of lr (cosine). */
  minLrFactor: number;
  /** Step at which the cosine reaches its floor (the recipe's train.steps). */
  steps: number;
}

/** The learning rate of 1-based step `step`. */
export function learningRateAt(step: number, s: LrSchedule): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  if (s.decay === 'constant') return s.lr;
  const span = Math.max(1, s.steps - s.warmupSteps);
  const p = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  const floor = s.lr * s.minLrFactor;
  return floor + 0.5 * (s.lr - floor) * (1 + Math.cos(Math.PI * p));
}
