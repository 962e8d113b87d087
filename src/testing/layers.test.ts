// The layer rule of docs/DESIGN.md ("Layers"): no cycle through value imports among src/ modules or src/ folders,
// enforced on this repository by scripts/check-layers.mjs, and that checker tried on tiny trees of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths.js';

const checker = join(repoRoot, 'scripts', 'check-layers.mjs');

function check(root?: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [checker, ...(root ? [root] : [])], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A throwaway repository: file path under it → contents. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'difftts-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('src/ has no value-import cycle between modules or folders', () => {
  const { status, out } = check();
  assert.equal(status, 0, out);
  assert.match(out, /^check-layers: \d+ modules, \d+ value imports, \d+ folders, no cycle/);
});

test('a module cycle through value imports is reported as a chain and fails', () => {
  const root = tree({
    'src/a/x.ts': "import { y } from '../b/y.js';\nexport const x = () => y;\n",
    'src/b/y.ts': "import {\n  x,\n} from '../a/x.js';\nexport const y = 1;\nexport const z = x;\n",
  });
  const { status, out } = check(root);
  assert.equal(status, 1, out);
  assert.match(out, /module cycle among 2 modules/);
  assert.match(out, /src\/a\/x\.ts → src\/b\/y\.ts → src\/a\/x\.ts/);
  assert.match(out, /src\/a → src\/b → src\/a/);
  assert.match(out, /src\/b → src\/a: src\/b\/y\.ts → src\/a\/x\.ts/);
});

test('type-only imports, tests, src/testing and commented-out imports make no edge', () => {
  const root = tree({
    'src/a/x.ts': "import type { Y } from '../b/y.js';\nexport const x = 1;\nexport type X = Y;\n",
    'src/b/y.ts': "import { type X, type Z } from '../a/x.js';\nexport type { W } from '../a/w.js';\nexport type Y = X | Z;\n",
    'src/a/w.ts': "/*\nimport { y } from '../b/y.js';\n*/\nexport type W = number;\n",
    'src/a/x.test.ts': "import { y } from '../b/y.js';\n",
    'src/testing/t.ts': "import { x } from '../a/x.js';\n",
    'src/b/uses-testing.ts': "export { t } from '../testing/t.js';\n",
  });
  const { status, out } = check(root);
  assert.equal(status, 0, out);
  assert.match(out, /no cycle/);
});

test('a folder cycle without a module cycle fails; a mixed `{ type A, b }` import is a value import', () => {
  const root = tree({
    'src/a/x.ts': "import { type T, y } from '../b/y.js';\nexport const x = y;\n",
    'src/b/y.ts': 'export const y = 1;\nexport type T = number;\n',
    'src/b/z.ts': "export * from '../a/w.js';\n",
    'src/a/w.ts': 'export const w = 2;\n',
  });
  const { status, out } = check(root);
  assert.equal(status, 1, out);
  assert.doesNotMatch(out, /module cycle/);
  assert.match(out, /folder cycle among 2 folders \(src\/a, src\/b\)/);
});

test('scripts/layers-allow.json lets a known cycle pass, but not a new one', () => {
  const files = {
    'src/a/x.ts': "import { y } from '../b/y.js';\nexport const x = 1;\n",
    'src/b/y.ts': "import { x } from '../a/x.js';\nexport const y = x;\n",
    'scripts/layers-allow.json': JSON.stringify({
      allow: [
        { graph: 'module', members: ['src/a/x.ts', 'src/b/y.ts'], why: 'test' },
        { graph: 'folder', members: ['src/a', 'src/b'], why: 'test' },
      ],
    }),
  };
  const known = check(tree(files));
  assert.equal(known.status, 0, known.out);
  assert.match(known.out, /no cycle outside 2 allowed/);
  const grown = check(
    tree({
      ...files,
      'src/c/v.ts': "import { x } from '../a/x.js';\nexport const v = x;\n",
      'src/a/u.ts': "import { v } from '../c/v.js';\nexport const u = v;\n",
    }),
  );
  assert.equal(grown.status, 1, grown.out);
  assert.match(grown.out, /folder cycle among 3 folders/);
});

test("docs/DESIGN.md's Layers table must be true: folders in lower rows only, every folder listed", () => {
  const src = {
    'src/a/x.ts': "import { y } from '../b/y.js';\nexport const x = y;\n",
    'src/b/y.ts': "import { e } from '../e.js';\nexport const y = e;\n",
    'src/e.ts': 'export const e = 1;\n',
  };
  const design = (rows: string) => `# design\n\n## Layers\n| layer | folders |\n|---|---|\n${rows}\n## Next\n| 0 | \`a\` |\n`;
  const good = check(tree({ ...src, 'docs/DESIGN.md': design('| 0 | `e.ts` |\n| 1 | `b` |\n| 5 | `a` |\n') }));
  assert.equal(good.status, 0, good.out);
  assert.match(good.out, /folder layers, bottom first: e\.ts < b < a$/m);
  const upward = check(tree({ ...src, 'docs/DESIGN.md': design('| 0 | `e.ts` |\n| 1 | `a`, `b` |\n') }));
  assert.equal(upward.status, 1, upward.out);
  assert.match(upward.out, /src\/a \(layer 1\) imports src\/b \(layer 1\): src\/a\/x\.ts → src\/b\/y\.ts/);
  assert.match(upward.out, /^\| 2 \| `a` \|$/m);
  const missing = check(tree({ ...src, 'docs/DESIGN.md': design('| 0 | `e.ts` |\n| 1 | `b`, `gone` |\n') }));
  assert.equal(missing.status, 1, missing.out);
  assert.match(missing.out, /src\/a is not in the table/);
  assert.match(missing.out, /src\/gone is in the table but not in src\//);
});
