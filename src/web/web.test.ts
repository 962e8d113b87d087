/**
 * The `difftts web` page: its voice loader against Node's checkpoint reader, the static build and
 * the server, and — in headless Chromium (Debian's /usr/bin/chromium through puppeteer-core; skipped
 * with its reason where either is missing) — speech synthesized in the page, checked against the
 * same voice's Node synthesis of the same text and settings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../backend/index.js';
import { logMel, type Mel } from '../audio/mel.js';
import { readWav } from '../audio/wav.js';
import { UserError } from '../errors.js';
import { buildWebSite, DEFAULT_WEB_VOICE, startWebServer, webAssetsDir, webVoiceDir } from '../cli/web.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { cliPath, repoRoot } from '../testing/paths.js';
import { assertNoLeak } from '../testing/tensors.js';
import { chromiumMissing, openChromium } from '../testing/chromium.js';
import { fetchVoice, type Fetch } from './voice.js';

const VOICE = join(repoRoot, 'pretrained', 'allison-enc128');

/** A `fetch` over a directory, for the page's voice loader in Node (`mangle` edits a file's bytes). */
function dirFetch(dir: string, mangle: (name: string, b: Uint8Array) => Uint8Array = (_n, b) => b): Fetch {
  return async (url) => {
    const name = url.slice(url.lastIndexOf('/') + 1);
    const path = join(dir, name);
    if (!existsSync(path)) return { ok: false, status: 404, json: async () => null, arrayBuffer: async () => new ArrayBuffer(0) };
    const b = mangle(name, new Uint8Array(readFileSync(path)));
    return { ok: true, status: 200, json: async () => JSON.parse(new TextDecoder().decode(b)), arrayBuffer: async () => b.slice().buffer };
  };
}

test("fetchVoice builds the voice from the same bytes as Node's checkpoint reader, and names a damaged file", async () => {
  await initBackend('cpu');
  const ref = readCheckpoint(VOICE);
  await assertNoLeak(async () => {
    const v = await fetchVoice('http://x/voice/', dirFetch(VOICE));
    try {
      assert.equal(v.checkpoint.meta.step, ref.meta.step);
      assert.deepEqual(v.synth, { steps: 0, temperature: 1.5, lengthScale: 1, startTime: 1 });
      assert.equal(v.model.variables.size, ref.weights.size);
      for (const [name, variable] of v.model.variables) {
        const want = ref.weights.get(name)!.data;
        const got = (await variable.data()) as Float32Array;
        assert.deepEqual(got, want, name);
      }
    } finally {
      v.model.dispose();
    }
  });
  const flip = (name: string, b: Uint8Array) => {
    if (name === 'weights.bin') b[1234] ^= 1;
    return b;
  };
  await assert.rejects(
    fetchVoice('http://x/voice/', dirFetch(VOICE, flip)),
    (e: unknown) => e instanceof UserError && e.message === 'http://x/voice/weights.bin: checksum mismatch (the file is corrupted)',
  );
  const noState = (name: string, b: Uint8Array) => (name === 'state.json' ? new TextEncoder().encode('{"format": "other"}') : b);
  await assert.rejects(fetchVoice('http://x/voice/', dirFetch(VOICE, noState)), /http:\/\/x\/voice\/state\.json: not a difftts checkpoint/);
  const empty = mkdtempSync(join(tmpdir(), 'difftts-web-'));
  await assert.rejects(
    fetchVoice('http://x/v', dirFetch(empty)),
    /http:\/\/x\/v\/(state|weights)\.(json|bin): HTTP 404 \(the voice is incomplete\)/,
  );
  rmSync(empty, { recursive: true, force: true });
});

