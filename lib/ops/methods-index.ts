/** Indexing methods on Tensor: `x.index(':', -1)`, `x.indexPut_([idx], v)`, `x.indexPut([idx], v)`. */
import { Tensor } from '../tensor/tensor.js';
import * as ix from './indexing.js';
import type { IndexPutOptions, IndexSpec } from './indexing.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** x[...specs]: a view for numbers, slices, null and '...'; a copy with index tensors or arrays. */
    index(...specs: IndexSpec[]): Tensor;
    /** x[...specs] = value, in place; returns this tensor. */
    indexPut_(specs: readonly IndexSpec[], value: Tensor | number, options?: IndexPutOptions): Tensor;
    /** A copy of this tensor with x[...specs] = value. */
    indexPut(specs: readonly IndexSpec[], value: Tensor | number, options?: IndexPutOptions): Tensor;
  }
}

const p = Tensor.prototype;
p.index = function (...specs) {
  return ix.index(this, ...specs);
};
p.indexPut_ = function (specs, value, options) {
  return ix.indexPut_(this, specs, value, options);
};
p.indexPut = function (specs, value, options) {
  return ix.indexPut(this, specs, value, options);
};
