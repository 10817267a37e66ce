/**
 * Reference gather / scatter kernels over contiguous [outer, n, inner] layouts with an int32
 * index: the oracle for native/gather.cc. Like the native glue, each checks every index before
 * writing anything, so a bad call leaves `out` untouched.
 */
import { NodegradError } from '../errors.js';
import type { Backend, DataArray } from './types.js';

function checkRange(kernel: string, index: Int32Array, count: number, limit: number): void {
  if (index.length < count) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${kernel}: index has ${index.length} elements, expected at least ${count}`,
    );
  }
  for (let j = 0; j < count; j++) {
    const v = index[j];
    if (v < 0 || v >= limit) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${kernel}: index ${v} at position ${j} is out of range [0, ${limit})`,
      );
    }
  }
}

function scatterInto(
  kernel: string,
  src: DataArray,
  outer: number,
  k: number,
  inner: number,
  index: Int32Array,
  n: number,
  out: DataArray,
  add: boolean,
): void {
  checkRange(kernel, index, outer * k * inner, n);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const from = (o * k + j) * inner + i;
        const to = (o * n + index[from]) * inner + i;
        out[to] = add ? out[to] + src[from] : src[from];
      }
    }
  }
}

export const referenceGatherKernels: Pick<
  Backend,
  'firstOutOfRange' | 'gather' | 'scatter' | 'scatterAdd' | 'indexPut' | 'indexPutAt'
> = {
  firstOutOfRange(index, limit) {
    for (let i = 0; i < index.length; i++) if (!(index[i] >= 0 && index[i] < limit)) return i;
    return -1;
  },

  gather(src, outer, n, inner, index, k, out) {
    checkRange('gather', index, outer * k * inner, n);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < inner; i++) {
          const at = (o * k + j) * inner + i;
          out[at] = src[(o * n + index[at]) * inner + i];
        }
      }
    }
  },

  scatter(src, outer, k, inner, index, n, out, base) {
    checkRange('scatter', index, outer * k * inner, n);
    if (base) out.set(base);
    scatterInto('scatter', src, outer, k, inner, index, n, out, false);
  },

  scatterAdd(src, outer, k, inner, index, n, out, base) {
    checkRange('scatterAdd', index, outer * k * inner, n);
    if (base) out.set(base);
    scatterInto('scatterAdd', src, outer, k, inner, index, n, out, true);
  },

  indexPut(src, outer, k, inner, index, n, out, accumulate) {
    checkRange('indexPut', index, k, n);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const from = (o * k + j) * inner;
        const to = (o * n + index[j]) * inner;
        for (let i = 0; i < inner; i++) out[to + i] = accumulate ? out[to + i] + src[from + i] : src[from + i];
      }
    }
  },

  indexPutAt(src, k, offsets, h, heads, run, out, accumulate) {
    if (k * h * run === 0) return;
    const range = (a: Int32Array, count: number) => {
      let [low, high] = [0, 0];
      for (let j = 0; j < count; j++) [low, high] = [Math.min(low, a[j]), Math.max(high, a[j])];
      return { low, high };
    };
    const at = range(offsets, k),
      head = range(heads, h);
    if (
      offsets.length < k ||
      heads.length < h ||
      at.low < 0 ||
      head.low < 0 ||
      at.high + head.high + run > out.length
    ) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'indexPutAt: offsets out of range for out');
    }
    for (let j = 0; j < k; j++) {
      for (let r = 0; r < h; r++) {
        const from = (j * h + r) * run;
        const to = offsets[j] + heads[r];
        for (let i = 0; i < run; i++) out[to + i] = accumulate ? out[to + i] + src[from + i] : src[from + i];
      }
    }
  },
};