test('difftts web --build writes the page and the voice, and replaces only an earlier build', () => {
  webAssetsDir(); // throws when dist/web was not built (npm run build)
  const root = mkdtempSync(join(tmpdir(), 'difftts-web-'));
  try {
    const out = join(root, 'site');
    const r = spawnSync(process.execPath, [cliPath, 'web', '--build', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const f of [
      'index.html',
      'difftts-web.js',
      'tfjs-backend-wasm-simd.wasm',
      'voice/state.json',
      'voice/weights.json',
      'voice/weights.bin',
    ])
      assert.ok(existsSync(join(out, f)), f);
    // without --voice: the default voice
    assert.deepEqual(
      readFileSync(join(out, 'voice', 'weights.bin')),
      readFileSync(join(repoRoot, 'pretrained', DEFAULT_WEB_VOICE, 'weights.bin')),
    );
    assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /difftts-web\.js/);
    writeFileSync(join(out, 'voice', 'stale.txt'), 'from an earlier build');
    assert.ok(buildWebSite(out, VOICE).includes('voice/weights.bin')); // rebuilding replaces an earlier build whole
    assert.ok(!existsSync(join(out, 'voice', 'stale.txt')));
    const mine = join(root, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'keep me');
    const refused = spawnSync(process.execPath, [cliPath, 'web', '--build', mine], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /^difftts: --build .*mine: the directory is not empty and is not an earlier difftts web build/);
    assert.equal(readFileSync(join(mine, 'notes.txt'), 'utf8'), 'keep me');
    assert.throws(
      () => webVoiceDir('no-such-voice'),
      (e: unknown) => e instanceof UserError && /^--voice no-such-voice: no such voice/.test(e.message),
    );
    assert.throws(
      () => webVoiceDir(root),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`--voice ${root}: no such voice`),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the server serves the page and the voice's three files, nothing else", async () => {
  const { url, server } = await startWebServer({ voiceDir: webVoiceDir('allison-enc128'), port: 0, host: '127.0.0.1' });
  try {
    const get = (p: string) => fetch(new URL(p, url));
    assert.match(await (await get('/')).text(), /<title>difftts/);
    const wasm = await get('/tfjs-backend-wasm-simd.wasm');
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal((await (await get('/voice/weights.bin')).arrayBuffer()).byteLength, readFileSync(join(VOICE, 'weights.bin')).length);
    for (const p of ['/voice/README.md', '/voice/../state.json', '/%2e%2e/package.json', '/nothing.js'])
      assert.equal((await get(p)).status, 404, p);
  } finally {
    server.close();
  }
});

/** Mean |Δ| of two log-mels over the frames both have (natural-log units). */
function melDistance(a: Mel, b: Mel): number {
  const frames = Math.min(a.frames, b.frames);
  let s = 0;
  for (let m = 0; m < a.nMels; m++) for (let t = 0; t < frames; t++) s += Math.abs(a.data[m * a.frames + t]! - b.data[m * b.frames + t]!);
  return s / (a.nMels * frames);
}

/** Node's synthesis of `text` with the voice (the CLI: steps 0, seed 1, 32 Griffin-Lim iterations). */
function nodeSynthesis(text: string, dir: string): Float32Array {
  const out = join(dir, `${text.length}.wav`);
  const r = spawnSync(
    process.execPath,
    [
      cliPath,
      '--backend',
      'wasm',
      'synthesize',
      '--checkpoint',
      VOICE,
      '--text',
      text,
      '--steps',
      '0',
      '--seed',
      '1',
      '--iters',
      '32',
      '--out',
      out,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return readWav(out).samples;
}

const missing = await chromiumMissing();

test("the page speaks in headless Chromium: the same audio as Node's synthesis of the same text", {
  skip: missing ?? false,
  timeout: 300_000,
}, async () => {
  const text = 'The birch canoe slid on the smooth planks.';
  const other = 'Four hours of steady work faced us.';
  const dir = mkdtempSync(join(tmpdir(), 'difftts-web-'));
  const chromium = await openChromium();
  if ('reason' in chromium) throw new Error(chromium.reason);
  const { url, server } = await startWebServer({ voiceDir: webVoiceDir('allison-enc128'), port: 0, host: '127.0.0.1' });
  try {
    const page = await chromium.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e: Error) => errors.push(e.message));
    await page.goto(`${url}?backend=wasm`);
    const info = await page.evaluate(() => (window as any).difftts.ready);
    assert.equal(info.backend, 'wasm');
    assert.deepEqual(info.voice.speakers, [], 'a single-speaker voice from before speakers: one unnamed speaker');
    assert.ok(info.notes.includes('difftts SIMD kernels registered on wasm'), info.notes.join('; '));
    const got = await page.evaluate(async (t: string) => {
      const a = await (window as any).difftts.speak(t, { steps: 0, seed: 1 });
      return { sampleRate: a.sampleRate, samples: Array.from(a.samples as Float32Array), timings: (window as any).difftts.timings };
    }, text);
    assert.deepEqual(errors, []);
    const samples = Float32Array.from(got.samples);
    assert.equal(got.sampleRate, 22050);
    assert.ok(samples.every(Number.isFinite), 'finite samples');
    const rms = Math.sqrt(samples.reduce((s, v) => s + v * v, 0) / samples.length);
    assert.ok(rms > 0.02 && Math.max(...samples.map(Math.abs)) <= 0.95 + 1e-6, `rms ${rms}`);
    // about 60–150 ms per character of English speech at this voice's pace
    const seconds = samples.length / got.sampleRate;
    assert.ok(seconds > 0.06 * text.length && seconds < 0.15 * text.length, `${seconds} s for ${text.length} characters`);
    // Node's synthesis of the same text: same length up to a frame, and the same log-mel up to float
    // rounding and the WAV's 16 bits; another sentence is far away (the comparison can fail).
    const node = nodeSynthesis(text, dir);
    assert.ok(Math.abs(node.length - samples.length) <= 256, `${samples.length} samples in the page, ${node.length} in Node`);
    const same = melDistance(logMel(samples), logMel(node));
    const apart = melDistance(logMel(samples), logMel(nodeSynthesis(other, dir)));
    assert.ok(same < 0.05 && apart > 10 * same, `log-mel distance to Node's synthesis ${same}, to another sentence's ${apart}`);
    assert.ok(got.timings.firstAudio > got.timings.voiceReady, JSON.stringify(got.timings));
    // the page's own controls: Speak fills the player with a WAV and draws the spectrogram
    await page.$eval('#text', (el: HTMLTextAreaElement, t: string) => (el.value = t), other);
    await page.$eval('#steps', (el: HTMLInputElement) => (el.value = '0'));
    await page.click('#speak');
    await page.waitForFunction(() => (document.getElementById('player') as HTMLAudioElement).src.startsWith('blob:'), { timeout: 120_000 });
    const drawn = await page.$eval('#spectrogram', (c: HTMLCanvasElement) => {
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let bright = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i]! > 128) bright++;
      return { width: c.width, height: c.height, bright };
    });
    assert.equal(drawn.height, 160);
    assert.ok(drawn.width > 100 && drawn.bright > 0.01 * drawn.width * drawn.height, JSON.stringify(drawn));
    if (process.env.DIFFTTS_WEB_REPORT)
      process.stderr.write(
        `web: ${JSON.stringify({ same, apart, seconds, pageSamples: samples.length, nodeSamples: node.length, timings: got.timings })}\n`,
      );
  } finally {
    await chromium.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
