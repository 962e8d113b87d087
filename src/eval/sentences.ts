/** Sentence lists for evaluation without recordings (datasets/sentences/*.txt). */
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../errors.js';

/** The sentences of an unseen-sentence file: non-empty lines not starting with #. */
export function readSentences(path: string): string[] {
  if (!existsSync(path)) throw new UserError(`${path}: sentence file not found (expected one sentence per line)`);
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  if (lines.length === 0) throw new UserError(`${path}: no sentences (expected one per line; # starts a comment)`);
  return lines;
}
