/**
 * Runs many `difftts` command lines in this one process, one `main()` each, for tests that try
 * dozens of them (a process per command line would start tfjs dozens of times):
 *   node dist/src/testing/cli-cases.js CASES.json RESULTS.json
 * CASES.json is a list of argument lists; RESULTS.json gets, for each, the exit code main()
 * returned, everything written to stderr, and `threw`: the stack of an error main() did not turn
 * into a message (what a user would see as a stack trace), else null, and the milliseconds it took.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from '../cli/main.js';

export interface CaseResult {
  args: string[];
  code: number | null;
  stderr: string;
  threw: string | null;
  /** wall-clock milliseconds main() took */
  ms: number;
}

const [casesFile, resultsFile] = process.argv.slice(2);
if (!casesFile || !resultsFile) throw new Error('usage: cli-cases.js CASES.json RESULTS.json');
const cases = JSON.parse(readFileSync(casesFile, 'utf8')) as string[][];
const results: CaseResult[] = [];
const realWrite = process.stderr.write.bind(process.stderr);
for (const args of cases) {
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const done = rest.find((r): r is () => void => typeof r === 'function');
    done?.();
    return true;
  }) as typeof process.stderr.write;
  let code: number | null = null;
  let threw: string | null = null;
  const t0 = performance.now();
  try {
    code = await main([process.argv[0]!, 'difftts', ...args]);
  } catch (err) {
    threw = err instanceof Error ? (err.stack ?? err.message) : String(err);
  } finally {
    process.stderr.write = realWrite;
  }
  results.push({ args, code, stderr, threw, ms: performance.now() - t0 });
}
writeFileSync(resultsFile, JSON.stringify(results));
