/** Tensor methods of the comparison and mask family (lib/ops/compare.ts, lib/ops/masks.ts) and the dtype casts. */
import { Tensor } from '../tensor/tensor.js';
import * as cmp from './compare.js';
import type { ScalarOrTensor } from './compare.js';
import * as masks from './masks.js';
import type { Dims } from './reduce.js';
import { to } from './shape.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    eq(other: ScalarOrTensor): Tensor;
    ne(other: ScalarOrTensor): Tensor;
    lt(other: ScalarOrTensor): Tensor;
    le(other: ScalarOrTensor): Tensor;
    gt(other: ScalarOrTensor): Tensor;
    ge(other: ScalarOrTensor): Tensor;
    /** True when `other` has this shape and equal elements. */
    equal(other: Tensor): boolean;
    logicalAnd(other: ScalarOrTensor): Tensor;
    logicalOr(other: ScalarOrTensor): Tensor;
    logicalXor(other: ScalarOrTensor): Tensor;
    logicalNot(): Tensor;
    any(dim?: Dims, keepDim?: boolean): Tensor;
    all(dim?: Dims, keepDim?: boolean): Tensor;
    isnan(): Tensor;
    isfinite(): Tensor;
    isinf(): Tensor;
    /** This tensor where condition is true, else `other` (PyTorch's x.where(condition, y)). */
    where(condition: Tensor, other: ScalarOrTensor): Tensor;
    maskedFill(mask: Tensor, value: ScalarOrTensor): Tensor;
    maskedFill_(mask: Tensor, value: number | boolean): Tensor;
    maskedSelect(mask: Tensor): Tensor;
    nonzero(): Tensor;
    nonzero(options: { asTuple: true }): Tensor[];
    bool(): Tensor;
    int(): Tensor;
    float(): Tensor;
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
