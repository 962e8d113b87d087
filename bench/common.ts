/** Shared benchmark plumbing: timing with warm-up, medians, the peer runner and the results file. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface BenchRow {
  name: string;
  /** Median seconds for difftts. */
  difftts_s: number;
  /** Median seconds for the peer (PyTorch/torchaudio) on the same work, or null when skipped. */
  peer_s: number | null;
  /** difftts_s / peer_s (lower is better), or null. */
  ratio: number | null;
  /** Achieved GFLOP/s where a FLOP count is meaningful, else null. */
  gflops: number | null;
  /** Spread of the difftts timings (min, max) and anything else worth keeping. */
  notes?: string;
}

/** Times `fn` `reps` times after `warmup` runs; returns sorted seconds. */
export async function timeIt(fn: () => unknown | Promise<unknown>, reps = 5, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out.sort((a, b) => a - b);
}

/**
 * An integer setting from the environment (DIFFTTS_BENCH_REPS…): `fallback` when unset; anything
 * but an integer ≥ `min` ends the bench with one line naming the variable.
 */
export function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: ${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Debian's python with torch (the default python3 here is a separate build without torch). */
export const PEER_PYTHON = '/usr/bin/python3';

/**
 * Makes sure Debian's PyTorch (and torchaudio if asked) is importable, installing it with apt-get
 * when we are root; returns null when ready or a one-line reason to skip the peer.
 */
export function ensurePeer(modules: string[] = ['torch']): string | null {
  const probe = () =>
    existsSync(PEER_PYTHON) &&
    spawnSync(PEER_PYTHON, ['-c', modules.map((m) => `import ${m}`).join(';')], { stdio: 'ignore' }).status === 0;
  if (probe()) return null;
  if (process.env.DIFFTTS_BENCH_NO_INSTALL) return `peer skipped: ${modules.join(', ')} not importable by ${PEER_PYTHON}`;
  const pkgs = modules.map((m) => `python3-${m}`);
  if (!aptInstall(pkgs) || !probe()) return `peer skipped: could not install ${pkgs.join(' ')} (apt-get failed or not root)`;
  return null;
}

/** Installs Debian packages with apt-get (quietly); false when that fails (e.g. not root, no network). */
export function aptInstall(pkgs: string[]): boolean {
  if (process.env.DIFFTTS_BENCH_NO_INSTALL) return false;
  process.stderr.write(`bench: installing ${pkgs.join(' ')} with apt-get…\n`);
  const r = spawnSync(
    'bash',
    ['-c', `(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkgs.join(' ')}) >/dev/null 2>&1`],
    { stdio: 'inherit' },
  );
  return r.status === 0;
}

/** Runs a peer script and parses the JSON it prints on its last stdout line. */
export function runPeer(script: string, args: string[]): Record<string, number> | string {
  const r = spawnSync(PEER_PYTHON, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return `peer failed: ${(r.stderr || '').trim().split('\n').pop()}`;
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, number>;
  } catch {
    return `peer printed no JSON: ${last.slice(0, 120)}`;
  }
}
