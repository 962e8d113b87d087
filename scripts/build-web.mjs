#!/usr/bin/env node
// Bundles the `difftts web` page (src/web/page.ts) with esbuild into dist/web/: index.html,
// difftts-web.js (+ chunks/, loaded on demand: the webgpu backend) and tfjs-backend-wasm's binaries.
// `difftts web` copies or serves this folder with a voice in voice/. Run by `npm run build`.
// DIFFTTS_WEB_SOURCEMAP=1 adds source maps. Fails when a Node-only module (fs, path, worker_threads, …) would reach the browser bundle.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { 'difftts-web': 'src/web/page.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  // source maps (12 MB) only on request: they would triple what `npm pack` ships for the page
  sourcemap: process.env.DIFFTTS_WEB_SOURCEMAP === '1',
  chunkNames: 'chunks/[name]-[hash]',
  alias: { '@tensorflow/tfjs': './src/web/shims/tfjs.ts', 'node:v8': './src/web/shims/v8.ts' },
  // src/kernels reads these Node settings (gemm.ts, winograd.ts); in a page they are simply unset.
  define: { 'process.env.DIFFTTS_WASM_FMA': 'undefined', 'process.env.DIFFTTS_WINOGRAD': 'undefined' },
  metafile: true,
  logLevel: 'warning',
});
const nodeOnly = Object.keys(result.metafile.inputs).filter((f) =>
  /^node:|^(fs|path|worker_threads|child_process|os|crypto|zlib|stream)$/.test(f),
);
if (nodeOnly.length) throw new Error(`build-web: Node-only modules in the page bundle: ${nodeOnly.join(', ')}`);
copyFileSync(join(root, 'src', 'web', 'index.html'), join(out, 'index.html'));
const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) copyFileSync(join(wasmDir, f), join(out, f));
let bytes = 0;
for (const o of Object.values(result.metafile.outputs)) bytes += o.bytes;
console.log(
  `build-web: dist/web (${(bytes / 1e6).toFixed(1)} MB of JavaScript${process.env.DIFFTTS_WEB_SOURCEMAP === '1' ? ' and source maps' : ''})`,
);
