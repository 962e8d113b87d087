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
    writeWav(join(dir, 'wavs', `${id}.wav`), tone(0.6 + (0.4 * ((i * 7) % 10)) / 10, 200 + 37 * i, rate, 0.5, i + 1), rate);
    const t = texts[i % texts.length]!;
    lines.push(`${id}|${t}|${t}`);
  }
  writeFileSync(join(dir, 'metadata.csv'), `${lines.join('\n')}\n`);
  return dir;
}

/**
 * A tiny multi-speaker corpus in a temp dir: `perSpeaker` tones for each of `speakers`, in the
 * LJSpeech layout (4th column), VCTK (wav48_silence_trimmed/<spk>/<id>_mic1.wav + _mic2.wav, txt/) or
 * LibriTTS (<spk>/<chapter>/<id>.wav at 24 kHz + .normalized.txt + .original.txt). Ids: `<spk>_<nnn>`
 * (VCTK), `<spk>_1_000<n>` (LibriTTS), `<spk>-u<nn>` (LJSpeech).
 */
export function makeSpeakerCorpus(layout: 'ljspeech' | 'vctk' | 'libritts', speakers: string[], perSpeaker: number): string {
  const dir = mkdtempSync(join(tmpdir(), `difftts-${layout}-`));
  const lines: string[] = [];
  speakers.forEach((spk, s) => {
    for (let i = 0; i < perSpeaker; i++) {
      const text = SAMPLE_TEXTS[(i + s) % SAMPLE_TEXTS.length]!;
      const rate = layout === 'libritts' ? 24000 : 22050;
      const audio = tone(0.6 + 0.04 * i, 150 + 50 * s + 7 * i, rate, 0.5, 100 * s + i + 1);
      if (layout === 'ljspeech') {
        mkdirSync(join(dir, 'wavs'), { recursive: true });
        const id = `${spk}-u${String(i).padStart(2, '0')}`;
        writeWav(join(dir, 'wavs', `${id}.wav`), audio, rate);
        lines.push(`${id}|${text}|${text}|${spk}`);
      } else if (layout === 'vctk') {
        const id = `${spk}_${String(i + 1).padStart(3, '0')}`;
        mkdirSync(join(dir, 'wav48_silence_trimmed', spk), { recursive: true });
        mkdirSync(join(dir, 'txt', spk), { recursive: true });
        writeWav(join(dir, 'wav48_silence_trimmed', spk, `${id}_mic1.wav`), audio, rate);
        writeWav(join(dir, 'wav48_silence_trimmed', spk, `${id}_mic2.wav`), tone(0.3, 100, rate), rate);
        writeFileSync(join(dir, 'txt', spk, `${id}.txt`), `${text}\n`);
      } else {
        const at = join(dir, spk, '1');
        const id = `${spk}_1_${String(i).padStart(6, '0')}`;
        mkdirSync(at, { recursive: true });
        writeWav(join(at, `${id}.wav`), audio, rate);
        writeFileSync(join(at, `${id}.normalized.txt`), text);
        writeFileSync(join(at, `${id}.original.txt`), `${text.toUpperCase()}`);
      }
    }
  });
  if (layout === 'ljspeech') writeFileSync(join(dir, 'metadata.csv'), `${lines.join('\n')}\n`);
  return dir;
}
