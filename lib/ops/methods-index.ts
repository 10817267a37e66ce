/** Indexing methods on Tensor: `x.index(':', -1)`, `x.indexPut_([idx], v)`, `x.indexPut([idx], v)`. */
import { Tensor } from '../tensor/tensor.js';
import * as ix from './indexing.js';
import type { IndexPutOptions, IndexSpec } from './indexing.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * this[...specs] ({@link ix.index | ng.index}): a view for numbers, slices, null and '...'; a copy with
     * index tensors, arrays or bool masks.
     * @example
     * ```ts
     * const x = ng.arange(12).reshape([3, 4]);
     * x.index(0); // row 0, a view
     * x.index(':', '1:3'); // columns 1 and 2, a view
     * x.index(ng.slice(null, null, 2), -1); // x[::2, -1]
     * x.index([2, 0]); // rows 2 and 0, a copy
     * x.index(x.gt(5)); // the elements above 5, 1-D
     * ```
     */
    index(...specs: IndexSpec[]): Tensor;
    /**
     * this[...specs] = value, in place; returns this tensor ({@link ix.indexPut_ | ng.indexPut_}). value is a
     * number or a tensor broadcast to the indexed shape; `accumulate` adds instead (duplicates too).
     * @example
     * ```ts
     * const x = ng.zeros([3, 4]);
     * x.indexPut_([':', 0], 1); // x[:, 0] = 1
     * x.indexPut_([ng.tensor([0, 2], { dtype: 'int32' })], ng.ones([4])); // rows 0 and 2
     * x.indexPut_([ng.tensor([1, 1], { dtype: 'int32' }), 3], 5, { accumulate: true }); // x[1, 3] += 10
     * ```
     */
    indexPut_(specs: readonly IndexSpec[], value: Tensor | number, options?: IndexPutOptions): Tensor;
    /** A copy of this tensor with this[...specs] = value ({@link ix.indexPut | ng.indexPut}). */
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
