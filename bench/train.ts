import type { BenchRow } from './common.js';

/** The 'train' benchmark suite (being built). */
export async function run(): Promise<BenchRow[]> {
  console.log('bench train: not built yet');
  return [];
}
