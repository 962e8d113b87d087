/**
 * Is a WebGPU adapter hardware or software? Shared by Node's webgpu backend (webgpu.ts) and the web
 * page (src/web/backend.ts), which both skip a software adapter in their automatic pick. No Node APIs.
 */

/** What the adapter says about itself (GPUAdapterInfo), plus our hardware/software verdict. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  software: boolean;
}

/** The parts of a GPUAdapter read here (Dawn's in Node, the browser's in the page). */
export interface AdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<AdapterLike['info']>;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|\bwarp\b/i;

/** Classifies adapter info: software when it says so (architecture, fallback flag) or names a CPU rasteriser. */
export function adapterFromInfo(info: AdapterLike['info'], fallbackFlag = false): AdapterInfo {
  const s = (k: 'vendor' | 'architecture' | 'device' | 'description') => String(info?.[k] ?? '');
  const a = { vendor: s('vendor'), architecture: s('architecture'), device: s('device'), description: s('description') };
  const software =
    fallbackFlag || info?.isFallbackAdapter === true || SOFTWARE.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
  return { ...a, software };
}

/** One line: "mesa llvmpipe-… (llvmpipe: Mesa 25.0.7 …), software adapter". */
export function describeAdapter(a: AdapterInfo): string {
  const name = [a.vendor, a.device || a.architecture].filter((x) => x).join(' ') || 'unnamed adapter';
  return `${name}${a.description ? ` (${a.description})` : ''}, ${a.software ? 'software adapter (runs on the CPU)' : 'hardware adapter'}`;
}
