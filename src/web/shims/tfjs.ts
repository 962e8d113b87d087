/**
 * What `@tensorflow/tfjs` resolves to in the page bundle (scripts/build-web.mjs): tfjs-core with its
 * chained ops and the cpu backend — what difftts's inference uses — without the umbrella package's
 * layers, converter, data and webgl (several MB the page would download for nothing).
 */
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
export * from '@tensorflow/tfjs-core';
