/**
 * Comparisons, logical ops and tests of values, all producing bool tensors (one byte per element),
 * the reductions any/all over them, and nonzero. Inputs broadcast as in PyTorch and are compared
 * after type promotion, so a float32 tensor equals the number 0.1 rounded to float32, as in
 * PyTorch. Nothing here is differentiable: a bool output carries no gradient.
 */
import type { DataArray, DType } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { broadcastShapes, broadcastStrides, numelOf, sameShape, type Shape } from '../tensor/shape.js';
import { arrayFor } from '../tensor/storage.js';
import { fromArray, uninitTensor, Tensor } from '../tensor/tensor.js';
import { sum, type Dims } from './reduce.js';
import { denseCopy } from './shape.js';

/** A tensor, or a number or boolean that broadcasts as a 0-d tensor. */
export type ScalarOrTensor = Tensor | number | boolean;

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** PyTorch's result type of two tensors: the wider of bool < int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

function scalarDtype(v: number | boolean): DType {
  if (typeof v === 'boolean') return 'bool';
  // An integer past int32 compares exactly in float64, as PyTorch's int64 scalar would.
  if (Number.isInteger(v)) return Math.abs(v) <= 2147483647 ? 'int32' : 'float64';
  return 'float32';
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
    return isFloat(t.dtype) || RANK[s] <= RANK[t.dtype] ? t.dtype : s;
  }
  // Two plain numbers: JS cannot tell 1.0 from 1, so they take the default dtype, as ng.full does.
  return typeof a === 'boolean' && typeof b === 'boolean' ? 'bool' : 'float32';
}

/**
 * x cast to `dtype` and broadcast to `shape`, as a dense array from index 0 (no autograd). The
 * copies run in the backend, so the loops over the result read one dense array type.
 */
export function denseBroadcast(x: ScalarOrTensor, dtype: DType, shape: Shape): DataArray {
  if (!(x instanceof Tensor)) {
    const v = Number(x);
    return arrayFor(dtype, numelOf(shape)).fill(dtype === 'bool' ? (v !== 0 ? 1 : 0) : v);
  }
  const cast = x.dtype === dtype ? x : denseCopy(x, dtype);
  const view = new Tensor(cast.storage, shape, broadcastStrides(cast.shape, cast.strides, shape), cast.offset);
  const values =
    view.isContiguous() && sameShape(shape, cast.shape)
      ? cast.storage.data.subarray(cast.offset, cast.offset + view.numel)
      : denseCopy(view).storage.data;
  assertReadable('a comparison, logical or mask op (computed in TypeScript)', values);
  return values;
}

/** The broadcast shape of the tensors among `values` (plain values are 0-d). */
export function broadcastAll(op: string, values: readonly ScalarOrTensor[]): number[] {
  return values.reduce<number[]>((shape, v) => (v instanceof Tensor ? broadcastShapes(op, shape, v.shape) : shape), []);
}

type Comparison = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'and' | 'or' | 'xor';

/**
 * A bool tensor comparing a and b element-wise after promotion and broadcasting. One loop per
 * comparison keeps each loop monomorphic; logical ops combine truth values (bool arrays).
 */
