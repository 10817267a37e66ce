/**
 * Comparisons, logical ops and tests of values, all producing bool tensors (one byte per element),
 * and the reductions any/all over them. Inputs broadcast as in PyTorch and are compared after type
 * promotion, so a float32 tensor equals the number 0.1 rounded to float32, as in PyTorch.
 * Nothing here is differentiable: a bool output carries no gradient.
 */
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, numelOf, type Shape } from '../tensor/shape.js';
import { fromArray, uninitTensor, Tensor } from '../tensor/tensor.js';
import { sum, type Dims } from './reduce.js';

/** A tensor, or a number or boolean that broadcasts as a 0-d tensor. */
export type ScalarOrTensor = Tensor | number | boolean;

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's result type of two tensors: the wider of bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

function scalarDtype(v: number | boolean): DType {
  return typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int32' : 'float32';
}

/**
 * The dtype two operands compute in: two tensors promote fully; a plain value only raises a
 * tensor's dtype to its own kind (bool -> int32 -> float32), as PyTorch's scalars do.
 */
export function resultType(a: ScalarOrTensor, b: ScalarOrTensor): DType {
  if (a instanceof Tensor && b instanceof Tensor) return promoteTypes(a.dtype, b.dtype);
  if (a instanceof Tensor || b instanceof Tensor) {
    const t = (a instanceof Tensor ? a : b) as Tensor;
    const s = scalarDtype((a instanceof Tensor ? b : a) as number | boolean);
    const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';
    if (isFloat(t.dtype) || RANK[s] <= RANK[t.dtype]) return t.dtype;
    return isFloat(s) ? 'float32' : s;
  }
  // Two plain numbers: JS cannot tell 1.0 from 1, so they take the default dtype, as ng.full does.
  return typeof a === 'boolean' && typeof b === 'boolean' ? 'bool' : 'float32';
}

/**
 * Rounds a value as computing in `dtype` would: float32 compares its own rounding of 0.1. Integer
 * and bool values are already exact, and an integer scalar past int32 is compared exactly, as
 * PyTorch's int64 would.
 */
function roundTo(dtype: DType): (v: number) => number {
  return dtype === 'float32' ? Math.fround : (v) => v;
}

/** A tensor's elements (or a plain value) read at each position of the broadcast `shape`. */
export interface Operand {
  data: DataArray | readonly number[];
  /** Element offsets into data, one per output element in row-major order. */
  at: Float64Array;
}

/** Storage offsets of every element of a view of `shape` broadcast to `target`, row-major. */
function offsetsOf(t: Tensor, target: Shape): Float64Array {
  const strides = broadcastStrides(t.shape, t.strides, target);
  const n = numelOf(target);
  const out = new Float64Array(n);
  const counter = new Array<number>(target.length).fill(0);
  let position = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = position;
    for (let d = target.length - 1; d >= 0; d--) {
      counter[d]++;
      position += strides[d];
      if (counter[d] < target[d]) break;
      position -= strides[d] * target[d];
      counter[d] = 0;
    }
  }
  return out;
}

export function operand(x: ScalarOrTensor, target: Shape): Operand {
  if (x instanceof Tensor) return { data: x.storage.data, at: offsetsOf(x, target) };
  return { data: [Number(x)], at: new Float64Array(numelOf(target)) };
}

/** The broadcast shape of the tensors among `values` (plain values are 0-d). */
export function broadcastAll(op: string, values: readonly ScalarOrTensor[]): number[] {
  return values.reduce<number[]>((shape, v) => (v instanceof Tensor ? broadcastShapes(op, shape, v.shape) : shape), []);
}

