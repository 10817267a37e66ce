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
import type { AminmaxOptions, KeepDimOptions, NormOrder, VarOptions } from './stats.js';

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Variance over `dim` (all dims when omitted), divided by N - correction (default 1). */
    var(dim?: Dims, options?: VarOptions): Tensor;
    std(dim?: Dims, options?: VarOptions): Tensor;
    /** Vector p-norm (default 2; inf, -inf, 0, any number, or 'fro') over `dim` or all elements. */
    norm(p?: NormOrder, dim?: Dims, options?: KeepDimOptions): Tensor;
    prod(dim?: number, options?: KeepDimOptions): Tensor;
    amax(dim?: Dims, keepDim?: boolean): Tensor;
    amin(dim?: Dims, keepDim?: boolean): Tensor;
    aminmax(options?: AminmaxOptions): { min: Tensor; max: Tensor };
    cumsum(dim: number): Tensor;
    cumprod(dim: number): Tensor;
    logcumsumexp(dim: number): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    /** this + weight * (end - this). */
    lerp(end: TensorLike, weight: TensorLike): Tensor;
    hypot(other: TensorLike): Tensor;
    /** atan2(this, other): the angle of the point (other, this). */
    atan2(other: TensorLike): Tensor;
    fmod(other: TensorLike): Tensor;
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
export type { AminmaxOptions, KeepDimOptions, NormOrder, VarOptions } from './stats.js';
export * from './scan.js';
export * from './binary-math.js';
