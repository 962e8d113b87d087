/**
 * `difftts web`: the page that synthesizes in the browser (src/web/). The page itself is bundled at
 * `npm run build` time into dist/web (scripts/build-web.mjs); this command only adds a voice under
 * `voice/` and serves the folder (`--port`), or writes it as a static site (`--build DIR`) that any
 * web server can host.
 */
import type { Command } from 'commander';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { UserError } from '../errors.js';
import { writeDirAtomic } from '../util/atomic.js';
import { packageRoot } from '../util/package-root.js';
import { parseNumber } from './options.js';

export const DEFAULT_WEB_VOICE = 'allison-enc128-shallow';
/** The files of a voice the page fetches (an exported, weights-only checkpoint). */
const VOICE_FILES = ['state.json', 'weights.json', 'weights.bin'];

/** The bundled page (dist/web), or a UserError saying how to build it. */
export function webAssetsDir(): string {
  const dir = join(packageRoot(), 'dist', 'web');
  if (!existsSync(join(dir, 'difftts-web.js'))) throw new UserError(`${dir}: the web page is not built (run npm run build)`);
  return dir;
}

/**
 * A voice name (pretrained/NAME in the package) or a voice directory → its directory.
 * MERGE NOTE: wt-synth's src/synthesis/voices.ts (resolveVoice) is the one home for this; use it.
 */
export function webVoiceDir(voice: string): string {
  const dir = existsSync(join(voice, 'state.json')) ? voice : join(packageRoot(), 'pretrained', voice);
  const missing = VOICE_FILES.find((f) => !existsSync(join(dir, f)));
  if (missing) {
    throw new UserError(
      `--voice ${voice}: ${existsSync(dir) ? `${join(dir, missing)} is missing (the page needs an exported voice: ${VOICE_FILES.join(', ')}; make one with difftts export)` : 'no such voice (expected a shipped voice name such as allison-enc128, or a voice directory)'}`,
    );
  }
  return dir;
}

/** Writes the page and the voice as a static site in `out` (replacing an earlier build, never other files). */
export function buildWebSite(out: string, voiceDir: string): string[] {
  const assets = webAssetsDir();
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new UserError(`--build ${out}: exists and is not a directory`);
    if (readdirSync(out).length > 0 && !existsSync(join(out, 'difftts-web.js'))) {
      throw new UserError(
        `--build ${out}: the directory is not empty and is not an earlier difftts web build (choose a new or empty directory)`,
      );
    }
  }
  const written: string[] = [];
  const copyTree = (from: string, to: string, rel: string) => {
    for (const name of readdirSync(from)) {
      const f = join(from, name);
      if (statSync(f).isDirectory()) {
        copyTree(f, join(to, name), `${rel}${name}/`);
        continue;
      }
      if (name.endsWith('.map')) continue; // source maps stay with `difftts web` (a development aid)
      ensureDirOf(join(to, name));
      copyFileSync(f, join(to, name));
      written.push(rel + name);
    }
  };
  writeDirAtomic(out, (tmp) => {
    copyTree(assets, tmp, '');
    for (const f of VOICE_FILES) {
      ensureDirOf(join(tmp, 'voice', f));
      copyFileSync(join(voiceDir, f), join(tmp, 'voice', f));
      written.push(`voice/${f}`);
    }
  });
  return written;
}

function ensureDirOf(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/**
 * Serves the page (dist/web) and the voice (under /voice/) over HTTP on `host:port` (port 0: any free
 * port). Resolves once listening, with the page's URL.
 */
export async function startWebServer(o: { voiceDir: string; port: number; host: string }): Promise<{ url: string; server: Server }> {
  const assets = webAssetsDir();
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const voiceFile = /^\/voice\/([^/]+)$/.exec(path)?.[1];
    let file: string | null = null;
    if (voiceFile !== undefined) file = VOICE_FILES.includes(voiceFile) ? join(o.voiceDir, voiceFile) : null;
    else {
      const p = normalize(join(assets, path === '/' ? 'index.html' : path));
      file = p.startsWith(assets + sep) ? p : null;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      fail(
        err.code === 'EADDRINUSE'
          ? new UserError(`--port ${o.port}: already in use (choose another, or 0 for any free port)`)
          : err.code === 'EACCES'
            ? new UserError(`--port ${o.port}: not permitted (ports below 1024 need privileges)`)
            : err,
      ),
    );
    server.listen(o.port, o.host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return { url: `http://${host}:${port}/`, server };
}

export function register(program: Command): void {
  program
    .command('web')
    .description(
      'a web page that synthesizes speech in the browser itself (tfjs wasm, or WebGPU where offered): serve it, or write it as a static site',
    )
    .option(
      '--voice <name|dir>',
      `shipped voice name or an exported voice directory (state.json, weights.json, weights.bin)`,
      DEFAULT_WEB_VOICE,
    )
    .option('--port <n>', 'port to serve on (0 = any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--build <dir>', 'write the page and the voice to DIR as a static site instead of serving')
    .action(async function (this: Command) {
      const o = this.opts() as { voice: string; port: string; host: string; build?: string };
      const voiceDir = webVoiceDir(o.voice);
      if (o.build) {
        const files = buildWebSite(o.build, voiceDir);
        process.stdout.write(
          `wrote ${files.length} files to ${o.build} (voice ${o.voice}); serve that folder over HTTP and open index.html\n`,
        );
        return;
      }
      const port = parseNumber(o.port, '--port', { integer: true, min: 0, max: 65535 });
      const { url } = await startWebServer({ voiceDir, port, host: o.host });
      process.stdout.write(`difftts web: ${url} (voice ${o.voice}); Ctrl-C to stop\n`);
      await new Promise(() => {}); // serve until interrupted
    });
}