/** A bool tensor with out[i] = test(a_i, b_i) over the broadcast of a and b, after promotion. */
function compareWith(op: string, a: ScalarOrTensor, b: ScalarOrTensor, test: (x: number, y: number) => boolean): Tensor {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: expected at least one Tensor operand, got two plain values`);
  }
  const round = roundTo(resultType(a, b));
  const shape = broadcastAll(op, [a, b]);
  const [x, y] = [operand(a, shape), operand(b, shape)];
  const out = uninitTensor(shape, 'bool');
  const data = out.storage.data;
  for (let i = 0; i < data.length; i++) data[i] = test(round(x.data[x.at[i]]), round(y.data[y.at[i]])) ? 1 : 0;
  return out;
}

/** a == b element-wise (NaN equals nothing). */
export function eq(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('eq', a, b, (x, y) => x === y);
}

/** a != b element-wise (NaN != NaN is true). */
export function ne(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('ne', a, b, (x, y) => x !== y);
}

export function lt(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('lt', a, b, (x, y) => x < y);
}

export function le(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('le', a, b, (x, y) => x <= y);
}

export function gt(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('gt', a, b, (x, y) => x > y);
}

export function ge(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('ge', a, b, (x, y) => x >= y);
}

/** True when a and b have the same shape and equal elements (after promotion; NaN is never equal). */
export function equal(a: Tensor, b: Tensor): boolean {
  if (a.ndim !== b.ndim || a.shape.some((s, d) => s !== b.shape[d])) return false;
  return !any(ne(a, b)).item();
}

/** Truth of each element: non-zero is true (NaN included), as in PyTorch's logical ops. */
function truthOf(op: string, a: ScalarOrTensor, b: ScalarOrTensor, test: (x: boolean, y: boolean) => boolean): Tensor {
  return compareWith(op, a, b, (x, y) => test(x !== 0, y !== 0));
}

export function logicalAnd(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return truthOf('logicalAnd', a, b, (x, y) => x && y);
}

export function logicalOr(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return truthOf('logicalOr', a, b, (x, y) => x || y);
}

export function logicalXor(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return truthOf('logicalXor', a, b, (x, y) => x !== y);
}

/** A bool tensor with out[i] = test(x_i). */
function testEach(x: Tensor, test: (v: number) => boolean): Tensor {
  const values = operand(x, x.shape);
  const out = uninitTensor(x.shape, 'bool');
  const data = out.storage.data;
  for (let i = 0; i < data.length; i++) data[i] = test(values.data[values.at[i]]) ? 1 : 0;
  return out;
}

export function logicalNot(x: Tensor): Tensor {
  return testEach(x, (v) => v === 0);
}

export function isnan(x: Tensor): Tensor {
  return testEach(x, Number.isNaN);
}

export function isfinite(x: Tensor): Tensor {
  return testEach(x, Number.isFinite);
}

/** True at +inf and -inf. */
export function isinf(x: Tensor): Tensor {
  return testEach(x, (v) => v === Infinity || v === -Infinity);
}

/** True where any element over `dim` (all dims when omitted) is non-zero; an empty reduction is false. */
export function any(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return gt(sum(ne(x, 0), dim, keepDim), 0);
}

/** True where every element over `dim` (all dims when omitted) is non-zero; an empty reduction is true. */
export function all(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  return logicalNot(any(logicalNot(x), dim, keepDim));
}

/** Throws unless `mask` is a bool tensor; names the op and what it got. */
export function checkMask(op: string, mask: Tensor, what = 'mask'): void {
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') {
    const got = mask instanceof Tensor ? `${mask.dtype} tensor of shape ${formatShape(mask.shape)}` : typeof mask;
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${op}: expected a bool ${what} tensor, got a ${got}; compare first (e.g. x.gt(0)) or call .bool()`);
  }
}

/**
 * Indices of the non-zero elements: an int32 tensor [k, ndim] (row-major order), or with asTuple
 * one 1-D int32 tensor per dim (a 0-d input counts as 1-D, as in PyTorch).
 */
export function nonzero(x: Tensor): Tensor;
export function nonzero(x: Tensor, options: { asTuple: true }): Tensor[];
export function nonzero(x: Tensor, options: { asTuple?: boolean } = {}): Tensor | Tensor[] {
  const values = operand(x, x.shape);
  const hits: number[] = [];
  for (let i = 0; i < values.at.length; i++) if (values.data[values.at[i]] !== 0) hits.push(i);
  const strides = contiguousStrides(x.shape);
  const coordinate = (flat: number, d: number): number => Math.floor(flat / strides[d]) % x.shape[d];
  if (options.asTuple) {
    if (x.ndim === 0) return [fromArray(Int32Array.from(hits, () => 0), [hits.length])];
    return x.shape.map((_, d) => fromArray(Int32Array.from(hits, (flat) => coordinate(flat, d)), [hits.length]));
  }
  const out = new Int32Array(hits.length * x.ndim);
  hits.forEach((flat, j) => { for (let d = 0; d < x.ndim; d++) out[j * x.ndim + d] = coordinate(flat, d); });
  return fromArray(out, [hits.length, x.ndim]);
}

/** The true positions of a bool mask as one int32 index tensor per dim (nonzero with asTuple). */
export function maskToIndices(mask: Tensor): Tensor[] {
  checkMask('maskToIndices', mask);
  return nonzero(mask, { asTuple: true });
}
