/** Paths used by tests: the repository root and ../shared (fixtures), overridable by DIFFTTS_SHARED. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** Repository root (this file is compiled to dist/src/testing/paths.js). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The read-only shared folder beside the project root. */
export const sharedDir = process.env.DIFFTTS_SHARED ?? resolve(repoRoot, '..', 'shared');

/** The three LibriVox fixtures: wav + reference log-mel (.npy, float32 [80, frames]). */
export function speechFixtures(): { name: string; wav: string; mel: string }[] {
  const dir = join(sharedDir, 'fixtures', 'speech');
  if (!existsSync(dir)) throw new Error(`fixtures not found at ${dir} (set DIFFTTS_SHARED)`);
  return ['librivox_0870', 'librivox_0890', 'librivox_0930'].map((name) => ({
    name,
    wav: join(dir, `${name}.wav`),
    mel: join(dir, `${name}.mel.npy`),
  }));
}

/** The CLI entry point, for tests that spawn `difftts` as a child process. */
export const cliPath = join(repoRoot, 'bin', 'difftts.js');
