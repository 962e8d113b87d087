#!/usr/bin/env node
// Runs one command against a private single-node Slurm cluster on this machine — the path a user with
// a real cluster takes (`difftts experiment --executor slurm`), on one box: munged, slurmctld and
// slurmd (Debian's munge and slurm-wlm, `apt-get install slurm-wlm munge`) with every file under a
// temp dir, reached through SLURM_CONF (src/testing/slurm-cluster.ts, the cluster the executor's
// test uses). The cluster is stopped, its jobs cancelled, when the command ends or on Ctrl-C.
// Needs root (slurmd starts jobs as their user).
//
// Usage: npm run build && node scripts/local-slurm.mjs [--cpus N] -- COMMAND [ARGS...]
//   e.g. node scripts/local-slurm.mjs --cpus 2 -- npx difftts experiment \
//          --recipe recipes/corruption-prereg.json --out runs/corruption-prereg
// --cpus: the node's CPUs (default min(2, cores)); each cell asks for slurm.cpus (default 1), so
// that many cells run at once.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { slurmClusterUnavailable, startSlurmCluster } = await import(join(root, 'dist/src/testing/slurm-cluster.js'));

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const own = sep < 0 ? argv : argv.slice(0, sep);
const command = sep < 0 ? [] : argv.slice(sep + 1);
const ci = own.indexOf('--cpus');
const cpus = ci >= 0 ? Number(own[ci + 1]) : undefined;
if (command.length === 0 || (cpus !== undefined && !(Number.isInteger(cpus) && cpus >= 1))) {
  process.stderr.write('usage: local-slurm.mjs [--cpus N (an integer ≥ 1)] -- COMMAND [ARGS...]\n');
  process.exit(2);
}
const why = slurmClusterUnavailable();
if (why) {
  process.stderr.write(`local-slurm: cannot start a local Slurm cluster: ${why}\n`);
  process.exit(2);
}

const cluster = await startSlurmCluster(cpus);
process.stderr.write(`local-slurm: single-node cluster up (SLURM_CONF=${cluster.env.SLURM_CONF})\n`);
const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env: cluster.env });
// Ctrl-C reaches the child through the terminal; the cluster goes down once the child has ended.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
const code = await new Promise((res) => {
  child.on('error', (err) => {
    process.stderr.write(`local-slurm: ${command[0]}: ${err.message}\n`);
    res(127);
  });
  child.on('close', (c, signal) => res(c ?? 128 + (constants.signals[signal] ?? 0)));
});
await cluster.stop();
process.exit(code);
