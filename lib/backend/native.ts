/** The native CPU backend: the addon's kernels behind the Backend interface. */
import type { NativeAddon } from './loader.js';
import type { Backend } from './types.js';

export function nativeBackend(addon: NativeAddon): Backend {
  return {
    name: 'native',
    unary: (op, x, out, n, p1, p2) => addon.unary(op, x, out, n, p1, p2),
    binary: (op, shape, a, b, out) =>
      addon.binary(op, shape, a.data, a.offset, a.strides, b.data, b.offset, b.strides, out),
    copyStrided: (shape, src, dst) =>
      addon.copyStrided(shape, src.data, src.offset, src.strides, dst.data, dst.offset, dst.strides),
    reduce: (op, x, outer, n, inner, values, indices) =>
      addon.reduce(op, x, outer, n, inner, values, indices),
    indexSelect: (src, outer, n, inner, index, k, out) =>
      addon.indexSelect(src, outer, n, inner, index, k, out),
    indexAdd: (src, outer, k, inner, index, n, out) =>
      addon.indexAdd(src, outer, k, inner, index, n, out),
    gemm: (p, a, b, c) =>
      addon.gemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, a, p.aOffset, p.lda, b, p.bOffset, p.ldb,
        p.beta, c, p.cOffset, p.ldc, p.batch, p.strideA, p.strideB, p.strideC),
  };
}
