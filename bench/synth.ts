import type { BenchRow } from './common.js';

/** The 'synth' benchmark suite (being built). */
export async function run(): Promise<BenchRow[]> {
  console.log('bench synth: not built yet');
  return [];
}
