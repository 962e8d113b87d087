/**
 * depthToSpace (NHWC) fused with a crop, for the polyphase transposed convs. wasm's own
 * DepthToSpace moves ~26 M floats/s (50 ms for [4, 40, 64, 128]); here each output run of C floats
 * is one memmove inside the wasm heap (copyWithin).
 */
import * as tf from '@tensorflow/tfjs';
import { heapIndex, type WasmBackend } from './wasm-backend.js';

const KERNEL_NAME = 'DiffttsDepthToSpaceCrop';

interface Attrs { s: number; h: number; w: number }


function ensureRegistered(): void {
  if (tf.getKernel(KERNEL_NAME, 'wasm')) return;
  tf.registerKernel({
    kernelName: KERNEL_NAME,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const z = inputs.z as tf.TensorInfo;
      const { s, h, w } = attrs as unknown as Attrs;
      const be = backend as unknown as WasmBackend;
      const [b, ah, aw, sc] = z.shape as [number, number, number, number];
      const c = sc / (s * s);
      const out = be.makeOutput([b, h, w, c], 'float32');
      const heap = be.wasm.HEAPF32; // after makeOutput, which may grow the heap
      const zOff = heapIndex(be, z);
      const oOff = heapIndex(be, out);
      for (let bi = 0; bi < b; bi++) {
        for (let y = 0; y < h; y++) {
          const a = Math.floor(y / s), rh = y - a * s;
          if (a >= ah) continue;
          for (let x = 0; x < w; x++) {
            const ax = Math.floor(x / s), rw = x - ax * s;
            const src = zOff + ((bi * ah + a) * aw + ax) * sc + (rh * s + rw) * c;
            heap.copyWithin(oOff + ((bi * h + y) * w + x) * c, src, src + c);
          }
        }
      }
      return out;
    },
  });
}

/**
 * out[b, y, x, c] = z[b, ⌊y/s⌋, ⌊x/s⌋, ((y mod s)·s + x mod s)·C + c] for y < h, x < w.
 * @param z [B, A, Aw, s²·C] with A·s ≥ h and Aw·s ≥ w; @returns [B, h, w, C]
 */
export function depthToSpaceCrop(z: tf.Tensor4D, s: number, h: number, w: number): tf.Tensor4D {
  const [b, ah, aw, sc] = z.shape;
  if (ah * s < h || aw * s < w || sc % (s * s) !== 0) throw new Error(`depthToSpaceCrop: [${z.shape}] cannot give ${h}×${w} with block ${s}`);
  if (tf.getBackend() === 'wasm') {
    ensureRegistered();
    return tf.engine().runKernel(KERNEL_NAME, { z }, { s, h, w } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const full = tf.depthToSpace(z, s, 'NHWC');
    return ah * s === h && aw * s === w ? full : tf.slice(full, [0, 0, 0, 0], [b, h, w, sc / (s * s)]);
  });
}
