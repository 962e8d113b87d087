/**
 * `Buffer` in the page bundle (esbuild `inject`): src/kernels/wasm/emit.ts encodes the kernel
 * modules' export names with Buffer.from(name, 'utf8') — the only use of Node's Buffer on the
 * page's code path. (A TextEncoder in emit.ts would make this shim unnecessary.)
 */
const utf8 = new TextEncoder();

export const Buffer = {
  from(s: string, encoding: 'utf8'): Uint8Array {
    if (typeof s !== 'string' || encoding !== 'utf8') throw new Error('the page\'s Buffer shim only encodes strings as UTF-8');
    return utf8.encode(s);
  },
};
