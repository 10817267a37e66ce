/**
 * Tensor methods of the structure ops (split, gather/scatter, sort, ...) and the `T` / `mT`
 * getters, attached to the prototype like lib/ops/methods.ts does for the core ops.
 */
import { Tensor } from '../tensor/tensor.js';
import * as ga from './gather.js';
import type { IndexAddOptions } from './gather.js';
import * as so from './sort.js';
import type { SortOptions, TopkOptions, ValuesIndices } from './sort.js';
import * as st from './structure.js';
import type { RepeatInterleaveOptions } from './structure.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** All dims reversed (a view); the transpose of a matrix. */
    readonly T: Tensor;
    /** The last two dims swapped (a view). */
    readonly mT: Tensor;
    /** The shape, as torch.Tensor.size(). */
    size(): readonly number[];
    /** The size of dim `dim` (negative counts from the end), as torch.Tensor.size(dim). */
    size(dim: number): number;
    /** Views of consecutive pieces along `dim` ({@link st.split | ng.split}). */
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    /** `chunks` views of equal size along `dim` ({@link st.chunk | ng.chunk}). */
    chunk(chunks: number, dim?: number): Tensor[];
    /** The slices along `dim`, each without that dim ({@link st.unbind | ng.unbind}). */
    unbind(dim?: number): Tensor[];
    /** The lower triangle of the last two dims ({@link st.tril | ng.tril}). */
    tril(diagonal?: number): Tensor;
    /** The upper triangle of the last two dims ({@link st.triu | ng.triu}). */
    triu(diagonal?: number): Tensor;
    /** out[p] = this[p with p[dim] = index[p]] ({@link ga.gather | ng.gather}). */
    gather(dim: number, index: Tensor): Tensor;
    /** A copy with src written at index's positions along `dim` ({@link ga.scatter | ng.scatter}). */
    scatter(dim: number, index: Tensor, src: Tensor | number): Tensor;
    /** A copy with src added at index's positions along `dim` ({@link ga.scatterAdd | ng.scatterAdd}). */
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    /** A copy with alpha · source added at the 1-D index along `dim` ({@link ga.indexAdd | ng.indexAdd}). */
    indexAdd(dim: number, index: Tensor, source: Tensor, options?: IndexAddOptions): Tensor;
    /** scatter in place: overwrites this tensor and returns it. */
    scatter_(dim: number, index: Tensor, src: Tensor | number): Tensor;
    /** scatterAdd in place; returns this ({@link ga.scatterAdd_ | ng.scatterAdd_}). */
    scatterAdd_(dim: number, index: Tensor, src: Tensor): Tensor;
    /** indexAdd in place; returns this ({@link ga.indexAdd_ | ng.indexAdd_}). */
    indexAdd_(dim: number, index: Tensor, source: Tensor, options?: IndexAddOptions): Tensor;
    /** Reverses the elements along `dims` (a copy) ({@link st.flip | ng.flip}). */
    flip(dims: number | readonly number[]): Tensor;
    /** Shifts elements along `dims` with wrap-around ({@link st.roll | ng.roll}). */
    roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor;
    /** Tiles the tensor: `x.repeat(2, 3)` or `x.repeat([2, 3])`. */
    repeat(...sizes: number[] | [readonly number[]]): Tensor;
    /** Repeats each element (or slice along `dim`) ({@link st.repeatInterleave | ng.repeatInterleave}). */
    repeatInterleave(repeats: number | readonly number[] | Tensor, options?: RepeatInterleaveOptions): Tensor;
    /** Sorted values and their positions along `dim` ({@link so.sort | ng.sort}). */
    sort(options?: SortOptions): ValuesIndices;
    /** The positions that sort this along `dim` ({@link so.argsort | ng.argsort}). */
    argsort(options?: SortOptions): Tensor;
    /** The k largest (or smallest) elements and their positions ({@link so.topk | ng.topk}). */
    topk(k: number, options?: TopkOptions): ValuesIndices;
  }
}

const p = Tensor.prototype;
Object.defineProperty(p, 'T', {
  get(this: Tensor) {
    return st.reverseDims(this);
  },
  configurable: true,
});
Object.defineProperty(p, 'mT', {
  get(this: Tensor) {
    return st.matrixTranspose(this);
  },
  configurable: true,
});
p.size = function (this: Tensor, dim?: number) {
  return st.size(this, dim);
} as Tensor['size'];
p.split = function (s, d) {
  return st.split(this, s, d);
};
p.chunk = function (c, d) {
  return st.chunk(this, c, d);
};
p.unbind = function (d) {
  return st.unbind(this, d);
};
p.tril = function (k) {
  return st.tril(this, k);
};
p.triu = function (k) {
  return st.triu(this, k);
};
p.gather = function (d, i) {
  return ga.gather(this, d, i);
};
p.scatter = function (d, i, s) {
  return ga.scatter(this, d, i, s);
};
p.scatterAdd = function (d, i, s) {
  return ga.scatterAdd(this, d, i, s);
};
p.indexAdd = function (d, i, s, o) {
  return ga.indexAdd(this, d, i, s, o);
};
p.scatter_ = function (d, i, s) {
  return ga.scatter_(this, d, i, s);
};
p.scatterAdd_ = function (d, i, s) {
  return ga.scatterAdd_(this, d, i, s);
};
p.indexAdd_ = function (d, i, s, o) {
  return ga.indexAdd_(this, d, i, s, o);
};
p.flip = function (dims) {
  return st.flip(this, dims);
};
p.roll = function (s, d) {
  return st.roll(this, s, d);
};
p.repeat = function (...sizes) {
  const list = Array.isArray(sizes[0]) ? (sizes[0] as readonly number[]) : (sizes as number[]);
  return st.repeat(this, list);
};
p.repeatInterleave = function (r, o) {
  return st.repeatInterleave(this, r, o);
};
p.sort = function (o) {
  return so.sort(this, o);
};
p.argsort = function (o) {
  return so.argsort(this, o);
};
p.topk = function (k, o) {
  return so.topk(this, k, o);
};

export * from './structure.js';
export * from './gather.js';
export * from './sort.js';