function compareWith(op: string, kind: Comparison, a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected at least one Tensor operand, got two plain values`,
    );
  }
  const logical = kind === 'and' || kind === 'or' || kind === 'xor';
  const dtype = logical ? 'bool' : resultType(a, b);
  const shape = broadcastAll(op, [a, b]);
  const [x, y] = [denseBroadcast(a, dtype, shape), denseBroadcast(b, dtype, shape)];
  const out = uninitTensor(shape, 'bool');
  const o = out.storage.data;
  const n = o.length;
  switch (kind) {
    case 'eq':
      for (let i = 0; i < n; i++) o[i] = x[i] === y[i] ? 1 : 0;
      break;
    case 'ne':
      for (let i = 0; i < n; i++) o[i] = x[i] !== y[i] ? 1 : 0;
      break;
    case 'lt':
      for (let i = 0; i < n; i++) o[i] = x[i] < y[i] ? 1 : 0;
      break;
    case 'le':
      for (let i = 0; i < n; i++) o[i] = x[i] <= y[i] ? 1 : 0;
      break;
    case 'gt':
      for (let i = 0; i < n; i++) o[i] = x[i] > y[i] ? 1 : 0;
      break;
    case 'ge':
      for (let i = 0; i < n; i++) o[i] = x[i] >= y[i] ? 1 : 0;
      break;
    case 'and':
      for (let i = 0; i < n; i++) o[i] = x[i] & y[i];
      break;
    case 'or':
      for (let i = 0; i < n; i++) o[i] = x[i] | y[i];
      break;
    case 'xor':
      for (let i = 0; i < n; i++) o[i] = x[i] ^ y[i];
      break;
  }
  return out;
}

/** a == b element-wise as a bool tensor (NaN equals nothing), as torch.eq. */
export function eq(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('eq', 'eq', a, b);
}

/** a != b element-wise as a bool tensor (NaN != NaN is true), as torch.ne. */
export function ne(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('ne', 'ne', a, b);
}

/** a < b elementwise as a bool tensor, as torch.lt. */
export function lt(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('lt', 'lt', a, b);
}

/** a <= b elementwise as a bool tensor, as torch.le. */
export function le(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('le', 'le', a, b);
}

/** a > b elementwise as a bool tensor, as torch.gt. */
export function gt(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('gt', 'gt', a, b);
}

/** a >= b elementwise as a bool tensor, as torch.ge. */
export function ge(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('ge', 'ge', a, b);
}

/** True when a and b have the same shape and equal elements (after promotion; NaN is never equal). */
export function equal(a: Tensor, b: Tensor): boolean {
  if (a.ndim !== b.ndim || a.shape.some((s, d) => s !== b.shape[d])) return false;
  return !any(ne(a, b)).item();
}

/** a && b on truth values as a bool tensor (non-zero is true, NaN included), as torch.logical_and. */
export function logicalAnd(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('logicalAnd', 'and', a, b);
}

/** a || b on truth values (non-zero is true) as a bool tensor, as torch.logical_or. */
export function logicalOr(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('logicalOr', 'or', a, b);
}

/** Exactly one of a and b non-zero, as a bool tensor, as torch.logical_xor. */
export function logicalXor(a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  return compareWith('logicalXor', 'xor', a, b);
}

type Test = 'not' | 'nan' | 'finite' | 'inf';

/** A bool tensor testing each element of x. */
function testEach(x: Tensor, kind: Test): Tensor {
  const v = denseBroadcast(x, x.dtype, x.shape);
  const out = uninitTensor(x.shape, 'bool');
  const o = out.storage.data;
  const n = o.length;
  switch (kind) {
    case 'not':
      for (let i = 0; i < n; i++) o[i] = v[i] === 0 ? 1 : 0;
      break;
    case 'nan':
      for (let i = 0; i < n; i++) o[i] = v[i] !== v[i] ? 1 : 0;
      break;
    // x - x is 0 exactly for finite x, NaN for NaN and +-inf.
    case 'finite':
      for (let i = 0; i < n; i++) o[i] = v[i] - v[i] === 0 ? 1 : 0;
      break;
    case 'inf':
      for (let i = 0; i < n; i++) o[i] = v[i] === Infinity || v[i] === -Infinity ? 1 : 0;
      break;
  }
  return out;
}

/** True where x is zero, as torch.logical_not. */
export function logicalNot(x: Tensor): Tensor {
  return testEach(x, 'not');
}

/** True where x is NaN, as torch.isnan. */
export function isnan(x: Tensor): Tensor {
  return testEach(x, 'nan');
}

/** True where x is neither NaN nor ±inf, as torch.isfinite. */
export function isfinite(x: Tensor): Tensor {
  return testEach(x, 'finite');
}

/** True at +inf and -inf, as torch.isinf. */
export function isinf(x: Tensor): Tensor {
  return testEach(x, 'inf');
}

/** True where any element over `dim` (all dims when omitted) is non-zero; an empty reduction is false. */
export function any(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  if (dim === undefined && !keepDim) return fromArray(Uint8Array.of(scan(x, true) ? 1 : 0), []);
  return gt(sum(ne(x, 0), dim, keepDim), 0);
}

/** True where every element over `dim` (all dims when omitted) is non-zero; an empty reduction is true. */
export function all(x: Tensor, dim?: Dims, keepDim = false): Tensor {
  if (dim === undefined && !keepDim) return fromArray(Uint8Array.of(scan(x, false) ? 0 : 1), []);
  return logicalNot(any(logicalNot(x), dim, keepDim));
}

/** Whether some element of x is non-zero (nonZero) or zero (!nonZero); stops at the first. */
function scan(x: Tensor, nonZero: boolean): boolean {
  const v = denseBroadcast(x, x.dtype, x.shape);
  for (let i = 0; i < v.length; i++) if ((v[i] !== 0) === nonZero) return true;
  return false;
}

/** Throws unless `mask` is a bool tensor; names the op and what it got. */
export function checkMask(op: string, mask: Tensor, what = 'mask'): void {
  if (!(mask instanceof Tensor) || mask.dtype !== 'bool') {
    const got = mask instanceof Tensor ? `${mask.dtype} tensor of shape ${formatShape(mask.shape)}` : typeof mask;
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: expected a bool ${what} tensor, got a ${got}; compare first (e.g. x.gt(0)) or call .bool()`,
    );
  }
}

/**
 * Indices of the non-zero elements: an int32 tensor [k, ndim] (row-major order), or with asTuple
 * one 1-D int32 tensor per dim (a 0-d input counts as 1-D, as in PyTorch).
 */
export function nonzero(x: Tensor): Tensor;
export function nonzero(x: Tensor, options: { asTuple: true }): Tensor[];
export function nonzero(x: Tensor, options: { asTuple?: boolean } = {}): Tensor | Tensor[] {
  const values = denseBroadcast(x, x.dtype, x.shape);
  const ndim = x.ndim;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) count++;
  // Row-major coordinates of every hit, counted like an odometer rather than divided out.
  const coords = new Int32Array(count * ndim);
  const counter = new Int32Array(ndim);
  for (let i = 0, j = 0; i < values.length; i++) {
    if (values[i] !== 0) {
      for (let d = 0; d < ndim; d++) coords[j + d] = counter[d];
      j += ndim;
    }
    for (let d = ndim - 1; d >= 0 && ++counter[d] === x.shape[d]; d--) counter[d] = 0;
  }
  if (!options.asTuple) return fromArray(coords, [count, ndim]);
  if (ndim === 0) return [fromArray(new Int32Array(count), [count])];
  return x.shape.map((_, d) => {
    const column = new Int32Array(count);
    for (let j = 0; j < count; j++) column[j] = coords[j * ndim + d];
    return fromArray(column, [count]);
  });
}

/** The true positions of a bool mask as one int32 index tensor per dim (nonzero with asTuple). */
export function maskToIndices(mask: Tensor): Tensor[] {
  checkMask('maskToIndices', mask);
  return nonzero(mask, { asTuple: true });
}
