/**
 * The 'audio' benchmark: log-mel of the three speech fixtures and 32 iterations of fast
 * Griffin-Lim on the longest one, against PyTorch + torchaudio (bench/peer/audio.py) in the same
 * run. Both sides are single-threaded (the peer calls torch.set_num_threads(1)); timings cover
 * the computation only (audio in memory), medians after warm-up.
 *
 * Each row's main numbers are wall-clock medians (the suite's convention); the notes add CPU-time
 * medians of both sides and their ratio, which stay meaningful when other jobs share the CPUs.
 *
 * The Griffin-Lim row times difftts from the log-mel (mel → linear NNLS included) against the peer
 * from the linear magnitude; a second row times difftts from the same kind of input (linear).
 */
import { basename } from 'node:path';
import { median, ensurePeer, envInt, runPeer, type BenchRow } from './common.js';
import { speechFixtures, repoRoot } from '../src/testing/paths.js';
import { readWav } from '../src/audio/wav.js';
import { logMel, DEFAULT_MEL } from '../src/audio/mel.js';
import { griffinLim, griffinLimMagnitude, melToLinear } from '../src/audio/griffinlim.js';
import { stft, reflectPad } from '../src/audio/stft.js';
import { melWindow } from '../src/audio/mel.js';

const REPS = envInt('DIFFTTS_BENCH_REPS', 5, 1);

interface Timing {
  wall: number[];
  /** CPU seconds (user + system) of this process per run. */
  cpu: number[];
}

/** Like timeIt, recording wall and CPU time of each run (sorted each). */
function timeBoth(fn: () => unknown, reps: number, warmup: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
}

function row(name: string, t: Timing, peer: number | null, peerCpu: number | null, notes: string): BenchRow {
  const d = median(t.wall);
  const c = median(t.cpu);
  const cpuNote = peerCpu ? `cpu ${c.toFixed(4)} vs peer ${peerCpu.toFixed(4)} (ratio ${(c / peerCpu).toFixed(2)})` : `cpu ${c.toFixed(4)}`;
  return {
    name,
    difftts_s: d,
    peer_s: peer,
    ratio: peer ? d / peer : null,
    gflops: null,
    notes: `${cpuNote}; wall min ${t.wall[0]!.toFixed(4)} max ${t.wall[t.wall.length - 1]!.toFixed(4)}; ${notes}`,
  };
}

export async function run(): Promise<BenchRow[]> {
  const fixtures = speechFixtures();
  const skip = ensurePeer(['torch', 'torchaudio']);
  const peer = skip ? skip : runPeer(`${repoRoot}/bench/peer/audio.py`, [String(REPS), ...fixtures.map((f) => f.wav)]);
  const peerNote = typeof peer === 'string' ? peer : 'peer: torch+torchaudio, 1 thread';
  const peerVal = (key: string) => (typeof peer === 'string' ? null : (peer[key] ?? null));
  if (typeof peer === 'string') console.error(`bench audio: ${peer}`);

  const rows: BenchRow[] = [];
  for (const f of fixtures) {
    const x = readWav(f.wav).samples;
    const frames = logMel(x).frames;
    const t = timeBoth(() => logMel(x), REPS * 4, 3);
    const name = basename(f.wav, '.wav');
    const diff = peerVal(`mel_maxdiff:${name}`);
    rows.push(
      row(
        `audio log-mel ${name} (${frames} frames)`,
        t,
        peerVal(`mel:${name}`),
        peerVal(`mel_cpu:${name}`),
        `${peerNote}${diff === null ? '' : `; peer max |Δ| vs reference ${diff.toExponential(1)}`}`,
      ),
    );
  }

  const f = fixtures[0]!;
  const name = basename(f.wav, '.wav');
  const x = readWav(f.wav).samples;
  const mel = logMel(x);
  const tFull = timeBoth(() => griffinLim(mel, { iters: 32, momentum: 0.99 }), REPS, 1);
  rows.push(
    row(
      `audio griffin-lim 32 it ${name} (${mel.frames} frames), from log-mel`,
      tFull,
      peerVal(`gl:${name}`),
      peerVal(`gl_cpu:${name}`),
      `${peerNote}; peer starts from the linear magnitude`,
    ),
  );

  // From a linear magnitude, like the peer: |STFT| of the padded signal.
  const pad = Math.floor((DEFAULT_MEL.nFft - DEFAULT_MEL.hop) / 2);
  const spec = stft(reflectPad(x, pad, pad), { nFft: DEFAULT_MEL.nFft, hop: DEFAULT_MEL.hop, window: melWindow(DEFAULT_MEL) });
  const mag = { data: Float64Array.from(spec.re, (re, i) => Math.hypot(re, spec.im[i]!)), frames: spec.frames, bins: spec.bins };
  const tMag = timeBoth(() => griffinLimMagnitude(mag, { iters: 32, momentum: 0.99 }), REPS, 1);
  rows.push(
    row(`audio griffin-lim 32 it ${name}, from linear magnitude`, tMag, peerVal(`gl:${name}`), peerVal(`gl_cpu:${name}`), peerNote),
  );
  const tNnls = timeBoth(() => melToLinear(mel), REPS, 1);
  rows.push(row(`audio mel→linear NNLS (10 steps) ${name}`, tNnls, null, null, 'part of the from-log-mel Griffin-Lim row'));
  return rows;
}
