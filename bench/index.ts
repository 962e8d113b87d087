/**
 * `npm run bench [-- audio|train|synth|web]`: runs the chosen suites, prints a table and writes
 * bench/results.json with {name, difftts_s, peer_s, ratio, gflops} per row.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow } from './common.js';
import { repoRoot } from '../src/testing/paths.js';

const suites: Record<string, () => Promise<BenchRow[]>> = {
  audio: async () => (await import('./audio.js')).run(),
  train: async () => (await import('./train.js')).run(),
  synth: async () => (await import('./synth.js')).run(),
  quality: async () => (await import('./quality.js')).run(),
  web: async () => (await import('./web.js')).run(),
};
/** Suites that train or evaluate for many minutes, or need Chromium: only when named (`npm run bench -- quality`). */
const onRequest = new Set(['quality', 'web']);

const wanted = process.argv.slice(2);
for (const w of wanted) {
  if (!(w in suites)) {
    console.error(`bench: unknown suite '${w}' (expected ${Object.keys(suites).join(', ')})`);
    process.exit(2);
  }
}
const rows: BenchRow[] = [];
for (const name of wanted.length ? wanted : Object.keys(suites).filter((s) => !onRequest.has(s))) {
  rows.push(...(await suites[name]!()));
}
const fmt = (v: number | null, d = 3) => (v === null ? '—' : v.toFixed(d));
console.log('\n| benchmark | difftts s | peer s | ratio | GFLOP/s | notes |\n|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.name} | ${fmt(r.difftts_s)} | ${fmt(r.peer_s)} | ${fmt(r.ratio, 2)} | ${fmt(r.gflops, 1)} | ${r.notes ?? ''} |`);
writeFileSync(join(repoRoot, 'bench', 'results.json'), JSON.stringify(rows, null, 2) + '\n');
console.log(`\nwrote bench/results.json`);
