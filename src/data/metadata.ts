/**
 * Parsing LJSpeech-style `metadata.csv`: `id|text|normalized text[|speaker]`, UTF-8, optional BOM,
 * LF or CRLF line ends, no header. Pure: returns rows and row-level problems, touches no files.
 */
import type { Problem } from './problems.js';

export interface MetadataRow {
  /** 1-based line number in metadata.csv. */
  row: number;
  id: string;
  /** The second field, as written. */
  rawText: string;
  /** The third field when present and non-empty, else the second: what the model reads. */
  text: string;
  speaker: string | null;
}

/** Ids become file names (wavs/<id>.wav, cache files): no separators, no dot-dot, no control chars. */
export const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Splits metadata text into rows. Rows with the wrong number of fields, unsafe or duplicate ids
 * and empty texts are reported (and left out of `rows`); blank lines are ignored. `mentioned` holds
 * the first field of every non-blank line.
 */
export function parseMetadata(content: string, file: string): { rows: MetadataRow[]; problems: Problem[]; mentioned: Set<string> } {
  const rows: MetadataRow[] = [];
  /** Every first field seen, even on rejected rows: their wavs are not "extra" files. */
  const mentioned = new Set<string>();
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const row = i + 1;
    if (line.trim() === '') return;
    const fields = line.split('|');
    mentioned.add(fields[0]!.trim());
    const bad = (kind: Problem['kind'], what: string, id?: string) =>
      problems.push({ kind, file, row, id, message: `${file} row ${row}: ${what}`, fatal: true });
    if (fields.length < 2) return bad('bad-fields', `missing fields, got ${fields.length} (expected id|text[|normalized text[|speaker]])`);
    if (fields.length > 4)
      return bad('bad-fields', `${fields.length - 1} '|' separators (expected at most 3: id|text|normalized text|speaker)`);
    const id = fields[0]!.trim();
    if (!SAFE_ID.test(id)) return bad('bad-id', `id '${id}' is not a safe file name (expected letters, digits, _ . -)`, id || undefined);
    const first = seen.get(id);
    if (first !== undefined) return bad('duplicate-id', `duplicate id '${id}' (first on row ${first})`, id);
    seen.set(id, row);
    const rawText = fields[1]!.trim();
    const norm = (fields[2] ?? '').trim();
    const text = norm || rawText;
    if (!text) return bad('empty-text', `empty text for '${id}' (expected id|text[|normalized text])`, id);
    const speaker = (fields[3] ?? '').trim() || null;
    rows.push({ row, id, rawText, text, speaker });
  });
  return { rows, problems, mentioned };
}
