/**
 * The Slurm executor: every unfinished cell becomes one batch job that runs the cell's command
 * (`difftts experiment-cell …`) on a compute node, with `afterok` dependencies on the jobs of the
 * cells it needs. A shared filesystem is assumed: jobs write into the experiment directory, and a
 * cell's outputs (its DONE markers) are the only proof that it is done.
 *
 * Bookkeeping lives in OUT/slurm/: jobs.json (cell → job ids submitted, newest last), one sbatch
 * script per cell (re-submittable by hand), and started/<job id>, written by a job when it begins.
 * The driver polls `squeue -t all` (no accounting daemon needed): a job that left the queue, or ended
 * in any state, without its cell being done has failed and is resubmitted up to `retries` times per
 * invocation — a preempted or timed-out training resumes from its last checkpoint. A job Slurm
 * cancelled because a dependency failed never started and does not count. With `wait: false`
 * everything is submitted and the driver returns; running it again picks the jobs up from jobs.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { readJsonFile } from '../../util/json-file.js';
import type { Cell, Executor, Progress } from './index.js';

export const SlurmOptionsSchema = z
  .object({
    /** sbatch --partition. */
    partition: z.string().min(1).optional(),
    /** sbatch --time, e.g. "4:00:00" or "2-00:00:00". */
    time: z
      .string()
      .regex(/^(\d+-)?\d+(:\d+){0,2}$/, 'expected a Slurm time such as 30, 4:00:00 or 2-00:00:00')
      .optional(),
    /** sbatch --cpus-per-task (a wasm cell uses one core). */
    cpus: z.number().int().min(1).default(1),
    /** sbatch --gres, e.g. "gpu:1" for tfjs-node-gpu. */
    gres: z.string().min(1).optional(),
    /** Further sbatch options, one per entry, e.g. ["--account=tts", "--qos=low"]. */
    extra: z.array(z.string().regex(/^-/, 'expected an sbatch option starting with "-"')).default([]),
    /** Resubmissions of a failed or preempted cell per invocation. */
    retries: z.number().int().min(0).default(2),
    /** Seconds between squeue polls. */
    poll: z.number().min(0.1).default(15),
  })
  .strict();

export type SlurmOptions = z.infer<typeof SlurmOptionsSchema>;

/** Job state as squeue reports it (%T) and why (%r), e.g. CANCELLED / DependencyNeverSatisfied. */
export interface JobState {
  state: string;
  reason: string;
}

/** The two Slurm commands the executor needs; a fake stands in for them in unit tests. */
export interface SlurmClient {
  /** Submits `script` with afterok dependencies on `after`; returns the job id. */
  submit(script: string, after: string[]): string;
  /** States of those of `ids` that Slurm still knows (finished jobs are forgotten after MinJobAge). */
  states(ids: string[]): Map<string, JobState>;
}

/** States in which a job will not run (again) by itself; anything else is queued or running. */
const ENDED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'SPECIAL_EXIT',
  'REVOKED',
]);

const COMPLETED_GRACE_MS = 60_000;

function slurmCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `${cmd}: not found (--executor slurm needs Slurm's client commands on PATH)` : `${cmd}: ${r.error.message}`,
    );
  }
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** sbatch and squeue on PATH, with `env` as the jobs' environment (sbatch exports it). */
export function commandLineClient(env: NodeJS.ProcessEnv = process.env): SlurmClient {
  return {
    submit(script, after) {
      const deps = after.length ? [`--dependency=afterok:${after.join(':')}`, '--kill-on-invalid-dep=yes'] : [];
      const r = slurmCommand('sbatch', ['--parsable', ...deps, script], env);
      const id = r.stdout.trim().split(';')[0] ?? '';
      if (r.status !== 0 || !/^\d+(_\d+)?$/.test(id))
        throw new UserError(`sbatch ${script}: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.status}`}`);
      return id;
    },
    states(ids) {
      const out = new Map<string, JobState>();
      if (ids.length === 0) return out;
      const r = slurmCommand('squeue', ['-h', '-t', 'all', '-j', ids.join(','), '-o', '%i|%T|%r'], env);
      // Every id forgotten by slurmctld: squeue says so and exits 1.
      if (r.status !== 0 && /invalid job id/i.test(r.stderr)) return out;
      if (r.status !== 0) throw new UserError(`squeue: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`);
      for (const line of r.stdout.split('\n')) {
        const [id, state, reason] = line.trim().split('|');
        if (id && state) out.set(id, { state: state.split(/\s/)[0]!, reason: reason ?? '' });
      }
      return out;
    },
  };
}

/** Quotes `s` for bash. */
function sh(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface SlurmExecutorOptions {
  /** Bookkeeping directory (OUT/slurm). */
  dir: string;
  /** Where the jobs' stdout/stderr go (OUT/logs). */
  logs: string;
  /** Job-name prefix, e.g. the experiment's name. */
  name: string;
  /** The command line (argv) that does a cell's work. */
  command: (cell: Cell) => string[];
  options: SlurmOptions;
  /** False: submit and return without waiting. */
  wait: boolean;
  client?: SlurmClient;
  /** Where notices go (submissions, failures); stderr by default. */
  log?: (line: string) => void;
}

/** The sbatch script of one cell: its resources as #SBATCH lines, a start marker, then the cell's command. */
export function sbatchScript(cell: Cell, o: Pick<SlurmExecutorOptions, 'dir' | 'logs' | 'name' | 'command' | 'options'>): string {
  const s = o.options;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=${o.name}-${cell.id}`,
    `#SBATCH --output=${join(o.logs, `slurm-${cell.id}-%j.out`)}`,
    '#SBATCH --open-mode=append',
    `#SBATCH --cpus-per-task=${s.cpus}`,
    ...(s.partition ? [`#SBATCH --partition=${s.partition}`] : []),
    ...(s.time ? [`#SBATCH --time=${s.time}`] : []),
    ...(s.gres ? [`#SBATCH --gres=${s.gres}`] : []),
    ...s.extra.map((x) => `#SBATCH ${x}`),
    `# difftts experiment cell ${cell.id}: written and submitted by \`difftts experiment --executor slurm\`, which resubmits it when it fails.`,
    `echo "$SLURM_JOB_ID $(hostname) $(date -Is)" > ${sh(join(o.dir, 'started'))}/"$SLURM_JOB_ID"`,
    `exec ${o.command(cell).map(sh).join(' ')}`,
    '',
  ];
  return lines.join('\n');
}

/**
 * How a job that left the queue ended, for the notice: its state and reason and its log — or, for
 * a job that never started (cancelled while pending), that and its pending reason, with no log to
 * point at (Slurm writes none for a job that never ran). `st` is undefined once Slurm forgot it.
 */
function describeEnd(job: string, st: JobState | undefined, started: boolean, log: string): string {
  const reason = st?.reason && st.reason !== 'None' ? st.reason : '';
  if (!started && !existsSync(log)) {
    const how = !st
      ? 'left the queue before it started'
      : st.state === 'CANCELLED'
        ? 'was cancelled while pending'
        : `ended ${st.state} before it started`;
    return `job ${job} ${how}${reason ? ` (pending reason: ${reason})` : ''}; it never ran, so it has no log`;
  }
  const why = st ? `${st.state}${reason ? ` (${reason})` : ''}` : 'left the queue';
  return `job ${job} ${why}; see ${log}${existsSync(log) ? '' : ' (not there)'}`;
}

/** `cells` with every cell after its deps. */
function dependencyOrder(cells: Cell[]): Cell[] {
  const placed = new Set<string>();
  const order: Cell[] = [];
  let rest = cells;
  while (rest.length > 0) {
    const ready = rest.filter((c) => c.deps.every((d) => placed.has(d)));
    if (ready.length === 0)
      throw new Error(`cells ${rest.map((c) => c.id).join(', ')} depend on cells that are not in the experiment (or on each other)`);
    for (const c of ready) placed.add(c.id);
    order.push(...ready);
    rest = rest.filter((c) => !placed.has(c.id));
  }
  return order;
}

export function slurmExecutor(o: SlurmExecutorOptions): Executor {
  const client = o.client ?? commandLineClient();
  const log = o.log ?? ((line: string) => process.stderr.write(`difftts: slurm: ${line}\n`));
  const jobsPath = join(o.dir, 'jobs.json');
  return {
    async run(cells: Cell[], onProgress?: (p: Progress) => void): Promise<boolean> {
      mkdirSync(join(o.dir, 'started'), { recursive: true });
      mkdirSync(o.logs, { recursive: true });
      const jobs = (existsSync(jobsPath) ? readJsonFile(jobsPath, "the Slurm executor's job list") : {}) as Record<string, string[]>;
      const judged = new Set<string>();
      /** When a job was first seen COMPLETED with its cell's outputs not yet visible (NFS caches directory entries). */
      const completedAt = new Map<string, number>();
      const failures = new Map<string, number>();
      const lastEnd = new Map<string, string>();
      cells = dependencyOrder(cells);
      let lastNote = '';
      for (let first = true; ; first = false) {
        // Ask Slurm first, then look at the files: a job that finishes in between is seen as running.
        const states = client.states(cells.map((c) => jobs[c.id]?.at(-1)).filter((j): j is string => j !== undefined));
        const status = new Map<string, 'done' | 'queued' | 'running' | 'failed' | 'blocked'>();
        for (const cell of cells) {
          if (cell.done()) {
            status.set(cell.id, 'done');
            continue;
          }
          const job = jobs[cell.id]?.at(-1);
          const st = job ? states.get(job) : undefined;
          if (job && st && !ENDED.has(st.state)) {
            status.set(cell.id, st.state === 'RUNNING' ? 'running' : 'queued');
            continue;
          }
          // The cell command exits 0 only with the cell done: wait a minute for its files to show.
          if (job && st?.state === 'COMPLETED') {
            if (!completedAt.has(job)) completedAt.set(job, Date.now());
            if (Date.now() - completedAt.get(job)! < COMPLETED_GRACE_MS) {
              status.set(cell.id, 'running');
              continue;
            }
          }
          if (job && !judged.has(job)) {
            judged.add(job);
            const started = existsSync(join(o.dir, 'started', job));
            if (started || st?.reason !== 'DependencyNeverSatisfied') {
              // Jobs that ended before this invocation are history: they do not use up its retries.
              if (!first) failures.set(cell.id, (failures.get(cell.id) ?? 0) + 1);
              lastEnd.set(cell.id, describeEnd(job, st, started, join(o.logs, `slurm-${cell.id}-${job}.out`)));
              log(`${cell.id}: ${lastEnd.get(cell.id)}`);
            }
          }
          if ((failures.get(cell.id) ?? 0) > o.options.retries) {
            status.set(cell.id, 'failed');
            continue;
          }
          const deps = cell.deps.map((d) => [d, status.get(d)!] as const);
          if (deps.some(([, s]) => s === 'failed' || s === 'blocked')) {
            status.set(cell.id, 'blocked');
            continue;
          }
          const script = join(o.dir, `${cell.id}.sh`);
          writeFileAtomic(script, sbatchScript(cell, o));
          const id = client.submit(
            script,
            deps.filter(([, s]) => s !== 'done').map(([d]) => jobs[d]!.at(-1)!),
          );
          jobs[cell.id] = [...(jobs[cell.id] ?? []), id];
          writeFileAtomic(jobsPath, JSON.stringify(jobs, null, 1) + '\n');
          log(
            `submitted ${cell.id} as job ${id}${failures.get(cell.id) ? ` (retry ${failures.get(cell.id)} of ${o.options.retries})` : ''}`,
          );
          status.set(cell.id, 'queued');
        }
        const count = (s: string) => [...status.values()].filter((x) => x === s).length;
        const note = `${count('running')} running, ${count('queued')} queued${count('failed') + count('blocked') ? `, ${count('failed')} failed, ${count('blocked')} blocked` : ''}`;
        if (`${count('done')} ${note}` !== lastNote) {
          onProgress?.({ done: count('done'), total: cells.length, note });
          if (o.wait) log(`${count('done')}/${cells.length} cells done, ${note}`);
        }
        lastNote = `${count('done')} ${note}`;
        if (count('done') === cells.length) return true;
        if (count('running') + count('queued') === 0) {
          const failed = cells.filter((c) => status.get(c.id) === 'failed').map((c) => `${c.id} (${lastEnd.get(c.id)})`);
          const blocked = cells.filter((c) => status.get(c.id) === 'blocked').map((c) => c.id);
          throw new UserError(
            `slurm: ${failed.length} cell(s) failed ${o.options.retries + 1} times: ${failed.join('; ')}${blocked.length ? `; not run because of them: ${blocked.join(', ')}` : ''}`,
          );
        }
        if (!o.wait) {
          log(`${count('done')}/${cells.length} cells done, ${note}; run the same command again to collect (and resubmit what failed)`);
          return false;
        }
        await sleep(o.options.poll * 1000);
      }
    },
  };
}
