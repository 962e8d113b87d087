/**
 * Outputs the system refuses to write — a full disk, a read-only file system, no permission — stop
 * every command with one line naming the path and the cause, exit code 1, nothing half-written, and
 * (for `train`) a run that resumes from its last good checkpoint. Two ways in:
 *   - injected refusals (DIFFTTS_DEBUG_WRITE_FAIL, src/util/atomic.ts), so this runs without root;
 *   - a real size-limited tmpfs, when running as root (skipped with the reason otherwise).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCorpus } from '../testing/corpora.js';
import { cliPath } from '../testing/paths.js';
import { writeMicroRecipe } from '../testing/recipes.js';
import { listCheckpoints, readCheckpoint } from '../train/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'difftts-writefail-'));

interface Ran {
  code: number | null;
  /** stderr without the informational "using backend" line and tfjs's banner suggesting tfjs-node */
  lines: string[];
}

function difftts(args: string[], env: Record<string, string> = {}): Ran {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DIFFTTS_DEBUG_TOY: '1', ...env },
    timeout: 300_000,
  });
  return {
    code: r.status,
    lines: r.stderr
      .split('\n')
      .filter(
        (l) =>
          l && !/using backend|training (with \d+ workers: |in the main thread)|^=+$|looks like you are running TensorFlow\.js/.test(l),
      ),
  };
}

/** Exit 1; the error is one stderr line, `difftts: PATH: cannot write (WHY, CODE)`, after any progress notes; no stack trace. */
function assertOneLine(r: Ran, path: string, code: string, why: string): void {
  assert.equal(r.code, 1, r.lines.join('\n'));
  assert.equal(r.lines[r.lines.length - 1], `difftts: ${path}: cannot write (${why}, ${code})`);
  assert.deepEqual(
    r.lines.filter((l) => !l.startsWith('difftts: ') || /Error|cannot write/.test(l)),
    [r.lines[r.lines.length - 1]],
    r.lines.join('\n'),
  );
}

/** Every file and directory below `dir` whose name marks a temporary (dot-prefixed or .tmp). */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (n.startsWith('.') || n.includes('.tmp')) out.push(p);
      else if (statSync(p).isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** metrics.jsonl holds whole lines only, steps 1..n in order; returns n. */
function wholeMetrics(run: string): number {
  const text = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'no torn last line');
  const steps = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).step as number);
  assert.deepEqual(
    steps,
    Array.from({ length: steps.length }, (_, i) => i + 1),
  );
  return steps.length;
}

const toyRecipe = join(root, 'toy.json');
writeFileSync(
  toyRecipe,
  JSON.stringify({
    model: { base: 'toy', dim: 64, items: 64 },
    loss: { type: 'l2' },
    train: { steps: 200, batchSize: 8, lr: 0.01, checkpointEvery: 25, keepCheckpoints: 2, logEvery: 1, pngEvery: 0, seed: 5 },
  }),
);
const train = (out: string, extra: string[] = [], env: Record<string, string> = {}) =>
  difftts(['--backend', 'cpu', 'train', '--recipe', toyRecipe, '--out', out, ...extra], env);

/** After a refused write: nothing temporary, no lock, the newest checkpoint loads, the run resumes to the end. */
function assertRecovers(run: string, newestStep: number): void {
  assert.deepEqual(leftovers(run), []);
  assert.ok(!existsSync(join(run, 'train.lock')));
  const ck = listCheckpoints(run);
  assert.equal(ck[ck.length - 1]!.step, newestStep);
  assert.equal(readCheckpoint(ck[ck.length - 1]!.dir).meta.step, newestStep);
  const r = train(run, ['--resume']);
  assert.equal(r.code, 0, r.lines.join('\n'));
  assert.equal(wholeMetrics(run), 200);
}

