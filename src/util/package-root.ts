/**
 * The difftts package's root directory: the folder holding its package.json, recipes/, pretrained/,
 * datasets/ (in a checkout), bin/ and dist/. The one place that knows where compiled code sits in
 * the package; Node only (the web page fetches its voice by URL and has no package root).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';

let root: string | null = null;

/**
 * The nearest folder above this module whose package.json names difftts: dist/src/util/ → three up
 * when compiled, src/util/ → two up when run from source. Found by name, not by a fixed count, so a
 * build layout change cannot silently point elsewhere; an installed difftts inside another
 * project's node_modules stops at its own package.json, not the project's.
 */
export function packageRoot(): string {
  if (root !== null) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && nameOf(pkg) === 'difftts') return (root = dir);
    if (dirname(dir) === dir) throw new UserError(`difftts: no package.json naming difftts above ${here} (is the package complete?)`);
  }
}

function nameOf(pkg: string): unknown {
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}
