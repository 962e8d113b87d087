import type { BenchRow } from './common.js';

/** The 'audio' benchmark suite (being built). */
export async function run(): Promise<BenchRow[]> {
  console.log('bench audio: not built yet');
  return [];
}