test('write failures (injected): a refused checkpoint stops train in one line, exit 1; the last good one loads and resumes', () => {
  const run = join(root, 'ckpt');
  const r = train(run, [], { DIFFTTS_DEBUG_WRITE_FAIL: 'ENOSPC:step-000075' });
  assertOneLine(r, join(run, 'checkpoints', 'step-000075'), 'ENOSPC', 'no space left on device');
  assert.equal(wholeMetrics(run), 75);
  assertRecovers(run, 50);
});

test('write failures (injected): a half-written metrics line is cut back; a read-only run.json stops train too', () => {
  const run = join(root, 'metrics');
  assertOneLine(
    train(run, [], { DIFFTTS_DEBUG_WRITE_FAIL: 'ENOSPC:metrics.jsonl:60' }),
    join(run, 'metrics.jsonl'),
    'ENOSPC',
    'no space left on device',
  );
  assert.equal(wholeMetrics(run), 60);
  assertRecovers(run, 50);
  const ro = join(root, 'runjson');
  assertOneLine(train(ro, [], { DIFFTTS_DEBUG_WRITE_FAIL: 'EROFS:run.json' }), join(ro, 'run.json'), 'EROFS', 'read-only file system');
  assert.deepEqual(leftovers(ro), []);
});

// ---------------------------------------------------------------------------------------------
// The other commands that write: data prepare, data corrupt, synthesize, evaluate, experiment.

const corpus = makeCorpus(12);
const features = join(root, 'features');
const micro = join(root, 'micro.json');
const gradRun = join(root, 'gradtts');
before(() => {
  writeMicroRecipe(
    micro,
    { steps: 1, batchSize: 2, checkpointEvery: 1, keepCheckpoints: 1, logEvery: 1, pngEvery: 0, seed: 1 },
    { synth: { steps: 2, temperature: 1.5, lengthScale: 1 } },
  );
  const p = difftts(['data', 'prepare', corpus, '--out', features, '--text-mode', 'characters']);
  assert.equal(p.code, 0, p.lines.join('\n'));
  const t = difftts(['--backend', 'wasm', 'train', '--recipe', micro, '--data', features, '--out', gradRun]);
  assert.equal(t.code, 0, t.lines.join('\n'));
});

