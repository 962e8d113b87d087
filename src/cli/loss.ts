/**
 * `difftts loss show`: what a loss configuration does — δ(t) at chosen diffusion times and the
 * element-wise loss at chosen residuals, as a table, JSON, or a PNG (δ(t) over t ∈ [0, 1] above the
 * loss curves against |residual| for a few t). Values are the float64 closed forms (`deltaAt`,
 * `lossAt`), the same formulas the tfjs training loss uses; no backend is needed.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { LOSS_TYPES, SCHEDULES, deltaAt, lossAt, parseLossConfig, usesDelta, type LossConfig, type VpSde } from '../loss/index.js';
import { MODEL_CONFIGS } from '../model/configs.js';
import { encodePng, renderLinePlot, stackRasters } from '../util/plot.js';
import { writeFileAtomic } from '../util/atomic.js';
import { parseNumber, parseNumberList } from './options.js';

export interface ShowOptions {
  type: string;
  schedule: string;
  c: string;
  scale: string;
  reversed?: boolean;
  beta0: string;
  beta1: string;
  t: string;
  residual: string;
  json?: boolean;
  png?: string;
}

export interface LossTable {
  type: string;
  schedule: string;
  c: number;
  scale: number;
  reversed: boolean;
  t: number[];
  residual: number[];
  delta: number[];
  /** loss[i][j]: loss at t[i] for residual[j]. */
  loss: number[][];
}

const FLAG_OF: Record<string, string> = {
  'loss.type': '--type',
  'loss.schedule': '--schedule',
  'loss.c': '--c',
  'loss.scale': '--scale',
};

/** The VP-SDE the snr schedule is shown against (a model's beta0/beta1); errors name the flag. */
function sdeFromFlags(o: ShowOptions): VpSde {
  const beta0 = parseNumber(o.beta0, '--beta0', { min: Number.MIN_VALUE });
  const beta1 = parseNumber(o.beta1, '--beta1', { min: Number.MIN_VALUE });
  if (beta1 < beta0) throw new UserError(`--beta1: expected a number ≥ --beta0 (${beta0}), got ${beta1}`);
  return { beta0, beta1 };
}

/** Builds the loss config from flags; field errors name the flag. */
function configFromFlags(o: ShowOptions): LossConfig {
  const num = (v: string, flag: string) => parseNumber(v, flag);
  const raw = { type: o.type, schedule: o.schedule, c: num(o.c, '--c'), scale: num(o.scale, '--scale'), reversed: o.reversed ?? false };
  try {
    return parseLossConfig(raw, 'loss show');
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const msg = err.message.replace(/^loss show: (loss\.\w+)/, (_m, f: string) => FLAG_OF[f] ?? f);
    throw new UserError(msg);
  }
}

/** δ(t) for each t and the loss for each (t, residual) pair. */
export function lossTable(cfg: LossConfig, sde: VpSde, t: number[], residual: number[]): LossTable {
  const delta = t.map((ti) => deltaAt(cfg, ti, sde));
  return {
    type: cfg.type,
    schedule: cfg.schedule,
    c: cfg.c,
    scale: cfg.scale,
    reversed: cfg.reversed,
    t,
    residual,
    delta,
    loss: delta.map((d) => residual.map((r) => lossAt(cfg.type, r, d))),
  };
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e5 || a < 1e-4 ? v.toExponential(4) : Number(v.toPrecision(6)).toString();
}

