import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from './package-root.js';

test("packageRoot: the folder of difftts's package.json, above the compiled module", () => {
  const root = packageRoot();
  assert.equal(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name, 'difftts');
  assert.ok(existsSync(join(root, 'bin', 'difftts.js')));
  assert.ok(fileURLToPath(import.meta.url).startsWith(join(root, 'dist') + sep), 'this test runs from ROOT/dist');
});

test("packageRoot: installed inside another project, it stops at its own package.json, not the project's", async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'difftts-root-'));
  try {
    const pkg = join(tmp, 'app', 'node_modules', 'difftts');
    mkdirSync(join(pkg, 'dist', 'src', 'util'), { recursive: true });
    writeFileSync(join(tmp, 'app', 'package.json'), '{"name": "app"}');
    writeFileSync(join(pkg, 'package.json'), '{"name": "difftts"}');
    // a package.json of another name between the module and its package does not count
    writeFileSync(join(pkg, 'dist', 'package.json'), '{"type": "module"}');
    const here = dirname(fileURLToPath(import.meta.url));
    copyFileSync(join(here, 'package-root.js'), join(pkg, 'dist', 'src', 'util', 'package-root.js'));
    copyFileSync(join(here, '..', 'errors.js'), join(pkg, 'dist', 'src', 'errors.js'));
    const mod = (await import(pathToFileURL(join(pkg, 'dist', 'src', 'util', 'package-root.js')).href)) as { packageRoot(): string };
    assert.equal(mod.packageRoot(), pkg);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
