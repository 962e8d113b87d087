/**
 * `node:v8` in the page bundle: src/kernels/gemm.ts turns on V8's relaxed-SIMD flag in Node 20;
 * browsers decide that themselves (Chrome ≥ 114 has relaxed SIMD on), so this does nothing.
 */
export default { setFlagsFromString(_flag: string): void {} };
