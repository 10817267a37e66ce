/**
 * Sorting along a dim: sort, argsort, topk. The order is computed in TypeScript (a stable sort of
 * each row's positions, NaN ordered above every number as PyTorch does); the values are then a
 * gather of the input at those positions, so their gradient is gather's (a scatter back).
 */
import { NodegradError, formatShape } from '../errors.js';
import { normalizeDim, numelOf } from '../tensor/shape.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { gather } from './gather.js';
import { denseCopy, narrow, reshape } from './shape.js';

/** Options of {@link sort} and {@link argsort}. */
export interface SortOptions {
  /** The dim to sort along (default -1, the last). */
  dim?: number;
  /** Largest first (default false). */
  descending?: boolean;
  /** Keep equal elements in their input order. The sort is always stable; accepted for PyTorch parity. */
  stable?: boolean;
}

/** Options of {@link topk}. */
export interface TopkOptions {
  /** The dim to select along (default -1, the last). */
  dim?: number;
  /** The k largest (default true) or the k smallest. */
  largest?: boolean;
  /** Return them in sorted order (default true); they are always sorted here. */
  sorted?: boolean;
}

/** Sorted values and, for each, its position along the dim in the input (int32). */
export interface ValuesIndices {
  /** The selected values. */
  values: Tensor;
  /** Their positions along the dim in the input (int32). */
  indices: Tensor;
}

/**
 * Ascending order with NaN above +inf; ties keep input order. Descending flips the value order
 * only, so equal values still come in input order (PyTorch's stable descending sort).
 */
function comparator(row: Float64Array, descending: boolean): (a: number, b: number) => number {
  const sign = descending ? -1 : 1;
  return (a, b) => {
    const x = row[a];
    const y = row[b];
    if (x < y) return -sign;
    if (x > y) return sign;
    const xNaN = x !== x;
    if (xNaN !== (y !== y)) return xNaN ? sign : -sign;
    return a - b;
  };
}

/** The int32 positions that sort x along dim d (x has at least one dim). */
function sortedPositions(x: Tensor, d: number, descending: boolean): Tensor {
  const dense = denseCopy(x).storage.data;
  const outer = numelOf(x.shape.slice(0, d));
  const n = x.shape[d];
  const inner = numelOf(x.shape.slice(d + 1));
  const indices = uninitTensor(x.shape, 'int32');
  const out = indices.storage.data;
  const row = new Float64Array(n);
  const order = new Int32Array(n);
  const compare = comparator(row, descending);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      for (let j = 0; j < n; j++) {
        row[j] = dense[base + j * inner];
        order[j] = j;
      }
      order.sort(compare);
      for (let j = 0; j < n; j++) out[base + j * inner] = order[j];
    }
  }
  return indices;
}

/** x read as at least 1-D, and the function that gives a result x's own rank back. */
function atLeast1d(x: Tensor): [Tensor, (t: Tensor) => Tensor] {
  return x.ndim === 0 ? [reshape(x, [1]), (t) => reshape(t, [])] : [x, (t) => t];
}

/** Sorts along `dim`: `{ values, indices }` with values = gather(x, dim, indices). */
export function sort(x: Tensor, options: SortOptions = {}): ValuesIndices {
  const { dim = -1, descending = false } = options;
  const d = normalizeDim('sort', dim, x.ndim);
  const [input, restore] = atLeast1d(x);
  const indices = sortedPositions(input, d, descending);
  return { values: restore(gather(input, d, indices)), indices: restore(indices) };
}

/** The positions that sort x along `dim` (int32). */
export function argsort(x: Tensor, options: SortOptions = {}): Tensor {
  const { dim = -1, descending = false } = options;
  const d = normalizeDim('argsort', dim, x.ndim);
  const [input, restore] = atLeast1d(x);
  return restore(sortedPositions(input, d, descending));
}

/** The k largest (or smallest) elements along `dim` and their positions, largest (smallest) first. */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): ValuesIndices {
  const { dim = -1, largest = true } = options;
  const d = normalizeDim('topk', dim, x.ndim);
  const [input, restore] = atLeast1d(x);
  const size = input.shape[d];
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `topk: k ${k} is out of range for dim ${d} of size ${size} (shape ${formatShape(x.shape)}); expected an integer in [0, ${size}]`,
    );
  }
  const indices = denseCopy(narrow(sortedPositions(input, d, largest), d, 0, k));
  return { values: restore(gather(input, d, indices)), indices: restore(indices) };
}
