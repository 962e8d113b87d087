/**
 * A private single-node Slurm cluster for tests: munged, slurmctld and slurmd (Debian's munge and
 * slurm-wlm) with every key, socket, pid, state, spool and log file under one temp dir, on free
 * ports, reached through SLURM_CONF — so it neither needs nor touches a system Slurm or munge.
 * Needs root (slurmd starts jobs as their user). stop() cancels the jobs, ends the three daemons by
 * their pid files and removes the dir.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const DAEMONS = ['munged', 'slurmctld', 'slurmd'];
const CLIENTS = ['sbatch', 'squeue', 'scancel', 'sinfo'];

function onPath(cmd: string): boolean {
  return (
    spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } })
      .status === 0
  );
}

/** Why a test cluster cannot start here (not root, packages missing), or null when it can. */
export function slurmClusterUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root to run slurmd';
  const missing = [...DAEMONS, ...CLIENTS].filter((c) => !onPath(c));
  return missing.length ? `${missing.join(', ')} not installed (apt-get install slurm-wlm munge)` : null;
}

export interface SlurmCluster {
  dir: string;
  /** Environment for Slurm's client commands (and for processes that call them). */
  env: NodeJS.ProcessEnv;
  /** Cancels every job, stops the daemons, removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the cluster with `cpus` CPUs on one node named after this host; resolves once the node is idle. */
export async function startSlurmCluster(cpuCount = Math.min(2, cpus().length)): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-slurm-'));
  const node = hostname().split('.')[0]!;
  const pidFiles = { munged: join(dir, 'munged.pid'), slurmctld: join(dir, 'slurmctld.pid'), slurmd: join(dir, 'slurmd.pid') };
  const socket = join(dir, 'munge.socket');
  const conf = join(dir, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf, PATH: `${process.env.PATH}:/usr/sbin:/sbin` };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (existsSync(pidFiles.slurmctld)) {
      spawnSync('scancel', ['--full', '--user', 'root'], { env, stdio: 'ignore' });
      for (let i = 0; i < 50 && spawnSync('squeue', ['-h'], { env, encoding: 'utf8' }).stdout.trim() !== ''; i++) await sleep(200);
    }
    for (const d of ['slurmd', 'slurmctld', 'munged'] as const) {
      if (!existsSync(pidFiles[d])) continue;
      const pid = Number(readFileSync(pidFiles[d], 'utf8').trim());
      if (!(pid > 1) || !alive(pid)) continue;
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const fail = async (what: string, log: string) => {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
    await stop();
    return new Error(`slurm test cluster: ${what}${tail ? `: ${tail}` : ''}`);
  };
  try {
    for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
    const key = join(dir, 'munge.key');
    writeFileSync(key, randomBytes(1024));
    chmodSync(key, 0o400);
    // --force: the socket's dir (under /tmp) is not reachable by every user, which munged otherwise refuses.
    const m = spawnSync(
      'munged',
      [
        '--force',
        `--key-file=${key}`,
        `--socket=${socket}`,
        `--pid-file=${pidFiles.munged}`,
        `--log-file=${join(dir, 'log', 'munged.log')}`,
        `--seed-file=${join(dir, 'munged.seed')}`,
      ],
      { env, encoding: 'utf8' },
    );
    if (m.status !== 0) throw await fail('munged did not start', join(dir, 'log', 'munged.log'));
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const memMb = Math.floor(totalmem() / 2 ** 20) - 512;
    writeFileSync(
      conf,
      [
        `ClusterName=difftts-test`,
        // Addresses given: a container's host name need not resolve.
        `SlurmctldHost=${node}(127.0.0.1)`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        `AuthInfo=socket=${socket}`,
        'CredType=cred/munge',
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${pidFiles.slurmctld}`,
        `SlurmdPidFile=${pidFiles.slurmd}`,
        `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'MpiDefault=none',
        'ReturnToService=2',
        'SchedulerType=sched/backfill',
        `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpuCount} RealMemory=${memMb} State=UNKNOWN`,
        `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    if (spawnSync('slurmctld', [], { env }).status !== 0) throw await fail('slurmctld did not start', join(dir, 'log', 'slurmctld.log'));
    if (spawnSync('slurmd', ['-N', node], { env }).status !== 0) throw await fail('slurmd did not start', join(dir, 'log', 'slurmd.log'));
    for (let i = 0; i < 100; i++) {
      const s = spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim();
      if (s === 'idle') return { dir, env, stop };
      await sleep(200);
    }
    throw await fail('the node did not become idle within 20 s', join(dir, 'log', 'slurmd.log'));
  } catch (err) {
    await stop();
    throw err;
  }
}
