/**
 * Statistics over dims: var/std, vector norms, prod, amax/amin/aminmax. var/std compose mean, sub,
 * mul and sum for the value and write PyTorch's backward, whose edge cases (N <= correction, a zero
 * std) a composition would not reproduce; norm, prod and amax/amin are loops over dense data, each
 * element finding its output through reductionSlots, with PyTorch's rules for zeros, ties and NaN.
 */
import { record } from '../autograd/node.js';
import { noGrad } from '../autograd/grad-mode.js';
import type { DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { normalizeDim } from '../tensor/shape.js';
import { uninitTensor, zerosTensor, Tensor } from '../tensor/tensor.js';
import { mul, sqrt, sub } from './elementwise.js';
import { finalShape, keptShape, reduceInt32, reductionSlots } from './reduce-dense.js';
import { mean, reducedDims, sum, type Dims } from './reduce.js';
import { denseCopy, expand, reshape, to } from './shape.js';

/** The keepDim option of reductions. */
export interface KeepDimOptions {
  /** Keep each reduced dim with size 1. Default false. */
  keepDim?: boolean;
}

/** Options of {@link variance} and {@link std}. */
export interface VarOptions extends KeepDimOptions {
  /** Subtracted from the element count in the divisor: 1 (default) is Bessel's correction. */
  correction?: number;
}

function floatInput(x: Tensor): Tensor {
  return x.dtype === 'int32' ? to(x, 'float32') : x;
}

function values(t: Tensor): ArrayLike<number> {
  const data = denseCopy(t).storage.data;
  assertReadable('a statistic computed in TypeScript', data);
  return data;
}

function checkCorrection(op: string, correction: number): void {
  if (typeof correction !== 'number' || !Number.isFinite(correction)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: correction must be a finite number, got ${String(correction)}`,
    );
  }
}

/**
 * The variance (no graph) and its backward, which maps a gradient of the kept-dims shape to
 * 2 (x - mean) / (N - correction) times it. As in PyTorch, the forward divides by max(0, N - correction)
 * but the backward by N - correction itself.
 */
function variancePieces(
  op: string,
  x: Tensor,
  dim: Dims | undefined,
  options: VarOptions,
): { input: Tensor; out: Tensor; backward: (g: Tensor) => Tensor } {
  const { correction = 1, keepDim = false } = options;
  checkCorrection(op, correction);
  const dims = reducedDims(op, x, dim);
  const input = floatInput(x);
  const count = dims.reduce((p, d) => p * x.shape[d], 1);
  const out = noGrad(() => {
    const centered = sub(input, mean(input, dims, true));
    return mul(sum(mul(centered, centered), dims, keepDim), 1 / Math.max(0, count - correction));
  });
  const backward = (g: Tensor): Tensor => {
    const centered = sub(input, mean(input, dims, true));
    return mul(expand(reshape(g, keptShape(x.shape, dims)), x.shape), mul(centered, 2 / (count - correction)));
  };
  return { input, out, backward };
}

/** Variance over `dim` (all dims when omitted): sum((x - mean)^2) / max(0, N - correction). */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  const { input, out, backward } = variancePieces('var', x, dim, options);
  return record('var', out, [input], (g) => [backward(g)], [input]);
}

/**
 * Standard deviation: sqrt(var). As in PyTorch the gradient is 0 (not NaN) where the result is 0,
 * so a constant slice contributes nothing.
 */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  const { input, out: v, backward } = variancePieces('std', x, dim, options);
  const out = noGrad(() => sqrt(v));
  return record(
    'std',
    out,
    [input],
    (g) => {
      const o = values(out);
      const gv = values(g);
      const half = zerosTensor(out.shape, g.dtype);
      half.storage.data.forEach((_, i, a) => {
        a[i] = o[i] === 0 ? 0 : gv[i] / (2 * o[i]);
      });
      return [backward(half)];
    },
    [input, out],
  );
}

/** Which vector norm: a number p (inf, -inf, 0 and any other) or 'fro' (the 2-norm). */
export type NormOrder = number | 'fro';

function normOrder(p: NormOrder, dim: Dims | undefined): number {
  if (p === 'fro') {
    if (Array.isArray(dim) && dim.length > 2) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `norm: p 'fro' takes at most 2 dims, got dim [${dim.join(', ')}]`,
      );
    }
    return 2;
  }
  if (typeof p !== 'number' || Number.isNaN(p)) {
    const given: unknown = p;
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `norm: p must be a number (inf, -inf, 0 or any other) or 'fro', got ${typeof given === 'string' ? `'${given}'` : String(given)}`,
    );
  }
  return p;
}

const sgn = (v: number): number => (v > 0 ? 1 : v < 0 ? -1 : 0);

/** One vector norm per slot, accumulated in float64. */
function normForward(xs: ArrayLike<number>, slots: Int32Array, size: number, p: number): Float64Array {
  const acc = new Float64Array(size).fill(p === -Infinity ? Infinity : 0);
  for (let i = 0; i < xs.length; i++) {
    const a = Math.abs(xs[i]);
    const s = slots[i];
    if (p === Infinity) acc[s] = a !== a || acc[s] !== acc[s] ? NaN : Math.max(acc[s], a);
    else if (p === -Infinity) acc[s] = a !== a || acc[s] !== acc[s] ? NaN : Math.min(acc[s], a);
    else if (p === 0) acc[s] += xs[i] !== 0 ? 1 : 0;
    else if (p === 1) acc[s] += a;
    else if (p === 2) acc[s] += a * a;
    else acc[s] += a ** p;
  }
  if (p === 2)
    acc.forEach((v, s) => {
      acc[s] = Math.sqrt(v);
    });
  else if (p !== 0 && p !== 1 && Number.isFinite(p))
    acc.forEach((v, s) => {
      acc[s] = v ** (1 / p);
    });
  return acc;
}

/** PyTorch's norm_backward: the local derivative of the norm times the incoming gradient. */
function normBackward(
  xs: ArrayLike<number>,
  slots: Int32Array,
  norms: ArrayLike<number>,
  gv: ArrayLike<number>,
  p: number,
  out: Tensor,
): void {
  const grad = out.storage.data;
  const ties = new Float64Array(norms.length);
  if (!Number.isFinite(p)) {
    for (let i = 0; i < xs.length; i++) if (Math.abs(xs[i]) === norms[slots[i]] || xs[i] !== xs[i]) ties[slots[i]]++;
  }
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const s = slots[i];
    const n = norms[s];
    const g = gv[s];
    const a = Math.abs(x);
    if (p === 0) grad[i] = 0;
    else if (p === 1) grad[i] = sgn(x) * g;
    else if (p === 2) grad[i] = g * (n === 0 ? 0 : x / n);
    else if (!Number.isFinite(p)) grad[i] = sgn(x) * ((g / ties[s]) * (a === n || x !== x ? 1 : 0));
    else if (p < 1) grad[i] = (x === 0 ? 0 : sgn(x) * a ** (p - 1)) * g * n ** (1 - p);
    else {
      const scaled = p < 2 ? sgn(x) * a ** (p - 1) : x * a ** (p - 2);
      grad[i] = scaled * (n === 0 ? 0 : g / n ** (p - 1));
    }
  }
}

/**
 * The vector p-norm over `dim` (all elements when omitted), as torch.norm / linalg.vector_norm:
 * p = inf is max |x|, -inf min |x|, 0 the count of non-zeros, else (sum |x|^p)^(1/p).
 */
export function norm(x: Tensor, p: NormOrder = 2, dim?: Dims, options: KeepDimOptions = {}): Tensor {
  const { keepDim = false } = options;
  const dims = reducedDims('norm', x, dim);
  const order = normOrder(p, dim);
  const input = floatInput(x);
  if (!Number.isFinite(order) && dims.some((d) => x.shape[d] === 0)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `norm: the ${order}-norm of an empty reduction (shape ${formatShape(x.shape)}) is undefined; expected non-empty dims`,
    );
  }
  const xs = values(input);
  const slots = reductionSlots(x.shape, dims);
  const out = uninitTensor(finalShape(x.shape, dims, keepDim), input.dtype);
  const norms = normForward(xs, slots, out.numel, order);
  out.storage.data.set(norms);
  return record(
    'norm',
    out,
    [input],
    (g) => {
      const grad = uninitTensor(x.shape, g.dtype);
      normBackward(xs, slots, values(out), values(g), order, grad);
      return [grad];
    },
    [input, out],
  );
}

/** Product over `dim` (all elements when omitted); int32 stays int32. */
export function prod(x: Tensor, dim?: number, options: KeepDimOptions = {}): Tensor {
  const { keepDim = false } = options;
  if (dim !== undefined) normalizeDim('prod', dim, x.ndim);
  const dims = reducedDims('prod', x, dim);
  if (x.dtype === 'int32') return reduceInt32('prod', x, dims, keepDim);
  const xs = values(x);
  const slots = reductionSlots(x.shape, dims);
  const out = uninitTensor(finalShape(x.shape, dims, keepDim), x.dtype);
  const acc = new Float64Array(out.numel).fill(1);
  for (let i = 0; i < xs.length; i++) acc[slots[i]] *= xs[i];
  out.storage.data.set(acc);
  return record(
    'prod',
    out,
    [x],
    (g) => {
      const gv = values(g);
      const ps = values(out);
      const grad = uninitTensor(x.shape, g.dtype);
      const target = grad.storage.data;
      let zeros = false;
      for (let i = 0; i < xs.length; i++) if (xs[i] === 0) zeros = true;
      if (!zeros) {
        for (let i = 0; i < xs.length; i++) target[i] = gv[slots[i]] * (ps[slots[i]] / xs[i]);
        return [grad];
      }
      // With a zero, the product of the other elements: exclusive prefix times exclusive suffix.
      const running = new Float64Array(out.numel).fill(1);
      for (let i = 0; i < xs.length; i++) {
        target[i] = running[slots[i]];
        running[slots[i]] *= xs[i];
      }
      running.fill(1);
      for (let i = xs.length - 1; i >= 0; i--) {
        target[i] *= running[slots[i]] * gv[slots[i]];
        running[slots[i]] *= xs[i];
      }
      return [grad];
    },
    [x, out],
  );
}

function checkNotEmpty(op: string, x: Tensor, dims: readonly number[], all: boolean): void {
  if (all && x.numel === 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: cannot reduce an empty tensor of shape ${formatShape(x.shape)} over all elements; pass a dim of non-zero size`,
    );
  }
  const empty = dims.find((d) => x.shape[d] === 0);
  if (empty !== undefined) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: cannot reduce dim ${empty} of size 0 (shape ${formatShape(x.shape)}); expected a dim of non-zero size`,
    );
  }
}

/**
 * The max (or min) over `dim` (all dims when omitted or []). The gradient is split evenly among
 * the elements equal to the result, as PyTorch's amax; a NaN result gives NaN gradients.
 */
function extreme(op: 'amax' | 'amin', x: Tensor, dim: Dims | undefined, keepDim: boolean, name: string = op): Tensor {
  const all = dim === undefined || (Array.isArray(dim) && dim.length === 0);
  const dims = reducedDims(name, x, all ? undefined : dim);
  checkNotEmpty(name, x, dims, all);
  const better = op === 'amax' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  const xs = values(x);
  const slots = reductionSlots(x.shape, dims);
  const out = uninitTensor(finalShape(x.shape, dims, keepDim), x.dtype);
  const best = out.storage.data;
  const seen = new Uint8Array(out.numel);
  for (let i = 0; i < xs.length; i++) {
    const s = slots[i];
    const v = xs[i];
    // NaN wins and stays, as in PyTorch.
    if (!seen[s]) {
      best[s] = v;
      seen[s] = 1;
    } else if (best[s] === best[s] && (v !== v || better(v, best[s]))) {
      best[s] = v;
    }
  }
  if (x.dtype === 'int32') return out;
  return record(op, out, [x], (g) => [evenSplit(xs, slots, values(out), values(g), x.shape, g.dtype)], [x, out]);
}

function evenSplit(
  xs: ArrayLike<number>,
  slots: Int32Array,
  result: ArrayLike<number>,
  gv: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  const count = new Float64Array(result.length);
  for (let i = 0; i < xs.length; i++) if (xs[i] === result[slots[i]]) count[slots[i]]++;
  const grad = uninitTensor(shape, dtype);
  const target = grad.storage.data;
  // (g / count) * mask, as PyTorch: a slot whose result is NaN has count 0 and gets NaN.
  for (let i = 0; i < xs.length; i++)
    target[i] = (gv[slots[i]] / count[slots[i]]) * (xs[i] === result[slots[i]] ? 1 : 0);
  return grad;
}

/**
 * Max over `dim` (all dims when omitted or []), as torch.amax; NaN propagates. The gradient is
 * split evenly among the elements equal to the result.
 */
export function amax(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return extreme('amax', x, dim, keepDim);
}

/** Min over `dim` (all dims when omitted or []), as torch.amin; the gradient rules of {@link amax}. */
export function amin(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return extreme('amin', x, dim, keepDim);
}

/** Options of {@link aminmax}. */
export interface AminmaxOptions extends KeepDimOptions {
  /** The one dim to reduce; all elements when omitted. */
  dim?: number;
}

/** The result of {@link aminmax}. */
export interface MinMax {
  /** The minima ({@link amin}). */
  min: Tensor;
  /** The maxima ({@link amax}). */
  max: Tensor;
}

/** amin and amax in one call, as torch.aminmax. */
export function aminmax(x: Tensor, options: AminmaxOptions = {}): MinMax {
  const { dim, keepDim = false } = options;
  if (dim !== undefined) normalizeDim('aminmax', dim, x.ndim);
  return { min: extreme('amin', x, dim, keepDim, 'aminmax'), max: extreme('amax', x, dim, keepDim, 'aminmax') };
}
