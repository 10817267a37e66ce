/** The native CPU backend: the addon's exports already are the Backend's kernels. */
import type { NativeAddon } from './loader.js';
import { referenceBackend } from './reference.js';
import type { Backend } from './types.js';

/**
 * Bool (Uint8Array) copies, gathers and scatters run the reference kernels: the addon's kernels take
 * float32, float64 and int32 only, and bool tensors are masks, rarely large. Bool arithmetic goes
 * there too, to be refused with the reference's dtype error rather than a native one.
 */
export function nativeBackend(addon: NativeAddon): Backend {
  return {
    ...addon,
    name: 'native',
    copyStrided(shape, src, dst) {
      if (src.data instanceof Uint8Array) referenceBackend.copyStrided(shape, src, dst);
      else addon.copyStrided(shape, src, dst);
    },
    indexSelect(src, outer, n, inner, index, k, out) {
      if (src instanceof Uint8Array) referenceBackend.indexSelect(src, outer, n, inner, index, k, out);
      else addon.indexSelect(src, outer, n, inner, index, k, out);
    },
    gather(src, outer, n, inner, index, k, out) {
      if (src instanceof Uint8Array) referenceBackend.gather(src, outer, n, inner, index, k, out);
      else addon.gather(src, outer, n, inner, index, k, out);
    },
    scatter(src, outer, k, inner, index, n, out) {
      if (src instanceof Uint8Array) referenceBackend.scatter(src, outer, k, inner, index, n, out);
      else addon.scatter(src, outer, k, inner, index, n, out);
    },
    scatterAdd(src, outer, k, inner, index, n, out) {
      if (src instanceof Uint8Array) referenceBackend.scatterAdd(src, outer, k, inner, index, n, out);
      else addon.scatterAdd(src, outer, k, inner, index, n, out);
    },
    indexPut(src, outer, k, inner, index, n, out, accumulate) {
      if (src instanceof Uint8Array) referenceBackend.indexPut(src, outer, k, inner, index, n, out, accumulate);
      else addon.indexPut(src, outer, k, inner, index, n, out, accumulate);
    },
    indexPutAt(src, k, offsets, h, heads, run, out, accumulate) {
      if (src instanceof Uint8Array) referenceBackend.indexPutAt(src, k, offsets, h, heads, run, out, accumulate);
      else addon.indexPutAt(src, k, offsets, h, heads, run, out, accumulate);
    },
    unary(op, x, out, n, p1, p2) {
      if ((x as unknown) instanceof Uint8Array) referenceBackend.unary(op, x, out, n, p1, p2);
      else addon.unary(op, x, out, n, p1, p2);
    },
    binary(op, shape, a, b, out) {
      if (out instanceof Uint8Array) referenceBackend.binary(op, shape, a, b, out);
      else addon.binary(op, shape, a, b, out);
    },
  };
}
