/** The native CPU backend: the addon's exports already are the Backend's kernels. */
import { isRecording, refuseWhileRecording } from '../tensor/deferral.js';
import type { NativeAddon } from './loader.js';
import { referenceBackend } from './reference.js';
import type { Backend } from './types.js';

/** The reference backend for a bool `op`, refused while ng.runAsync defers (it computes in TypeScript now). */
function reference(op: string): Backend {
  refuseWhileRecording(`${op} on bool tensors`);
  return referenceBackend;
}

/**
 * Bool (Uint8Array) copies, gathers and scatters run the reference kernels: the addon's kernels take
 * float32, float64 and int32 only, and bool tensors are masks, rarely large. Bool arithmetic goes
 * there too, to be refused with the reference's dtype error rather than a native one. While ng.runAsync
 * records, these TypeScript kernels are refused: they would compute before the recorded kernels ran.
 */
export function nativeBackend(addon: NativeAddon): Backend {
  return {
    ...addon,
    name: 'native',
    copyStrided(shape, src, dst) {
      if (src.data instanceof Uint8Array) reference('copyStrided').copyStrided(shape, src, dst);
      else addon.copyStrided(shape, src, dst);
    },
    indexSelect(src, outer, n, inner, index, k, out) {
      if (src instanceof Uint8Array) reference('indexSelect').indexSelect(src, outer, n, inner, index, k, out);
      else addon.indexSelect(src, outer, n, inner, index, k, out);
    },
    firstOutOfRange(index, limit) {
      // A synchronous read: while ng.runAsync records, the reference loop reads the (ready) indices.
      return isRecording() ? referenceBackend.firstOutOfRange(index, limit) : addon.firstOutOfRange(index, limit);
    },
    gather(src, outer, n, inner, index, k, out) {
      if (src instanceof Uint8Array) reference('gather').gather(src, outer, n, inner, index, k, out);
      else addon.gather(src, outer, n, inner, index, k, out);
    },
    scatter(src, outer, k, inner, index, n, out, base) {
      if (src instanceof Uint8Array) reference('scatter').scatter(src, outer, k, inner, index, n, out, base);
      else addon.scatter(src, outer, k, inner, index, n, out, base);
    },
    scatterAdd(src, outer, k, inner, index, n, out, base) {
      if (src instanceof Uint8Array) reference('scatterAdd').scatterAdd(src, outer, k, inner, index, n, out, base);
      else addon.scatterAdd(src, outer, k, inner, index, n, out, base);
    },
    indexPut(src, outer, k, inner, index, n, out, accumulate) {
      if (src instanceof Uint8Array) reference('indexPut').indexPut(src, outer, k, inner, index, n, out, accumulate);
      else addon.indexPut(src, outer, k, inner, index, n, out, accumulate);
    },
    indexPutAt(src, k, offsets, h, heads, run, out, accumulate) {
      if (src instanceof Uint8Array)
        reference('indexPutAt').indexPutAt(src, k, offsets, h, heads, run, out, accumulate);
      else addon.indexPutAt(src, k, offsets, h, heads, run, out, accumulate);
    },
    unary(op, x, out, n, p1, p2) {
      if ((x as unknown) instanceof Uint8Array) reference('unary').unary(op, x, out, n, p1, p2);
      else addon.unary(op, x, out, n, p1, p2);
    },
    binary(op, shape, a, b, out) {
      if (out instanceof Uint8Array) reference('binary').binary(op, shape, a, b, out);
      else addon.binary(op, shape, a, b, out);
    },
  };
}