/** The table as aligned text columns: t, δ(t), then one column per residual. */
export function formatLossTable(tab: LossTable): string {
  const header = ['t', 'delta', ...tab.residual.map((r) => `loss(r=${fmt(r)})`)];
  const rows = tab.t.map((t, i) => [fmt(t), fmt(tab.delta[i]!), ...tab.loss[i]!.map(fmt)]);
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]) => cells.map((c, k) => c.padStart(widths[k]!)).join('  ');
  const usage = usesDelta(tab.type as LossConfig['type']) ? '' : `  (δ is not used by ${tab.type})`;
  const title = `loss ${tab.type}, schedule ${tab.schedule}, c ${fmt(tab.c)}, scale ${fmt(tab.scale)}${tab.reversed ? ', reversed' : ''}${usage}`;
  return [title, line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Two plots in one PNG: δ(t) on a fine t grid; loss vs |r| (log-log) at up to 5 of the given t, plus l2. */
export function lossShowPng(cfg: LossConfig, sde: VpSde, tPick: number[]): Uint8Array {
  const grid = Array.from({ length: 201 }, (_, i) => i / 200);
  const name = `${cfg.type}, ${cfg.schedule} c=${fmt(cfg.c)}${cfg.scale !== 1 ? ` scale=${fmt(cfg.scale)}` : ''}${cfg.reversed ? ' reversed' : ''}`;
  const top = renderLinePlot({
    width: 800,
    height: 420,
    title: `δ(t): ${name}`,
    xLabel: 'diffusion time t',
    yLabel: 'δ',
    series: [{ name: 'δ(t)', x: grid, y: grid.map((t) => deltaAt(cfg, t, sde)) }],
  });
  const r = Array.from({ length: 161 }, (_, i) => 10 ** (-3 + (i * 5) / 160));
  const picks = tPick.length <= 5 ? tPick : [0, 1, 2, 3, 4].map((k) => tPick[Math.round((k * (tPick.length - 1)) / 4)]!);
  const series = usesDelta(cfg.type)
    ? picks.map((t) => {
        const d = deltaAt(cfg, t, sde);
        return { name: `t=${fmt(t)} δ=${Number(d.toPrecision(3))}`, x: r, y: r.map((x) => lossAt(cfg.type, x, d)) };
      })
    : [{ name: cfg.type, x: r, y: r.map((x) => lossAt(cfg.type, x, 1)) }];
  if (cfg.type !== 'l2') series.push({ name: 'l2 (reference)', x: r, y: r.map((x) => x * x) });
  const bottom = renderLinePlot({
    width: 800,
    height: 480,
    title: `loss vs residual: ${cfg.type}`,
    xLabel: '|residual|',
    yLabel: 'loss',
    logX: true,
    logY: true,
    series,
  });
  return encodePng(stackRasters([top.raster, bottom.raster]), `difftts loss show: ${name}`);
}

/** Registers `difftts loss show`. */
export function register(program: Command): void {
  const loss = program.command('loss').description('inspect losses and δ schedules');
  loss
    .command('show')
    .description('print δ(t) and the element-wise loss at chosen t and residuals (table, --json or --png)')
    .requiredOption('--type <type>', `loss type: ${LOSS_TYPES.join(', ')}`)
    .option('--schedule <name>', `δ schedule: ${SCHEDULES.join(', ')}`, 'constant')
    .option('--c <number>', 'schedule constant (> 0): δ for constant, δ(1) for exponential, floor for snr', '1')
    .option('--scale <number>', 'multiplies δ (kohya huber_scale)', '1')
    .option('--reversed', 'read the schedule at 1 − t')
    .option('--beta0 <number>', "the model's VP-SDE β₀ (model.beta0), read by the snr schedule", String(MODEL_CONFIGS.full.beta0))
    .option('--beta1 <number>', "the model's VP-SDE β₁ (model.beta1)", String(MODEL_CONFIGS.full.beta1))
    .option('--t <list>', 'diffusion times in [0, 1], comma-separated', '0,0.25,0.5,0.75,1')
    .option('--residual <list>', 'residual values, comma-separated', '0.01,0.1,1,10')
    .option('--json', 'print one JSON object instead of a table')
    .option('--png <file>', 'also write a plot of δ(t) and the loss curves')
    .action((o: ShowOptions) => {
      process.stdout.write(runLossShow(o));
    });
}

/** The whole of `loss show` for parsed flags (string values as commander gives them): writes the PNG, returns stdout. */
export function runLossShow(o: ShowOptions): string {
  const cfg = configFromFlags(o);
  const sde = sdeFromFlags(o);
  const t = parseNumberList(o.t, '--t');
  for (const v of t) if (v < 0 || v > 1) throw new UserError(`--t: expected times in [0, 1], got ${v}`);
  const residual = parseNumberList(o.residual, '--residual');
  const tab = lossTable(cfg, sde, t, residual);
  if (o.png) {
    writeFileAtomic(o.png, lossShowPng(cfg, sde, t));
    process.stderr.write(`difftts: wrote ${o.png}\n`);
  }
  return o.json ? JSON.stringify(tab) + '\n' : formatLossTable(tab);
}
