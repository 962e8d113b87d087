/**
 * Word error rate, and optional speech recognition with Debian's pocketsphinx
 * (`apt-get install pocketsphinx pocketsphinx-en-us`): WER of generated speech against its text is
 * an intelligibility proxy. Recognition is optional: without the binary `recognize` returns null.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { readWav, writeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';

/** Lower-case words: anything but letters, digits and apostrophes separates words. */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9']+/g, ' ')
    .split(' ')
    .filter((w) => w.length > 0 && w !== "'");
}

export interface WerResult {
  /** (substitutions + deletions + insertions) / reference words; 0 for two empty texts, Infinity for an empty reference with insertions. */
  wer: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  refWords: number;
  hypWords: number;
}

/** WER by Levenshtein alignment over normalised words (ties prefer substitutions, then deletions). */
export function wordErrorRate(ref: string, hyp: string): WerResult {
  const r = normalizeWords(ref);
  const h = normalizeWords(hyp);
  const n = r.length;
  const m = h.length;
  // D[i][j]: edits turning r[0..i) into h[0..j); op: 0 match/sub, 1 deletion, 2 insertion
  const D = new Int32Array((n + 1) * (m + 1));
  const op = new Uint8Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = 1; i <= n; i++) {
    D[at(i, 0)] = i;
    op[at(i, 0)] = 1;
  }
  for (let j = 1; j <= m; j++) {
    D[at(0, j)] = j;
    op[at(0, j)] = 2;
  }
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const sub = D[at(i - 1, j - 1)]! + (r[i - 1] === h[j - 1] ? 0 : 1);
      const del = D[at(i - 1, j)]! + 1;
      const ins = D[at(i, j - 1)]! + 1;
      let best = sub;
      let k = 0;
      if (del < best) {
        best = del;
        k = 1;
      }
      if (ins < best) {
        best = ins;
        k = 2;
      }
      D[at(i, j)] = best;
      op[at(i, j)] = k;
    }
  }
  let s = 0;
  let d = 0;
  let ins = 0;
  for (let i = n, j = m; i > 0 || j > 0; ) {
    const k = op[at(i, j)];
    if (k === 0) {
      if (r[i - 1] !== h[j - 1]) s++;
      i--;
      j--;
    } else if (k === 1) {
      d++;
      i--;
    } else {
      ins++;
      j--;
    }
  }
  const errors = s + d + ins;
  return { wer: n > 0 ? errors / n : errors > 0 ? Infinity : 0, substitutions: s, deletions: d, insertions: ins, refWords: n, hypWords: m };
}

/** Full path of an executable found on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

let warned = false;

export interface RecognizeOptions {
  /** Recogniser binary (default pocketsphinx_continuous, found on PATH). */
  binary?: string;
  /** Give up after this many ms (default 120000). */
  timeoutMs?: number;
  /** Suppress the one-time "not installed" notice on stderr. */
  quiet?: boolean;
}

/**
 * Recognises the words in a WAV file with `pocketsphinx_continuous -infile X.wav` (16 kHz mono
 * 16-bit; other rates are resampled first). Returns the recognised text in lower case, or null —
 * with a one-time notice on stderr — when the binary is not installed.
 */
export async function recognize(wavPath: string, opts: RecognizeOptions = {}): Promise<string | null> {
  const name = opts.binary ?? 'pocketsphinx_continuous';
  const bin = name.includes('/') ? name : findOnPath(name);
  if (!bin) {
    if (!warned && !opts.quiet) {
      process.stderr.write(`difftts: ${name} not found; word error rate skipped (apt-get install pocketsphinx pocketsphinx-en-us)\n`);
      warned = true;
    }
    return null;
  }
  const audio = readWav(wavPath);
  const x = audio.sampleRate === 16000 ? audio.samples : resample(audio.samples, audio.sampleRate, 16000);
  const dir = mkdtempSync(join(tmpdir(), 'difftts-asr-'));
  try {
    const tmp = join(dir, 'in16k.wav');
    writeWav(tmp, x, 16000, 'pcm16');
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(bin, ['-infile', tmp, '-logfn', '/dev/null'], { timeout: opts.timeoutMs ?? 120000, maxBuffer: 1 << 20 }, (err, out) =>
        err ? reject(new Error(`${bin} failed on ${wavPath}: ${err.message.split('\n')[0]}`)) : resolve(out),
      );
    });
    return stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0)
      .join(' ')
      .toLowerCase();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
