/** Tensor methods for in-place math and sampling: `p.add_(g, { alpha: -lr })`, `x.normal_()`. */
import { Tensor } from '../tensor/tensor.js';
import { bernoulli, multinomial, type MultinomialOptions } from '../tensor/sampling.js';
import type { TensorLike } from './elementwise.js';
import * as ip from './inplace-math.js';
import type { AlphaOptions } from './inplace-math.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    add_(other: TensorLike, options?: AlphaOptions): Tensor;
    sub_(other: TensorLike, options?: AlphaOptions): Tensor;
    mul_(other: TensorLike): Tensor;
    div_(other: TensorLike): Tensor;
    pow_(exponent: TensorLike): Tensor;
    clamp_(min?: number | null, max?: number | null): Tensor;
    exp_(): Tensor;
    log_(): Tensor;
    sqrt_(): Tensor;
    abs_(): Tensor;
    neg_(): Tensor;
    copy_(src: Tensor): Tensor;
    fill_(value: number | Tensor): Tensor;
    zero_(): Tensor;
    normal_(mean?: number, std?: number): Tensor;
    uniform_(from?: number, to?: number): Tensor;
    bernoulli_(p?: number | Tensor): Tensor;
    /** 0/1 samples with this tensor's values as probabilities. */
    bernoulli(): Tensor;
    multinomial(n: number, options?: MultinomialOptions): Tensor;
  }
}

const p = Tensor.prototype;
p.add_ = function (o, options) {
  return ip.add_(this, o, options);
};
p.sub_ = function (o, options) {
  return ip.sub_(this, o, options);
};
p.mul_ = function (o) {
  return ip.mul_(this, o);
};
p.div_ = function (o) {
  return ip.div_(this, o);
};
p.pow_ = function (e) {
  return ip.pow_(this, e);
};
p.clamp_ = function (lo, hi) {
  return ip.clamp_(this, lo, hi);
};
p.exp_ = function () {
  return ip.exp_(this);
};
p.log_ = function () {
  return ip.log_(this);
};
p.sqrt_ = function () {
  return ip.sqrt_(this);
};
p.abs_ = function () {
  return ip.abs_(this);
};
p.neg_ = function () {
  return ip.neg_(this);
};
p.copy_ = function (src) {
  return ip.copy_(this, src);
};
p.fill_ = function (v) {
  return ip.fill_(this, v);
};
p.zero_ = function () {
  return ip.zero_(this);
};
p.normal_ = function (mean, std) {
  return ip.normal_(this, mean, std);
};
p.uniform_ = function (from, to) {
  return ip.uniform_(this, from, to);
};
p.bernoulli_ = function (prob) {
  return ip.bernoulli_(this, prob);
};
p.bernoulli = function () {
  return bernoulli(this);
};
p.multinomial = function (n, options) {
  return multinomial(this, n, options);
};
