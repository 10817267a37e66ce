/**
 * Reductions over one dim, several dims or all: sum, mean, max, min, argmax, logsumexp. The
 * kernel reduces the middle axis of a dense [outer, n, inner] view; several dims reduce one at a
 * time. Backward broadcasts the gradient back (a stride-0 view, no copy).
 */
import { getBackend } from '../backend/index.js';
import { ReduceOp, type FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { checkDimNotObject, normalizeDim, numelOf, sameShape, type Shape } from '../tensor/shape.js';
import { zerosTensor, uninitTensor, Tensor } from '../tensor/tensor.js';
import { full } from '../tensor/creation.js';
import { exp, mul, sub } from './elementwise.js';
import { denseCopy, expand, reshape, to } from './shape.js';
import { reduceInt32 } from './reduce-dense.js';

/** One dim or a list of dims to reduce; negative dims count from the end. */
export type Dims = number | readonly number[];

/** The dims `dim` names, normalized and sorted (all dims when omitted); throws on a repeated dim. */
export function reducedDims(op: string, x: Tensor, dim: Dims | undefined): number[] {
  if (dim === undefined) return x.shape.map((_, d) => d);
  checkDimNotObject(op, dim, (args) => `x.${op}(${args})`);
  const list = typeof dim === 'number' ? [dim] : [...dim];
  const dims = list.map((d) => normalizeDim(op, d, x.ndim));
  if (new Set(dims).size !== dims.length) {
    throw new NodegradError('ERR_NODEGRAD_DIM', `${op}: dim [${list.join(', ')}] names a dim twice`);
  }
  return x.ndim === 0 ? [] : dims.sort((a, b) => a - b);
}

function keptShape(shape: Shape, dims: readonly number[]): number[] {
  return shape.map((s, d) => (dims.includes(d) ? 1 : s));
}

function finalShape(shape: Shape, dims: readonly number[], keepDim: boolean): number[] {
  return keepDim ? keptShape(shape, dims) : shape.filter((_, d) => !dims.includes(d));
}

function floatDense(x: Tensor): Tensor {
  const f = x.dtype === 'int32' ? denseCopy(x, 'float32') : x;
  return f.isContiguous() && f.offset === 0 ? f : denseCopy(f);
}

function splitAt(shape: Shape, d: number): [number, number, number] {
  return [numelOf(shape.slice(0, d)), shape[d], numelOf(shape.slice(d + 1))];
}

/**
 * Applies a value-only reduction (Sum, LogSumExp) over `dims`, one dim at a time, keeping dims.
 * Always returns a new tensor, so the reduction's node never has its own output as input. An
 * empty dim reduces to the identity of the reduction: 0 for a sum, -inf for logsumexp.
 */
function reduceKeep(kernel: ReduceOp, x: Tensor, dims: readonly number[]): Tensor {
  let current = floatDense(x);
  for (const d of dims) {
    const [outer, n, inner] = splitAt(current.shape, d);
    const shape = [...current.shape];
    shape[d] = 1;
    const out =
      n === 0 && kernel === ReduceOp.LogSumExp
        ? full(shape, -Infinity, { dtype: current.dtype })
        : zerosTensor(shape, current.dtype);
    if (n > 0 && out.numel > 0) {
      getBackend().reduce(kernel, current.storage.data, outer, n, inner, out.storage.data, null);
    }
    current = out;
  }
  return current === x ? denseCopy(x) : current;
}

/**
 * Sum over `dim` (a dim, a list, or all when omitted). int32 sums stay int32; bool counts its true
 * elements into int32.
 */
export function sum(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  if (x.dtype === 'bool') return to(sum(to(x, 'float64'), dim, keepDim), 'int32');
  const dims = reducedDims('sum', x, dim);
  if (x.dtype === 'int32') return reduceInt32('sum', x, dims, keepDim);
  const out = reshape(reduceKeep(ReduceOp.Sum, x, dims), finalShape(x.shape, dims, keepDim));
  return record('sum', out, [x], (g) => [expand(reshape(g, keptShape(x.shape, dims)), x.shape)]);
}

/** Mean over `dim` (all dims when omitted), as torch.mean; int32 input gives float32, an empty reduction NaN. */
export function mean(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  const dims = reducedDims('mean', x, dim);
  // An empty reduction divides 0 by 0: NaN, as in PyTorch.
  const count = dims.reduce((p, d) => p * x.shape[d], 1);
  return mul(sum(x.dtype === 'int32' ? to(x, 'float32') : x, dim, keepDim), 1 / count);
}

/** log(sum(exp(x))) computed with the max subtracted, so large inputs never overflow. */
export function logsumexp(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  const dims = reducedDims('logsumexp', x, dim);
  const input = x.dtype === 'int32' ? to(x, 'float32') : x;
  const kept = reduceKeep(ReduceOp.LogSumExp, input, dims);
  const out = reshape(kept, finalShape(x.shape, dims, keepDim));
  // d/dx = softmax(x) = exp(x - logsumexp).
  return record(
    'logsumexp',
    out,
    [input],
    (g) => [mul(expand(reshape(g, kept.shape), x.shape), exp(sub(input, kept)))],
    [input, kept],
  );
}

/** Values and first-occurrence indices of the max/min along one dim (or over all elements). */
function extremum(
  op: 'max' | 'min',
  x: Tensor,
  dim: number | undefined,
  keepDim: boolean,
  name: string = op,
): { values: Tensor; indices: Tensor } {
  // int32 stays int32: comparing in float32 would merge integers above 2^24.
  const dense = x.dtype === 'int32' ? (x.isContiguous() && x.offset === 0 ? x : denseCopy(x)) : floatDense(x);
  const kernel = op === 'max' ? ReduceOp.Max : ReduceOp.Min;
  const d = dim === undefined ? undefined : normalizeDim(name, dim, x.ndim);
  // PyTorch refuses these: an empty dim has no extremum (a non-empty dim of an empty tensor is fine).
  if (d === undefined && x.numel === 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${name}: cannot reduce an empty tensor of shape ${formatShape(x.shape)} over all elements; pass a dim of non-zero size`,
    );
  }
  if (d !== undefined && x.ndim > 0 && x.shape[d] === 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${name}: cannot reduce dim ${d} of size 0 (shape ${formatShape(x.shape)}); expected a dim of non-zero size`,
    );
  }
  const [outer, n, inner] = d === undefined || x.ndim === 0 ? [1, x.numel, 1] : splitAt(x.shape, d);
  const shape = d === undefined || x.ndim === 0 ? [] : finalShape(x.shape, [d], keepDim);
  const values = uninitTensor(shape, dense.dtype);
  const indices = uninitTensor(shape, 'int32');
  if (values.numel > 0) {
    getBackend().reduce(
      kernel,
      dense.storage.data,
      outer,
      n,
      inner,
      values.storage.data,
      indices.storage.data as Int32Array,
    );
  }
  const input = x.dtype === 'int32' ? to(x, 'float32') : x;
  if (shape.length === 0 && dim === undefined) {
    return {
      values: record(op, values, [input], (g) => [evenlyDistributed(g, dense, values)], [dense, values]),
      indices,
    };
  }
  const out = record(
    op,
    values,
    [input],
    (g) => {
      // Routes each gradient element to the position that won; O(output) work, done here in TS.
      const grad = zerosTensor(x.shape, g.dtype);
      const gd = denseCopy(g).storage.data;
      const target = grad.storage.data;
      const idx = indices.storage.data;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) target[(o * n + idx[o * inner + i]) * inner + i] = gd[o * inner + i];
      }
      return [grad];
    },
    [indices],
  );
  return { values: out, indices };
}

