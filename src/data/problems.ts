/** Problems found in a corpus, grouped by kind for `difftts data check`. */

export type ProblemKind =
  | 'bad-fields' // wrong number of '|' fields
  | 'bad-id' // id that is not a safe file name
  | 'duplicate-id'
  | 'empty-text'
  | 'unknown-only' // text with no known symbol
  | 'unknown-symbols' // some characters have no symbol (skipped); usable
  | 'missing-wav'
  | 'extra-wav' // wavs/<x>.wav without a metadata row; not an utterance problem
  | 'unreadable-audio'
  | 'multichannel' // downmixed to mono; usable
  | 'sample-rate' // resampled on prepare; usable
  | 'duration' // outside [minDur, maxDur]
  | 'silent' // peak below SILENCE_PEAK: nothing to learn from
  | 'missing-speaker'; // a row without a speaker where other rows name one

export interface Problem {
  kind: ProblemKind;
  /** The file at fault (metadata.csv, a transcript or the audio). */
  file: string;
  /** 1-based metadata.csv line (other layouts: the row's ordinal), when the problem belongs to a row. */
  row?: number;
  id?: string;
  /** One line naming file (row) and what was expected. */
  message: string;
  /** True when the row cannot be used (it is skipped by --skip-bad). */
  fatal: boolean;
}

/** Problems grouped by kind, kinds in first-seen order. */
export function groupProblems(problems: Problem[]): Map<ProblemKind, Problem[]> {
  const out = new Map<ProblemKind, Problem[]>();
  for (const p of problems) {
    const list = out.get(p.kind) ?? [];
    list.push(p);
    out.set(p.kind, list);
  }
  return out;
}
