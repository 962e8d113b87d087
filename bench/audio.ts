/**
 * The 'audio' benchmark: log-mel of the three speech fixtures and 32 iterations of fast
 * Griffin-Lim on the longest one, against PyTorch + torchaudio (bench/peer/audio.py) in the same
 * run. Both sides are single-threaded (the peer calls torch.set_num_threads(1)); timings cover
 * the computation only (audio in memory), medians after warm-up.
 *
 * The Griffin-Lim row times difftts from the log-mel (mel → linear NNLS included) against the peer
 * from the linear magnitude; a second row times difftts from the same kind of input (linear).
 */
import { basename } from 'node:path';
import { timeIt, median, ensurePeer, runPeer, type BenchRow } from './common.js';
import { speechFixtures, repoRoot } from '../src/testing/paths.js';
import { readWav } from '../src/audio/wav.js';
import { logMel, DEFAULT_MEL } from '../src/audio/mel.js';
import { griffinLim, griffinLimMagnitude, melToLinear } from '../src/audio/griffinlim.js';
import { stft, reflectPad } from '../src/audio/stft.js';
import { melWindow } from '../src/audio/mel.js';

const REPS = Number(process.env.DIFFTTS_BENCH_REPS ?? 5);

function row(name: string, times: number[], peer: number | null, notes: string): BenchRow {
  const d = median(times);
  return {
    name,
    difftts_s: d,
    peer_s: peer,
    ratio: peer ? d / peer : null,
    gflops: null,
    notes: `min ${times[0]!.toFixed(4)} max ${times[times.length - 1]!.toFixed(4)}; ${notes}`,
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
    const t = await timeIt(() => logMel(x), REPS * 4, 3);
    const name = basename(f.wav, '.wav');
    const diff = peerVal(`mel_maxdiff:${name}`);
    rows.push(row(`audio log-mel ${name} (${frames} frames)`, t, peerVal(`mel:${name}`), `${peerNote}${diff === null ? '' : `; peer max |Δ| vs reference ${diff.toExponential(1)}`}`));
  }

  const f = fixtures[0]!;
  const name = basename(f.wav, '.wav');
  const x = readWav(f.wav).samples;
  const mel = logMel(x);
  const tFull = await timeIt(() => griffinLim(mel, { iters: 32, momentum: 0.99 }), REPS, 1);
  rows.push(row(`audio griffin-lim 32 it ${name} (${mel.frames} frames), from log-mel`, tFull, peerVal(`gl:${name}`), `${peerNote}; peer starts from the linear magnitude`));

  // From a linear magnitude, like the peer: |STFT| of the padded signal.
  const pad = Math.floor((DEFAULT_MEL.nFft - DEFAULT_MEL.hop) / 2);
  const spec = stft(reflectPad(x, pad, pad), { nFft: DEFAULT_MEL.nFft, hop: DEFAULT_MEL.hop, window: melWindow(DEFAULT_MEL) });
  const mag = { data: Float64Array.from(spec.re, (re, i) => Math.hypot(re, spec.im[i]!)), frames: spec.frames, bins: spec.bins };
  const tMag = await timeIt(() => griffinLimMagnitude(mag, { iters: 32, momentum: 0.99 }), REPS, 1);
  rows.push(row(`audio griffin-lim 32 it ${name}, from linear magnitude`, tMag, peerVal(`gl:${name}`), peerNote));
  const tNnls = await timeIt(() => melToLinear(mel), REPS, 1);
  rows.push(row(`audio mel→linear NNLS (10 steps) ${name}`, tNnls, null, 'part of the from-log-mel Griffin-Lim row'));
  return rows;
}