test('write failures (injected): sample images, data prepare, data corrupt, synthesize, evaluate and experiment stop in one line, exit 1, nothing half-written', () => {
  const f2 = join(root, 'features2');
  assertOneLine(
    difftts(['data', 'prepare', corpus, '--out', f2], { DIFFTTS_DEBUG_WRITE_FAIL: 'EROFS:manifest.json' }),
    join(f2, 'manifest.json'),
    'EROFS',
    'read-only file system',
  );
  assert.ok(!existsSync(join(f2, 'manifest.json')));
  assert.deepEqual(leftovers(f2), []);

  const bad = join(root, 'corrupted');
  const c = difftts(['data', 'corrupt', corpus, '--out', bad, '--mode', 'noise', '--snr', '0', '--fraction', '0.5', '--seed', '1'], {
    DIFFTTS_DEBUG_WRITE_FAIL: 'ENOSPC:corrupted',
  });
  assertOneLine(c, bad, 'ENOSPC', 'no space left on device');
  assert.ok(!existsSync(bad));
  assert.deepEqual(
    leftovers(root).filter((p) => p.includes('corrupted')),
    [],
  );

  const png = join(root, 'png');
  const t = difftts(['--backend', 'wasm', 'train', '--recipe', micro, '--data', features, '--out', png, '--train.pngEvery', '1'], {
    DIFFTTS_DEBUG_WRITE_FAIL: 'EACCES:step-000001.png',
  });
  assertOneLine(t, join(png, 'samples', 'step-000001.png'), 'EACCES', 'permission denied');
  assert.deepEqual(leftovers(png), []);

  const wav = join(root, 'say', 'hello.wav');
  const s = difftts(
    ['--backend', 'wasm', 'synthesize', '--checkpoint', gradRun, '--text', 'Hello.', '--out', wav, '--steps', '2', '--iters', '2'],
    { DIFFTTS_DEBUG_WRITE_FAIL: 'EACCES:hello.wav' },
  );
  assertOneLine(s, wav, 'EACCES', 'permission denied');
  assert.deepEqual(readdirSync(join(root, 'say')), []);

  const ev = join(root, 'eval');
  const e = difftts(
    [
      '--backend',
      'wasm',
      'evaluate',
      '--checkpoint',
      gradRun,
      '--refs',
      corpus,
      '--features',
      features,
      '--max',
      '1',
      '--steps',
      '2',
      '--iters',
      '2',
      '--out',
      ev,
    ],
    { DIFFTTS_DEBUG_WRITE_FAIL: 'EPERM:eval.csv' },
  );
  assertOneLine(e, join(ev, 'eval.csv'), 'EPERM', 'operation not permitted');
  assert.deepEqual(leftovers(ev), []);

  // experiment: its own outputs, and a step it runs as a child that cannot write (exit 1 passes through)
  const expDir = join(root, 'exp');
  mkdirSync(expDir);
  writeFileSync(join(expDir, 'base.json'), readFileSync(micro));
  const expRecipe = join(expDir, 'exp.json');
  writeFileSync(
    expRecipe,
    JSON.stringify({
      name: 'wf',
      corpus,
      corruption: { mode: 'noise', options: { snr: 0, noise: 'white' } },
      fractions: [0],
      losses: [{ name: 'l2', loss: { type: 'l2' } }],
      seeds: [0],
      train: { recipe: 'base.json' },
      evaluate: { split: 'test', steps: 2, maxUtterances: 1 },
      sampleText: 'Hello.',
      jobs: 1,
    }),
  );
  const out = join(expDir, 'out');
  assertOneLine(
    difftts(['experiment', '--recipe', expRecipe, '--out', out], { DIFFTTS_DEBUG_WRITE_FAIL: 'ENOSPC:experiment.json' }),
    join(out, 'experiment.json'),
    'ENOSPC',
    'no space left on device',
  );
  const x = difftts(['experiment', '--recipe', expRecipe, '--out', out], { DIFFTTS_DEBUG_WRITE_FAIL: 'ENOSPC:manifest.json' });
  assert.equal(x.code, 1, x.lines.join('\n'));
  assert.equal(x.lines.length, 1, x.lines.join('\n'));
  assert.match(
    x.lines[0]!,
    /^difftts: difftts data prepare failed \(exit 1\); see .*prepare-clean\.log: .*manifest\.json: cannot write \(no space left on device, ENOSPC\)/,
  );
});

// ---------------------------------------------------------------------------------------------
// A real full disk and a real read-only file system (root only).

const mnt = join(root, 'tmpfs');
let mounted = false;
after(() => {
  if (mounted) spawnSync('umount', [mnt]);
});

test('write failures (tmpfs): a full disk stops train in one line naming the path, exit 1; it resumes once there is room; read-only too', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a size-limited tmpfs');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) return t.skip(`cannot mount tmpfs here: ${m.stderr.trim()}`);
  mounted = true;
  const run = join(mnt, 'run');
  const r = train(run);
  assert.equal(r.code, 1, r.lines.join('\n'));
  assert.equal(r.lines.length, 1, r.lines.join('\n'));
  assert.match(r.lines[0]!, new RegExp(`^difftts: ${run}/\\S+: cannot write \\(no space left on device, ENOSPC\\)$`));
  const logged = wholeMetrics(run);
  assert.ok(logged > 25 && logged < 200, `logged ${logged} steps before the disk filled`);
  t.diagnostic(r.lines[0]!);
  const newest = listCheckpoints(run).pop()!.step;
  assert.equal(spawnSync('mount', ['-o', 'remount,size=4m', mnt]).status, 0);
  assertRecovers(run, newest);

  assert.equal(spawnSync('mount', ['-o', 'remount,ro', mnt]).status, 0);
  const ro = train(run, ['--resume', '--steps', '300']);
  assertOneLine(ro, run, 'EROFS', 'read-only file system'); // found by the pre-flight (checkOutput), before any work
});
