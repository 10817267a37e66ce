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
import { logSoftmax, softmax } from './softmax.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** this + other with broadcasting ({@link ew.add | ng.add}). */
    add(other: TensorLike): Tensor;
    /** this - other with broadcasting ({@link ew.sub | ng.sub}). */
    sub(other: TensorLike): Tensor;
    /** this · other with broadcasting ({@link ew.mul | ng.mul}). */
    mul(other: TensorLike): Tensor;
    /** this / other with broadcasting, true division ({@link ew.div | ng.div}). */
    div(other: TensorLike): Tensor;
    /** this ** exponent with broadcasting ({@link ew.pow | ng.pow}). */
    pow(exponent: TensorLike): Tensor;
    /** -this ({@link ew.neg | ng.neg}). */
    neg(): Tensor;
    /** e^this ({@link ew.exp | ng.exp}). */
    exp(): Tensor;
    /** Natural logarithm ({@link ew.log | ng.log}). */
    log(): Tensor;
    /** Square root ({@link ew.sqrt | ng.sqrt}). */
    sqrt(): Tensor;
    /** Absolute value ({@link ew.abs | ng.abs}). */
    abs(): Tensor;
    /** -1, 0 or 1 by sign ({@link ew.sign | ng.sign}). */
    sign(): Tensor;
    /** max(this, 0) ({@link ew.relu | ng.relu}). */
    relu(): Tensor;
    /** ReLU in place: overwrites this tensor and returns it. */
    relu_(): Tensor;
    /** Sigmoid in place: overwrites this tensor and returns it. */
    sigmoid_(): Tensor;
    /** Tanh in place: overwrites this tensor and returns it. */
    tanh_(): Tensor;
    /** 1 / (1 + e^-this) ({@link ew.sigmoid | ng.sigmoid}). */
    sigmoid(): Tensor;
    /** Hyperbolic tangent ({@link ew.tanh | ng.tanh}). */
    tanh(): Tensor;
    /** Limits values to [min, max] ({@link ew.clamp | ng.clamp}). */
    clamp(min?: TensorLike | null, max?: TensorLike | null): Tensor;
    /** Sum over `dim` (all dims when omitted) ({@link red.sum | ng.sum}). */
    sum(dim?: Dims, keepDim?: boolean): Tensor;
    /** Mean over `dim` (all dims when omitted) ({@link red.mean | ng.mean}). */
    mean(dim?: Dims, keepDim?: boolean): Tensor;
    /** Largest value along `dim`, or of all elements ({@link red.max | ng.max}). */
    max(dim?: number, keepDim?: boolean): Tensor;
    /** Smallest value along `dim`, or of all elements ({@link red.min | ng.min}). */
    min(dim?: number, keepDim?: boolean): Tensor;
    /**
     * Index of the first largest value along `dim`, or in the flattened tensor; int32 ({@link red.argmax | ng.argmax}).
     */
    argmax(dim?: number, keepDim?: boolean): Tensor;
    /**
     * Index of the first smallest value along `dim`, or in the flattened tensor; int32 ({@link red.argmin | ng.argmin}).
     */
    argmin(dim?: number, keepDim?: boolean): Tensor;
    /** log(sum(exp(this))) over `dim`, computed stably ({@link red.logsumexp | ng.logsumexp}). */
    logsumexp(dim?: Dims, keepDim?: boolean): Tensor;
    /** exp(x) / sum(exp(x)) along `dim`, as torch.Tensor.softmax ({@link softmax | ng.softmax}). */
    softmax(dim: number): Tensor;
    /** x − logsumexp(x) along `dim`, as torch.Tensor.log_softmax ({@link logSoftmax | ng.logSoftmax}). */
    logSoftmax(dim: number): Tensor;
    /** Matrix product with batching and broadcasting ({@link matmul | ng.matmul}). */
    matmul(other: Tensor): Tensor;
    /**
     * A view with a new shape when the layout allows, else a copy; one dim may be -1 ({@link sh.reshape | ng.reshape}).
     */
    reshape(shape: Shape): Tensor;
    /** A view with a new shape of a contiguous tensor; one dim may be -1 ({@link sh.view | ng.view}). */
    view(shape: Shape): Tensor;
    /** Swaps two dims (a view) ({@link sh.transpose | ng.transpose}). */
    transpose(dim0: number, dim1: number): Tensor;
    /** The transpose of a 2-D tensor (a view). */
    t(): Tensor;
    /** Reorders dims (a view) ({@link sh.permute | ng.permute}). */
    permute(dims: readonly number[]): Tensor;
    /** Flattens dims startDim..endDim into one ({@link sh.flatten | ng.flatten}). */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** Removes size-1 dims, all or only `dim` ({@link sh.squeeze | ng.squeeze}). */
    squeeze(dim?: number): Tensor;
    /** Inserts a size-1 dim at `dim` ({@link sh.unsqueeze | ng.unsqueeze}). */
    unsqueeze(dim: number): Tensor;
    /** Broadcasts size-1 dims to larger sizes without copying; -1 keeps a size ({@link sh.expand | ng.expand}). */
    expand(shape: Shape): Tensor;
    /** The slice [start, start + length) of `dim` (a view) ({@link sh.narrow | ng.narrow}). */
    narrow(dim: number, start: number, length: number): Tensor;
    /** The entries at `index` along `dim` ({@link indexSelect | ng.indexSelect}). */
    indexSelect(dim: number, index: Tensor | readonly number[]): Tensor;
    /** This tensor if dense, else a dense copy ({@link sh.contiguous | ng.contiguous}). */
    contiguous(): Tensor;
    /** A copy with its own storage, recorded for autograd ({@link sh.clone | ng.clone}). */
    clone(): Tensor;
    /** The same data cut from the graph; never requires grad ({@link sh.detach | ng.detach}). */
    detach(): Tensor;
    /** A copy converted to `dtype` (this tensor if it already has it) ({@link sh.to | ng.to}). */
    to(dtype: DType): Tensor;
    /**
     * Backpropagates from this tensor; `grad` defaults to 1 for a one-element tensor. The options
     * may come first when there is no gradient to pass: `loss.backward({ retainGraph: true })`.
     */
    backward(grad?: Tensor | BackwardOptions | null, options?: BackwardOptions): void;
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
p.softmax = function (dim) {
  return softmax(this, dim);
};
p.logSoftmax = function (dim) {
  return logSoftmax(this, dim);
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
