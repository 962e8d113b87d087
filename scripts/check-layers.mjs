#!/usr/bin/env node
// Layer check: no cycle through VALUE imports among src/ modules, nor between src/ folders.
//
// `node scripts/check-layers.mjs [ROOT]` reads ROOT/src/**/*.ts (ROOT defaults to the repository), leaving out
// *.test.ts and src/testing/ (test support may import anything). Edges come from static `import … from`,
// `export … from` and bare `import '…'` statements with relative specifiers (`./x.js` → `./x.ts`, or `./x/index.ts`).
// Type-only imports are erased by tsc and create no load order, so they are not edges: `import type …`,
// `export type … from`, and `import { type A, type B }` where every name is marked `type`.
// Dynamic `import()` is not counted: it runs after module evaluation and is how a lower layer may reach up lazily.
// Folder graph: A → B when a module in src/A value-imports one in src/B (A ≠ B); a file directly in src/ is its own node.
//
// Exit 0 with a one-line summary; exit 1 listing each cycle as a chain `a → b → … → a`.
// When ROOT/docs/DESIGN.md has a "## Layers" table (`| N | \`folder\`, … |`), it must be true: every folder in it
// once, and each folder importing only folders in lower rows (exit 1 naming the module edge, with a true table).
// ROOT/scripts/layers-allow.json may list today's known cycles (strongly connected components) so that only NEW
// ones fail: { "allow": [ { "graph": "module" | "folder", "members": [...], "why": "..." } ] }.
// A component passes when its members are all inside one allowed entry's members.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join, dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.argv[2] ?? join(here, '..'));
const srcDir = join(root, 'src');

/** Paths relative to ROOT with forward slashes, e.g. `src/train/run.ts`. */
function rel(p) {
  return relative(root, p).split(sep).join('/');
}

function walk(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (rel(p) !== 'src/testing') walk(p, out);
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

// Block comments are blanked (keeping newlines) so that a commented-out import is not read; line comments cannot
// hold a statement that starts a line. Statements are matched at the start of a line, where this code base keeps them.
function stripBlockComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '));
}

const NAMED = String.raw`\{[^}]*\}`;
const IDENT = String.raw`[A-Za-z_$][\w$]*`;
const CLAUSE = String.raw`(?:${IDENT}\s*,\s*)?(?:${NAMED}|\*\s*(?:as\s+${IDENT})?|${IDENT})`;
const FROM_RE = new RegExp(String.raw`^[ \t]*(import|export)\s+(type\s+)?(${CLAUSE})\s*from\s*['"]([^'"\n]+)['"]`, 'gm');
const BARE_RE = /^[ \t]*import\s*['"]([^'"\n]+)['"]/gm;

/** True when every name in `{ … }` is marked `type` (tsc erases the statement). */
function allNamesTypeOnly(clause) {
  const m = /^\{([^}]*)\}$/.exec(clause.trim());
  if (!m) return false;
  const names = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => /^type\s/.test(n));
}

/** Value-import specifiers of one source text. */
export function valueSpecifiers(text) {
  const src = stripBlockComments(text);
  const out = [];
  for (const m of src.matchAll(FROM_RE)) {
    const [, , typeKw, clause, spec] = m;
    if (typeKw || allNamesTypeOnly(clause)) continue;
    out.push(spec);
  }
  for (const m of src.matchAll(BARE_RE)) out.push(m[1]);
  return out;
}

function resolveSpec(fromFile, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base + '.ts', join(base, 'index.ts')];
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  return null;
}

function folderOf(module) {
  const parts = module.split('/');
  return parts.length > 2 ? `src/${parts[1]}` : module;
}

/** Tarjan's strongly connected components of graph (Map node → Set of nodes); only the cyclic ones. */
function cyclicComponents(graph) {
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    onStack = new Set(),
    stack = [],
    comps = [];
  function visit(v) {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)?.has(v)) comps.push(comp.sort());
    }
  }
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return comps;
}

/** Cycles covering every edge inside one component: for each uncovered edge u → v, the shortest way back v ⇝ u. */
function cyclesOf(graph, comp) {
  const inComp = new Set(comp);
  const covered = new Set();
  const cycles = [];
  for (const u of comp) {
    for (const v of [...(graph.get(u) ?? [])].sort()) {
      if (!inComp.has(v) || covered.has(`${u}\0${v}`)) continue;
      const prev = new Map([[v, null]]);
      const queue = [v];
      while (queue.length && !prev.has(u)) {
        const x = queue.shift();
        for (const y of [...(graph.get(x) ?? [])].sort()) {
          if (inComp.has(y) && !prev.has(y)) {
            prev.set(y, x);
            queue.push(y);
          }
        }
      }
      // Walk back from u to v along the BFS tree: u ← … ← v, so the cycle reads u → v → … → u.
      const back = [];
      if (u !== v) for (let x = u; x !== v; x = prev.get(x)) back.push(x);
      const ordered = [u, v, ...back.slice(1).reverse(), ...(u === v ? [] : [u])];
      for (let i = 0; i + 1 < ordered.length; i++) covered.add(`${ordered[i]}\0${ordered[i + 1]}`);
      cycles.push(ordered);
    }
  }
  return cycles;
}