/**
 * The gradient of a max/min over all elements, as PyTorch splits it: equally among every element
 * equal to the result, or among every NaN when the result is NaN.
 */
function evenlyDistributed(g: Tensor, dense: Tensor, value: Tensor): Tensor {
  const data = (dense.storage.data as FloatArray).subarray(0, dense.numel);
  const v = (value.storage.data as FloatArray)[0];
  const hit = Number.isNaN(v) ? (e: number) => Number.isNaN(e) : (e: number) => e === v;
  let count = 0;
  for (const e of data) if (hit(e)) count++;
  const share = (denseCopy(g).storage.data as FloatArray)[0] / count;
  const grad = zerosTensor(dense.shape, g.dtype);
  const target = grad.storage.data;
  data.forEach((e, i) => {
    if (hit(e)) target[i] = share;
  });
  return grad;
}

/**
 * The largest value along `dim` (or of all elements); the gradient flows to the first max along
 * `dim`, and is split equally among all maxima when reducing every element.
 */
export function max(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (x.dtype === 'bool') return to(max(to(x, 'int32'), dim, keepDim), 'bool');
  return extremum('max', x, dim, keepDim).values;
}

/**
 * The smallest value along `dim` (or of all elements), as torch.min / torch.amin; the gradient rules of {@link max}.
 */
export function min(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (x.dtype === 'bool') return to(min(to(x, 'int32'), dim, keepDim), 'bool');
  return extremum('min', x, dim, keepDim).values;
}

/** Index of the first largest value along `dim`, or in the flattened tensor; int32, no gradient. */
export function argmax(x: Tensor, dim?: number, keepDim = false): Tensor {
  return extremum('max', x, dim, keepDim, 'argmax').indices;
}

/** Index of the first smallest value along `dim`, or in the flattened tensor; int32, no gradient. */
export function argmin(x: Tensor, dim?: number, keepDim = false): Tensor {
  return extremum('min', x, dim, keepDim, 'argmin').indices;
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  }
  return reshape(sum(g, dims, true), shape);
}
