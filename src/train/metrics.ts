/**
 * metrics.jsonl: one JSON object per logged step, each line appended whole (a refused write is cut
 * back, src/util/atomic.ts), so only a kill can leave a partial last line — which resume drops.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendWhole, writeFileAtomic } from '../util/atomic.js';

export interface MetricsLine {
  step: number;
  [key: string]: number | string | null;
}

/** Appends one line. */
export function appendMetrics(path: string, line: MetricsLine): void {
  appendWhole(path, JSON.stringify(line) + '\n');
}

/** Parses the complete lines of a metrics file (a partial or unparsable last line is ignored). */
export function readMetrics(path: string): MetricsLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // the text after the last newline: empty, or a torn line
  const out: MetricsLine[] = [];
  for (const l of lines) {
    if (!l) continue;
    try {
      out.push(JSON.parse(l) as MetricsLine);
    } catch {
      // a damaged line can only be the torn tail of an earlier killed run; resume rewrites the file
    }
  }
  return out;
}

/**
 * Rewrites the file keeping only whole lines with step ≤ `step` (resume from that checkpoint),
 * so the resumed run appends exactly what an uninterrupted run would have written.
 */
export function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readMetrics(path).filter((m) => m.step <= step);
  writeFileAtomic(path, kept.map((m) => JSON.stringify(m) + '\n').join(''));
}
