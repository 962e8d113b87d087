/**
 * The `difftts web` page in headless Chromium (src/testing/chromium.ts; no rows where it is missing):
 * time to first audio — from navigation start to the first sentence's samples of the first
 * `window.difftts.speak`, each time in a fresh browser profile (nothing cached) — and the page's
 * synthesis real-time factor on a three-sentence text, with the voice's settings (steps 0) and with
 * 10 ODE steps. Wasm backend with difftts's SIMD kernels (headless Chromium here has no WebGPU adapter).
 */
import { startWebServer, webVoiceDir } from '../src/cli/web.js';
import { openChromium } from '../src/testing/chromium.js';
import type { BenchRow } from './common.js';
import { envInt, median } from './common.js';

const FIRST = 'The quick brown fox jumps over the lazy dog.';
const LONG =
  'Please enter your password, followed by the pound key. All circuits are busy now, please try again later. Thank you for calling, goodbye.';

interface Run {
  scriptStart: number;
  backendReady: number;
  voiceReady: number;
  firstAudio: number;
  /** [seconds to synthesize, audio seconds] for LONG at steps 0 and 10. */
  long0: [number, number];
  long10: [number, number];
}

async function oneRun(url: string): Promise<Run | string> {
  const c = await openChromium();
  if ('reason' in c) return c.reason;
  try {
    const page = await c.browser.newPage();
    await page.goto(`${url}?backend=wasm`);
    return await page.evaluate(
      async (first: string, long: string) => {
        const d = (window as any).difftts;
        await d.speak(first, { steps: 0 });
        const timed = async (steps: number): Promise<[number, number]> => {
          const t0 = performance.now();
          const a = await d.speak(long, { steps });
          return [(performance.now() - t0) / 1000, a.samples.length / a.sampleRate];
        };
        return { ...d.timings, long0: await timed(0), long10: await timed(10) };
      },
      FIRST,
      LONG,
    );
  } finally {
    await c.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const { url, server } = await startWebServer({ voiceDir: webVoiceDir('allison-enc128'), port: 0, host: '127.0.0.1' });
  const runs: Run[] = [];
  try {
    for (let i = 0; i < envInt('DIFFTTS_BENCH_REPS', 3, 1); i++) {
      const r = await oneRun(url);
      if (typeof r === 'string') {
        console.log(`bench web: skipped (${r})`);
        return [];
      }
      runs.push(r);
    }
  } finally {
    server.close();
  }
  const s = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const ttfa = runs.map((r) => r.firstAudio / 1000);
  const row = (name: string, k: 'long0' | 'long10'): BenchRow => {
    const rtf = runs.map((r) => r[k][0] / r[k][1]);
    return {
      name,
      difftts_s: median(runs.map((r) => r[k][0])),
      peer_s: null,
      ratio: null,
      gflops: null,
      notes: `RTF ${median(rtf).toFixed(3)} (runs ${s(rtf)}), ${runs[0]![k][1].toFixed(2)} s of audio`,
    };
  };
  return [
    {
      name: 'web: time to first audio (cold page, wasm, steps 0)',
      difftts_s: median(ttfa),
      peer_s: null,
      ratio: null,
      gflops: null,
      notes: `runs ${s(ttfa)} s; bundle run ${s(runs.map((r) => r.scriptStart / 1000))} s, backend ready ${s(runs.map((r) => r.backendReady / 1000))} s, voice ready ${s(runs.map((r) => r.voiceReady / 1000))} s`,
    },
    row('web: 3 sentences, steps 0', 'long0'),
    row('web: 3 sentences, 10 ODE steps', 'long10'),
  ];
}
