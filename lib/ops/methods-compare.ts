/** Tensor methods of the comparison and mask family (lib/ops/compare.ts, lib/ops/masks.ts) and the dtype casts. */
import { Tensor } from '../tensor/tensor.js';
import * as cmp from './compare.js';
import type { ScalarOrTensor } from './compare.js';
import * as masks from './masks.js';
import type { Dims } from './reduce.js';
import { to } from './shape.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** this == other as a bool tensor ({@link cmp.eq | ng.eq}). */
    eq(other: ScalarOrTensor): Tensor;
    /** this != other as a bool tensor ({@link cmp.ne | ng.ne}). */
    ne(other: ScalarOrTensor): Tensor;
    /** this < other as a bool tensor ({@link cmp.lt | ng.lt}). */
    lt(other: ScalarOrTensor): Tensor;
    /** this <= other as a bool tensor ({@link cmp.le | ng.le}). */
    le(other: ScalarOrTensor): Tensor;
    /** this > other as a bool tensor ({@link cmp.gt | ng.gt}). */
    gt(other: ScalarOrTensor): Tensor;
    /** this >= other as a bool tensor ({@link cmp.ge | ng.ge}). */
    ge(other: ScalarOrTensor): Tensor;
    /** True when `other` has this shape and equal elements. */
    equal(other: Tensor): boolean;
    /** Both non-zero, as a bool tensor ({@link cmp.logicalAnd | ng.logicalAnd}). */
    logicalAnd(other: ScalarOrTensor): Tensor;
    /** Either non-zero, as a bool tensor ({@link cmp.logicalOr | ng.logicalOr}). */
    logicalOr(other: ScalarOrTensor): Tensor;
    /** Exactly one non-zero, as a bool tensor ({@link cmp.logicalXor | ng.logicalXor}). */
    logicalXor(other: ScalarOrTensor): Tensor;
    /** True where this is zero ({@link cmp.logicalNot | ng.logicalNot}). */
    logicalNot(): Tensor;
    /** True where any element over `dim` (all when omitted) is non-zero ({@link cmp.any | ng.any}). */
    any(dim?: Dims, keepDim?: boolean): Tensor;
    /** True where every element over `dim` (all when omitted) is non-zero ({@link cmp.all | ng.all}). */
    all(dim?: Dims, keepDim?: boolean): Tensor;
    /** True where NaN ({@link cmp.isnan | ng.isnan}). */
    isnan(): Tensor;
    /** True where neither NaN nor ±inf ({@link cmp.isfinite | ng.isfinite}). */
    isfinite(): Tensor;
    /** True at ±inf ({@link cmp.isinf | ng.isinf}). */
    isinf(): Tensor;
    /** This tensor where condition is true, else `other` (PyTorch's x.where(condition, y)). */
    where(condition: Tensor, other: ScalarOrTensor): Tensor;
    /** A copy with `value` where the bool mask is true ({@link masks.maskedFill | ng.maskedFill}). */
    maskedFill(mask: Tensor, value: ScalarOrTensor): Tensor;
    /** Writes `value` where the bool mask is true; returns this ({@link masks.maskedFill_ | ng.maskedFill_}). */
    maskedFill_(mask: Tensor, value: number | boolean): Tensor;
    /** The elements where the bool mask is true, as a 1-D tensor ({@link masks.maskedSelect | ng.maskedSelect}). */
    maskedSelect(mask: Tensor): Tensor;
    /** Indices of the non-zero elements as int32 [k, ndim] ({@link cmp.nonzero | ng.nonzero}). */
    nonzero(): Tensor;
    /** Indices of the non-zero elements as one 1-D int32 tensor per dim. */
    nonzero(options: { asTuple: true }): Tensor[];
    /** A copy as bool (non-zero is true); this tensor if already bool. */
    bool(): Tensor;
    /** A copy as int32 (floats truncate toward zero); this tensor if already int32. */
    int(): Tensor;
    /** A copy as float32; this tensor if already float32. */
    float(): Tensor;
    /** A copy as float64; this tensor if already float64. */
    double(): Tensor;
  }
}

const p = Tensor.prototype;
p.eq = function (o) {
  return cmp.eq(this, o);
};
p.ne = function (o) {
  return cmp.ne(this, o);
};
p.lt = function (o) {
  return cmp.lt(this, o);
};
p.le = function (o) {
  return cmp.le(this, o);
};
p.gt = function (o) {
  return cmp.gt(this, o);
};
p.ge = function (o) {
  return cmp.ge(this, o);
};
p.equal = function (o) {
  return cmp.equal(this, o);
};
p.logicalAnd = function (o) {
  return cmp.logicalAnd(this, o);
};
p.logicalOr = function (o) {
  return cmp.logicalOr(this, o);
};
p.logicalXor = function (o) {
  return cmp.logicalXor(this, o);
};
p.logicalNot = function () {
  return cmp.logicalNot(this);
};
p.any = function (dim, keepDim) {
  return cmp.any(this, dim, keepDim);
};
p.all = function (dim, keepDim) {
  return cmp.all(this, dim, keepDim);
};
p.isnan = function () {
  return cmp.isnan(this);
};
p.isfinite = function () {
  return cmp.isfinite(this);
};
p.isinf = function () {
  return cmp.isinf(this);
};
p.where = function (condition, other) {
  return masks.where(condition, this, other);
};
p.maskedFill = function (mask, value) {
  return masks.maskedFill(this, mask, value);
};
p.maskedFill_ = function (mask, value) {
  return masks.maskedFill_(this, mask, value);
};
p.maskedSelect = function (mask) {
  return masks.maskedSelect(this, mask);
};
function nonzero(this: Tensor): Tensor;
function nonzero(this: Tensor, options: { asTuple: true }): Tensor[];
function nonzero(this: Tensor, options?: { asTuple: true }): Tensor | Tensor[] {
  return options?.asTuple ? cmp.nonzero(this, options) : cmp.nonzero(this);
}
p.nonzero = nonzero;
p.bool = function () {
  return to(this, 'bool');
};
p.int = function () {
  return to(this, 'int32');
};
p.float = function () {
  return to(this, 'float32');
};
p.double = function () {
  return to(this, 'float64');
};