function buildGraphs() {
  const modules = new Map();
  const folders = new Map();
  const witness = new Map(); // 'A\0B' → one module edge behind the folder edge A → B, for the messages
  for (const file of walk(srcDir, [])) {
    const from = rel(file);
    const deps = modules.get(from) ?? new Set();
    modules.set(from, deps);
    if (!folders.has(folderOf(from))) folders.set(folderOf(from), new Set());
    for (const spec of valueSpecifiers(readFileSync(file, 'utf8'))) {
      const target = resolveSpec(file, spec);
      if (!target) continue;
      const to = rel(target);
      if (!to.startsWith('src/') || to.startsWith('src/testing/') || to.endsWith('.test.ts')) continue;
      deps.add(to);
      if (folderOf(from) === folderOf(to)) continue;
      folders.get(folderOf(from)).add(folderOf(to));
      if (!witness.has(`${folderOf(from)}\0${folderOf(to)}`)) witness.set(`${folderOf(from)}\0${folderOf(to)}`, `${from} → ${to}`);
    }
  }
  return { modules, folders, witness };
}

function readAllow() {
  const p = join(root, 'scripts', 'layers-allow.json');
  if (!existsSync(p)) return [];
  const json = JSON.parse(readFileSync(p, 'utf8'));
  return Array.isArray(json.allow) ? json.allow : [];
}

/** Folders by layer, bottom first: a folder's layer is one above the highest folder it imports (0: imports none). */
function folderLayers(folders) {
  const layers = [];
  for (const [f, l] of layerOf(folders)) (layers[l] ??= []).push(f.replace(/^src\//, ''));
  return layers.map((l) => l.sort());
}

function layerOf(folders) {
  const level = new Map();
  const visiting = new Set(); // an allowed folder cycle must not recurse forever: its back edge counts as nothing
  const levelOf = (f) => {
    if (visiting.has(f)) return -1;
    if (!level.has(f)) {
      visiting.add(f);
      level.set(f, Math.max(-1, ...[...folders.get(f)].map(levelOf)) + 1);
      visiting.delete(f);
    }
    return level.get(f);
  };
  for (const f of [...folders.keys()].sort()) levelOf(f);
  return level;
}

/**
 * docs/DESIGN.md's "## Layers" table (`| N | \`a\`, \`b\` |`) checked against the folder graph: every folder listed
 * once, and every folder edge going to a strictly lower row. The table need not be the tightest layering, only true.
 * Returns the problems (none when there is no such file or section).
 */
function checkDesignTable(folders, witness) {
  const p = join(root, 'docs', 'DESIGN.md');
  if (!existsSync(p)) return [];
  const section = /^## Layers\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readFileSync(p, 'utf8'));
  if (!section) return [];
  const row = new Map();
  for (const m of section[1].matchAll(/^\|\s*(\d+)\s*\|([^|\n]*)\|\s*$/gm)) {
    for (const name of m[2].matchAll(/`([^`]+)`/g)) row.set(`src/${name[1]}`, Number(m[1]));
  }
  const problems = [];
  for (const f of [...folders.keys()].sort()) if (!row.has(f)) problems.push(`${f} is not in the table`);
  for (const f of row.keys()) if (!folders.has(f)) problems.push(`${f} is in the table but not in src/`);
  for (const [a, deps] of folders) {
    for (const b of deps) {
      if (row.has(a) && row.has(b) && row.get(a) <= row.get(b)) {
        problems.push(`${a} (layer ${row.get(a)}) imports ${b} (layer ${row.get(b)}): ${witness.get(`${a}\0${b}`)}`);
      }
    }
  }
  return problems.sort();
}

function main() {
  const { modules, folders, witness } = buildGraphs();
  const allow = readAllow();
  const failures = [];
  const allowedHits = new Set();
  for (const [kind, graph] of [
    ['module', modules],
    ['folder', folders],
  ]) {
    for (const comp of cyclicComponents(graph)) {
      const i = allow.findIndex((a) => a.graph === kind && comp.every((m) => a.members.includes(m)));
      if (i >= 0) {
        allowedHits.add(i);
        continue;
      }
      failures.push({ kind, comp, cycles: cyclesOf(graph, comp) });
    }
  }
  for (const [i, a] of allow.entries()) {
    if (!allowedHits.has(i))
      console.error(
        `check-layers: allowed ${a.graph} cycle among ${a.members.join(', ')} is gone: remove it from scripts/layers-allow.json`,
      );
  }
  if (failures.length) {
    for (const f of failures) {
      console.error(`${f.kind} cycle among ${f.comp.length} ${f.kind === 'module' ? 'modules' : 'folders'} (${f.comp.join(', ')}):`);
      for (const c of f.cycles) console.error(`  ${c.join(' → ')}`);
      if (f.kind === 'folder') {
        for (const c of f.cycles) {
          for (let i = 0; i + 1 < c.length; i++) console.error(`    ${c[i]} → ${c[i + 1]}: ${witness.get(`${c[i]}\0${c[i + 1]}`)}`);
        }
      }
    }
    console.error(
      `check-layers: ${failures.length} value-import cycle(s); make an import \`import type\`, or move the shared part below both`,
    );
    process.exit(1);
  }
  const layers = folderLayers(folders);
  const tableProblems = checkDesignTable(folders, witness);
  if (tableProblems.length) {
    for (const t of tableProblems) console.error(`docs/DESIGN.md Layers table: ${t}`);
    console.error(
      'check-layers: the Layers table of docs/DESIGN.md is not true of src/; one that is (each folder one above the highest it imports):',
    );
    for (const [i, l] of layers.entries()) console.error(`| ${i} | ${l.map((f) => `\`${f}\``).join(', ')} |`);
    process.exit(1);
  }
  const edges = [...modules.values()].reduce((n, s) => n + s.size, 0);
  console.log(
    `check-layers: ${modules.size} modules, ${edges} value imports, ${folders.size} folders, no cycle` +
      (allowedHits.size ? ` outside ${allowedHits.size} allowed` : '') +
      `; folder layers, bottom first: ${layers.map((l) => l.join(' ')).join(' < ')}`,
  );
}

// Run when invoked as a script; importing it (for valueSpecifiers) checks nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
