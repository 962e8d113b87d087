/** Test helpers: tiny LJSpeech corpora in temporary directories. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeWav } from '../audio/wav.js';
import { Rng } from '../util/rng.js';

/** A sine tone (amplitude `amp`, `hz`) plus a little seeded noise, `sec` seconds at `rate`. */
export function tone(sec: number, hz: number, rate = 22050, amp = 0.5, seed = 1): Float32Array {
  const n = Math.round(sec * rate);
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / rate) + 0.01 * rng.normal();
  return x;
}

export const SAMPLE_TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Please enter your password, followed by the pound key.',
  'She sells sea shells by the sea shore.',
  'All circuits are busy now.',
  'Thank you for calling.',
  'Your call cannot be completed as dialed.',
  'Good morning, and welcome.',
  'Press one for sales, two for support.',
  'The conference has been extended.',
  'That agent is already logged on.',
  'Goodbye and have a nice day!',
  'Please hold while we connect you.',
];

/** Makes `n` utterances u00..; returns the corpus dir. Each is a 0.6–1.0 s tone. */
export function makeCorpus(n: number, opts: { rate?: number; texts?: string[] } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'difftts-corpus-'));
  mkdirSync(join(dir, 'wavs'));
  const rate = opts.rate ?? 22050;
  const texts = opts.texts ?? SAMPLE_TEXTS;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `u${String(i).padStart(2, '0')}`;
    writeWav(join(dir, 'wavs', `${id}.wav`), tone(0.6 + 0.4 * ((i * 7) % 10) / 10, 200 + 37 * i, rate, 0.5, i + 1), rate);
    const t = texts[i % texts.length]!;
    lines.push(`${id}|${t}|${t}`);
  }
  writeFileSync(join(dir, 'metadata.csv'), `${lines.join('\n')}\n`);
  return dir;
}
