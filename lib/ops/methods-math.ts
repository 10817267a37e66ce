/**
 * Tensor methods of the statistics, scans and binary math (var/std/norm/prod, amax/amin, cumsum,
 * maximum, atan2, fmod, ...), attached to the prototype like lib/ops/methods.ts does for the core ops.
 */
import { Tensor } from '../tensor/tensor.js';
import * as bm from './binary-math.js';
import type { TensorLike } from './elementwise.js';
import type { Dims } from './reduce.js';
import * as sc from './scan.js';
import * as st from './stats.js';
import type { AminmaxOptions, KeepDimOptions, MinMax, NormOrder, VarOptions } from './stats.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Variance over `dim` (all dims when omitted), divided by N - correction (default 1). */
    var(dim?: Dims, options?: VarOptions): Tensor;
    /** Standard deviation over `dim`, sqrt(var) ({@link st.std | ng.std}). */
    std(dim?: Dims, options?: VarOptions): Tensor;
    /** Vector p-norm (default 2; inf, -inf, 0, any number, or 'fro') over `dim` or all elements. */
    norm(p?: NormOrder, dim?: Dims, options?: KeepDimOptions): Tensor;
    /** Product over `dim` (all elements when omitted) ({@link st.prod | ng.prod}). */
    prod(dim?: number, options?: KeepDimOptions): Tensor;
    /** Max over `dim` (all when omitted) ({@link st.amax | ng.amax}). */
    amax(dim?: Dims, keepDim?: boolean): Tensor;
    /** Min over `dim` (all when omitted) ({@link st.amin | ng.amin}). */
    amin(dim?: Dims, keepDim?: boolean): Tensor;
    /** Min and max in one call ({@link st.aminmax | ng.aminmax}). */
    aminmax(options?: AminmaxOptions): MinMax;
    /** Running sums along `dim` ({@link sc.cumsum | ng.cumsum}). */
    cumsum(dim: number): Tensor;
    /** Running products along `dim` ({@link sc.cumprod | ng.cumprod}). */
    cumprod(dim: number): Tensor;
    /** log(cumsum(exp(this))) along `dim`, computed stably ({@link sc.logcumsumexp | ng.logcumsumexp}). */
    logcumsumexp(dim: number): Tensor;
    /** Elementwise max with broadcasting ({@link bm.maximum | ng.maximum}). */
    maximum(other: TensorLike): Tensor;
    /** Elementwise min with broadcasting ({@link bm.minimum | ng.minimum}). */
    minimum(other: TensorLike): Tensor;
    /** this + weight * (end - this). */
    lerp(end: TensorLike, weight: TensorLike): Tensor;
    /** sqrt(this² + other²) without overflow ({@link bm.hypot | ng.hypot}). */
    hypot(other: TensorLike): Tensor;
    /** atan2(this, other): the angle of the point (other, this). */
    atan2(other: TensorLike): Tensor;
    /** this mod other with the sign of this ({@link bm.fmod | ng.fmod}). */
    fmod(other: TensorLike): Tensor;
    /** this mod other with the sign of other ({@link bm.remainder | ng.remainder}). */
    remainder(other: TensorLike): Tensor;
  }
}

const p = Tensor.prototype;
p.var = function (d, o) {
  return st.variance(this, d, o);
};
p.std = function (d, o) {
  return st.std(this, d, o);
};
p.norm = function (order, d, o) {
  return st.norm(this, order, d, o);
};
p.prod = function (d, o) {
  return st.prod(this, d, o);
};
p.amax = function (d, k) {
  return st.amax(this, d, k);
};
p.amin = function (d, k) {
  return st.amin(this, d, k);
};
p.aminmax = function (o) {
  return st.aminmax(this, o);
};
p.cumsum = function (d) {
  return sc.cumsum(this, d);
};
p.cumprod = function (d) {
  return sc.cumprod(this, d);
};
p.logcumsumexp = function (d) {
  return sc.logcumsumexp(this, d);
};
p.maximum = function (o) {
  return bm.maximum(this, o);
};
p.minimum = function (o) {
  return bm.minimum(this, o);
};
p.lerp = function (e, w) {
  return bm.lerp(this, e, w);
};
p.hypot = function (o) {
  return bm.hypot(this, o);
};
p.atan2 = function (o) {
  return bm.atan2(this, o);
};
p.fmod = function (o) {
  return bm.fmod(this, o);
};
p.remainder = function (o) {
  return bm.remainder(this, o);
};

export { variance as var, variance, std, norm, prod, amax, amin, aminmax } from './stats.js';
export type { AminmaxOptions, KeepDimOptions, MinMax, NormOrder, VarOptions } from './stats.js';
export * from './scan.js';
export * from './binary-math.js';
