/**
 * The shipped voices: weights-only checkpoints in the package's pretrained/ directory, named by
 * their folder. `DEFAULT_VOICE` is the one `--voice`, the library and the quickstart use unless told
 * otherwise; it is the one voice the npm package carries (package.json `files`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';

/** The default voice's name (pretrained/NAME). */
export const DEFAULT_VOICE = 'allison-enc128-shallow';

/** pretrained/ of this package. */
export function voicesDir(): string {
  return join(packageRoot(), 'pretrained');
}

/** Names of the shipped voices present (folders of pretrained/ holding a checkpoint), the default first. */
export function listVoices(): string[] {
  const dir = voicesDir();
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'state.json')))
    .map((e) => e.name)
    .sort();
  return [...names.filter((n) => n === DEFAULT_VOICE), ...names.filter((n) => n !== DEFAULT_VOICE)];
}

/**
 * A voice's checkpoint directory: a shipped voice's name (a word without a path separator that
 * names a folder of pretrained/), else a run or checkpoint directory as given.
 */
export function resolveVoice(nameOrDir: string): string {
  if (!nameOrDir) throw new UserError(`voice: empty name (shipped voices: ${listVoices().join(', ') || 'none installed'})`);
  const bare = !/[\\/]/.test(nameOrDir) && nameOrDir !== '.' && nameOrDir !== '..';
  if (bare && existsSync(join(voicesDir(), nameOrDir, 'state.json'))) return join(voicesDir(), nameOrDir);
  if (existsSync(nameOrDir)) return nameOrDir;
  throw new UserError(`voice '${nameOrDir}': neither a shipped voice (${listVoices().join(', ') || 'none installed'}) nor a directory`);
}
