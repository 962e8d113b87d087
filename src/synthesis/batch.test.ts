/**
 * longestFirst (batch.ts): a batch's sentences dealt to workers by decreasing symbol count, ties in
 * text order; and what a helper imports (batch-job.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TEXT, textToIds } from '../text/index.js';
import { longestFirst } from './batch.js';

test('longestFirst: indices by decreasing symbol count, equal counts in text order, only the given indices', () => {
  const texts = ['Yes.', 'The quick brown fox jumps over the lazy dog.', 'No.', 'Thank you for calling, goodbye.', 'Ten.'];
  const lm = { textConfig: DEFAULT_TEXT };
  const n = texts.map((t) => textToIds(t, DEFAULT_TEXT).ids.length);
  assert.ok(n[1]! > n[3]! && n[3]! > n[0]!, `symbol counts ${n}`);
  const order = longestFirst(lm, texts, [0, 1, 2, 3, 4]);
  assert.deepEqual(order.slice(0, 2), [1, 3]);
  for (let i = 1; i < order.length; i++) {
    const [a, b] = [order[i - 1]!, order[i]!];
    assert.ok(n[a]! > n[b]! || (n[a] === n[b] && a < b), `order ${order} (counts ${n})`);
  }
  const some = longestFirst(lm, texts, [4, 0, 3]);
  assert.equal(some[0], 3);
  assert.deepEqual([...some].sort(), [0, 3, 4]);
});

/** The modules a module statically imports, transitively: relative files and bare package names (compiled JS). */
function importGraph(entry: URL): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (url: URL) => {
    if (files.has(url.pathname)) return;
    files.add(url.pathname);
    const js = readFileSync(url, 'utf8');
    for (const m of js.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) walk(new URL(spec, url));
      else packages.add(spec);
    }
  };
  walk(entry);
  return { files, packages };
}

test("a synthesis helper's module graph has no text front end (the batch's thread sends ids), the batch's has", () => {
  const helper = importGraph(new URL('./batch-job.js', import.meta.url));
  const batch = importGraph(new URL('./batch.js', import.meta.url));
  const text = fileURLToPath(new URL('../text/index.js', import.meta.url));
  assert.ok(batch.files.has(text) && batch.packages.has('cmu-pronouncing-dictionary'), 'the walk finds the text front end from batch.js');
  assert.ok(helper.files.size > 10, `the walk follows batch-job.js's imports (${helper.files.size} files)`);
  assert.ok(!helper.files.has(text), 'batch-job.js reaches src/text/index.js');
  assert.ok(!helper.packages.has('cmu-pronouncing-dictionary'), 'batch-job.js reaches CMUdict');
});
