/**
 * The residual diagnostic's figure (residuals.ts): per checkpoint a strip plot of every training
 * utterance's diffusion-residual RMS at each fixed t, target and donor utterances side by side with
 * their medians and interquartile ranges; below, one strip plot of the prior-residual RMS with the
 * checkpoints as categories.
 */
import { encodePng, renderLinePlot, stackRasters, type LineSeries } from '../util/plot.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { groupStats, type ItemResiduals } from './residuals.js';

export interface ResidualCheckpoint {
  /** Short label, e.g. "clean-trained". */
  name: string;
  items: ItemResiduals[];
}

/** Points at x ± `jitter` (deterministic), one per value. */
function strip(name: string, x: number, values: number[], jitter: number, seed: number): LineSeries {
  const rng = new Rng(seed);
  return { name, x: values.map(() => x + (rng.uniform() * 2 - 1) * jitter), y: values, points: true };
}

/** Median with an interquartile whisker per x. */
function medians(name: string, xs: number[], groups: number[][]): LineSeries {
  const st = groups.map(groupStats);
  return { name, x: xs, y: st.map((s) => s.median), yLo: st.map((s) => s.q1), yHi: st.map((s) => s.q3) };
}

/** Dots of several strips merged into one series (one legend entry). */
function merged(name: string, parts: LineSeries[]): LineSeries {
  return { name, x: parts.flatMap((p) => p.x), y: parts.flatMap((p) => p.y), points: true };
}

/** Writes the figure as a PNG; `title` (short: the corpus) goes into every panel's title. */
export function writeResidualPng(path: string, checkpoints: readonly ResidualCheckpoint[], title: string): void {
  const off = 0.025;
  const panels = checkpoints.map((c, k) => {
    const ts = c.items[0]?.diffusion.map((d) => d.t) ?? [];
    const of = (donor: boolean, j: number) => c.items.filter((x) => x.donor === donor).map((x) => x.diffusion[j]!.rms);
    const nt = c.items.filter((x) => !x.donor).length;
    return renderLinePlot({
      width: 1000,
      height: 440,
      title: `${c.name}, ${title}: diffusion residual`,
      xLabel: 'diffusion time t',
      yLabel: 'RMS of s·√λ + z (units of z)',
      // the residual shrinks by decades from t = 0.1 to 0.9: a log axis shows donor/target ratios alike at every t
      logY: true,
      series: [
        merged(
          `target utterances (${nt})`,
          ts.map((t, j) => strip('', t - off, of(false, j), 0.012, 10 * k + j)),
        ),
        merged(
          `donor utterances (${c.items.length - nt})`,
          ts.map((t, j) => strip('', t + off, of(true, j), 0.012, 1000 + 10 * k + j)),
        ),
        medians(
          'target median, quartiles',
          ts.map((t) => t - off),
          ts.map((_, j) => of(false, j)),
        ),
        medians(
          'donor median, quartiles',
          ts.map((t) => t + off),
          ts.map((_, j) => of(true, j)),
        ),
      ],
    }).raster;
  });
  const prior = (donor: boolean, c: ResidualCheckpoint) => c.items.filter((x) => x.donor === donor).map((x) => x.prior.rms);
  const xs = checkpoints.map((_, k) => k);
  panels.push(
    renderLinePlot({
      width: 1000,
      height: 440,
      title: `${title}: prior residual y − μ (MAS alignment)`,
      xLabel: 'checkpoint',
      yLabel: 'RMS of y − μ (ln mel)',
      xTicks: checkpoints.map((c, k) => ({ value: k, label: c.name })),
      series: [
        merged(
          'target utterances',
          checkpoints.map((c, k) => strip('', k - 0.12, prior(false, c), 0.06, 2000 + k)),
        ),
        merged(
          'donor utterances',
          checkpoints.map((c, k) => strip('', k + 0.12, prior(true, c), 0.06, 3000 + k)),
        ),
        medians(
          'target median, quartiles',
          xs.map((k) => k - 0.12),
          checkpoints.map((c) => prior(false, c)),
        ),
        medians(
          'donor median, quartiles',
          xs.map((k) => k + 0.12),
          checkpoints.map((c) => prior(true, c)),
        ),
      ],
    }).raster,
  );
  writeFileAtomic(path, encodePng(stackRasters(panels), title));
}
