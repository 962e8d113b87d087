/** Paths used by tests: the repository root and its fixtures (everything a test reads lives in the repository). */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { packageRoot } from '../util/package-root.js';

/** Repository root: the package root of this checkout (src/util/package-root.ts). */
export const repoRoot = packageRoot();

/** test/fixtures: public-domain speech and its reference log-mels (see test/fixtures/README.md). */
export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/** The three LibriVox fixtures: wav + reference log-mel (.npy, float32 [80, frames]). */
export function speechFixtures(): { name: string; wav: string; mel: string }[] {
  const dir = join(fixturesDir, 'speech');
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir} (they are part of the repository: is the checkout complete?)`);
  return ['librivox_0870', 'librivox_0890', 'librivox_0930'].map((name) => ({
    name,
    wav: join(dir, `${name}.wav`),
    mel: join(dir, `${name}.mel.npy`),
  }));
}

/** The CLI entry point, for tests that spawn `difftts` as a child process. */
export const cliPath = join(repoRoot, 'bin', 'difftts.js');
