/**
 * Tensor methods, attached to the prototype so `x.add(y).relu().sum()` reads like PyTorch while
 * lib/tensor stays free of op imports. Each method forwards to the function of the same name.
 */
import type { DType } from '../backend/types.js';
import { backward, type BackwardOptions } from '../autograd/engine.js';
import type { Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import * as ew from './elementwise.js';
import type { TensorLike } from './elementwise.js';
import * as inplace from './inplace.js';
import { indexSelect } from './join.js';
import { matmul } from './matmul.js';
import * as red from './reduce.js';
import type { Dims } from './reduce.js';
import * as sh from './shape.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    sign(): Tensor;
    relu(): Tensor;
    /** ReLU in place: overwrites this tensor and returns it. */
    relu_(): Tensor;
    sigmoid_(): Tensor;
    tanh_(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor;
    sum(dim?: Dims, keepDim?: boolean): Tensor;
    mean(dim?: Dims, keepDim?: boolean): Tensor;
    max(dim?: number, keepDim?: boolean): Tensor;
    min(dim?: number, keepDim?: boolean): Tensor;
    argmax(dim?: number, keepDim?: boolean): Tensor;
    argmin(dim?: number, keepDim?: boolean): Tensor;
    logsumexp(dim?: Dims, keepDim?: boolean): Tensor;
    matmul(other: Tensor): Tensor;
    reshape(shape: Shape): Tensor;
    view(shape: Shape): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    /** The transpose of a 2-D tensor (a view). */
    t(): Tensor;
    permute(dims: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    expand(shape: Shape): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    indexSelect(dim: number, index: Tensor | readonly number[]): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    to(dtype: DType): Tensor;
    /** Backpropagates from this tensor; `grad` defaults to 1 for a one-element tensor. */
    backward(grad?: Tensor, options?: BackwardOptions): void;
  }
}

const p = Tensor.prototype;
p.add = function (o) {
  return ew.add(this, o);
};
p.sub = function (o) {
  return ew.sub(this, o);
};
p.mul = function (o) {
  return ew.mul(this, o);
};
p.div = function (o) {
  return ew.div(this, o);
};
p.pow = function (e) {
  return ew.pow(this, e);
};
p.neg = function () {
  return ew.neg(this);
};
p.exp = function () {
  return ew.exp(this);
};
p.log = function () {
  return ew.log(this);
};
p.sqrt = function () {
  return ew.sqrt(this);
};
p.abs = function () {
  return ew.abs(this);
};
p.sign = function () {
  return ew.sign(this);
};
p.relu = function () {
  return ew.relu(this);
};
p.relu_ = function () {
  return inplace.relu_(this);
};
p.sigmoid_ = function () {
  return inplace.sigmoid_(this);
};
p.tanh_ = function () {
  return inplace.tanh_(this);
};
p.sigmoid = function () {
  return ew.sigmoid(this);
};
p.tanh = function () {
  return ew.tanh(this);
};
p.clamp = function (lo, hi) {
  return ew.clamp(this, lo, hi);
};
p.sum = function (dim, keepDim) {
  return red.sum(this, dim, keepDim);
};
p.mean = function (dim, keepDim) {
  return red.mean(this, dim, keepDim);
};
p.max = function (dim, keepDim) {
  return red.max(this, dim, keepDim);
};
p.min = function (dim, keepDim) {
  return red.min(this, dim, keepDim);
};
p.argmax = function (dim, keepDim) {
  return red.argmax(this, dim, keepDim);
};
p.argmin = function (dim, keepDim) {
  return red.argmin(this, dim, keepDim);
};
p.logsumexp = function (dim, keepDim) {
  return red.logsumexp(this, dim, keepDim);
};
p.matmul = function (o) {
  return matmul(this, o);
};
p.reshape = function (s) {
  return sh.reshape(this, s);
};
p.view = function (s) {
  return sh.view(this, s);
};
p.transpose = function (a, b) {
  return sh.transpose(this, a, b);
};
p.t = function () {
  return this.ndim < 2 ? this : sh.transpose(this, 0, 1);
};
p.permute = function (d) {
  return sh.permute(this, d);
};
p.flatten = function (s, e) {
  return sh.flatten(this, s, e);
};
p.squeeze = function (d) {
  return sh.squeeze(this, d);
};
p.unsqueeze = function (d) {
  return sh.unsqueeze(this, d);
};
p.expand = function (s) {
  return sh.expand(this, s);
};
p.narrow = function (d, s, l) {
  return sh.narrow(this, d, s, l);
};
p.indexSelect = function (d, i) {
  return indexSelect(this, d, i);
};
p.contiguous = function () {
  return sh.contiguous(this);
};
p.clone = function () {
  return sh.clone(this);
};
p.detach = function () {
  return sh.detach(this);
};
p.to = function (dtype) {
  return sh.to(this, dtype);
};
p.backward = function (grad, options) {
  backward(this, grad, options);
};
