/** Tensor methods for in-place math and sampling: `p.add_(g, { alpha: -lr })`, `x.normal_()`. */
import { Tensor } from '../tensor/tensor.js';
import { bernoulli, multinomial, type MultinomialOptions } from '../tensor/sampling.js';
import type { TensorLike } from './elementwise.js';
import * as ip from './inplace-math.js';
import type { AlphaOptions } from './inplace-math.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** `this += alpha · other` ({@link ip.add_ | ng.add_}); returns this. */
    add_(other: TensorLike, options?: AlphaOptions): Tensor;
    /** `this -= alpha · other` ({@link ip.sub_ | ng.sub_}); returns this. */
    sub_(other: TensorLike, options?: AlphaOptions): Tensor;
    /** `this *= other` ({@link ip.mul_ | ng.mul_}); returns this. */
    mul_(other: TensorLike): Tensor;
    /** `this /= other` ({@link ip.div_ | ng.div_}); returns this. */
    div_(other: TensorLike): Tensor;
    /** `this = this ** exponent` ({@link ip.pow_ | ng.pow_}); returns this. */
    pow_(exponent: TensorLike): Tensor;
    /** Limits this to [min, max] in place ({@link ip.clamp_ | ng.clamp_}); returns this. */
    clamp_(min?: number | null, max?: number | null): Tensor;
    /** e^x in place; returns this. */
    exp_(): Tensor;
    /** Natural logarithm in place; returns this. */
    log_(): Tensor;
    /** Square root in place; returns this. */
    sqrt_(): Tensor;
    /** Absolute value in place; returns this. */
    abs_(): Tensor;
    /** Negation in place; returns this. */
    neg_(): Tensor;
    /** Copies src (broadcast, converted to this dtype) into this ({@link ip.copy_ | ng.copy_}); returns this. */
    copy_(src: Tensor): Tensor;
    /** Sets every element to value ({@link ip.fill_ | ng.fill_}); returns this. */
    fill_(value: number | Tensor): Tensor;
    /** Sets every element to 0; returns this. */
    zero_(): Tensor;
    /** Fills with samples of N(mean, std²) (defaults 0 and 1) ({@link ip.normal_ | ng.normal_}); returns this. */
    normal_(mean?: number, std?: number): Tensor;
    /** Fills with samples of U(from, to) (defaults 0 and 1) ({@link ip.uniform_ | ng.uniform_}); returns this. */
    uniform_(from?: number, to?: number): Tensor;
    /** Sets each element to 1 with probability p (default 0.5), else 0 ({@link ip.bernoulli_ | ng.bernoulli_}); returns this. */
    bernoulli_(p?: number | Tensor): Tensor;
    /** 0/1 samples with this tensor's values as probabilities. */
    bernoulli(): Tensor;
    /** n category indices per row drawn by this tensor's weights ({@link multinomial}). */
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
