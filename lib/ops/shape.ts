/**
 * Shape ops. Most are views: they share storage and only change shape/strides/offset. Their
 * backward maps the gradient back to the input's shape and needs nothing saved.
 */
import { getBackend } from '../backend/index.js';
import type { DType, FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import {
  checkShape,
  contiguousStrides,
  inferShape,
  normalizeDim,
  numelOf,
  sameShape,
  type Shape,
} from '../tensor/shape.js';
import { arrayFor, Storage } from '../tensor/storage.js';
import { zerosTensor, uninitTensor, Tensor } from '../tensor/tensor.js';
import { sumToShape } from './reduce.js';

function viewOf(x: Tensor, shape: Shape, strides: readonly number[], offset = x.offset): Tensor {
  return new Tensor(x.storage, shape, strides, offset);
}

/** Copies any view into a fresh dense tensor (no autograd). */
export function denseCopy(x: Tensor, dtype: DType = x.dtype): Tensor {
  const out = uninitTensor(x.shape, x.dtype);
  getBackend().copyStrided(
    x.shape,
    { data: x.storage.data, offset: x.offset, strides: x.strides },
    { data: out.storage.data, offset: 0, strides: contiguousStrides(x.shape) },
  );
  if (dtype === x.dtype) return out;
  const cast = arrayFor(dtype, out.numel);
  const values = out.storage.data;
  assertReadable(`to(${dtype})`, values);
  // To bool, any non-zero value (NaN included) is true, as in PyTorch.
  if (dtype === 'bool') for (let i = 0; i < values.length; i++) cast[i] = values[i] !== 0 ? 1 : 0;
  else cast.set(values);
  return new Tensor(new Storage(dtype, cast), x.shape);
}

/** The elements of a float tensor as one dense typed array starting at index 0 (no copy if possible). */
export function denseArray(x: Tensor): FloatArray {
  if (x.isContiguous()) return (x.storage.data as FloatArray).subarray(x.offset, x.offset + x.numel);
  return denseCopy(x).storage.data as FloatArray;
}

/** x itself when already dense, else a dense copy; gradients pass through unchanged. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return record('contiguous', denseCopy(x), [x], (g) => [g]);
}

/** A copy with its own storage, recorded for autograd. */
export function clone(x: Tensor): Tensor {
  return record('clone', denseCopy(x), [x], (g) => [g]);
}

/** The same data, cut from the graph: never requires grad. */
export function detach(x: Tensor): Tensor {
  return viewOf(x, x.shape, x.strides);
}

/** Converts to another dtype (a copy); gradients flow back between float types. */
export function to(x: Tensor, dtype: DType): Tensor {
  if (dtype === x.dtype) return x;
  const out = denseCopy(x, dtype);
  if (dtype === 'int32' || dtype === 'bool') return out;
  return record('to', out, [x], (g) => [to(g, x.dtype)]);
}

/** A view with a new shape; the tensor must be contiguous (use reshape otherwise). One dim may be -1. */
export function view(x: Tensor, shape: Shape): Tensor {
  const target = inferShape('view', shape, x.numel, x.shape);
  if (!x.isContiguous()) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `view: tensor of shape ${formatShape(x.shape)} is not contiguous; use reshape(), which copies when it must`,
    );
  }
  return record('view', viewOf(x, target, contiguousStrides(target)), [x], (g) => [reshape(g, x.shape)]);
}

/** A view with a new shape when the layout allows, else a copy. One dim may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = inferShape('reshape', shape, x.numel, x.shape);
  if (sameShape(target, x.shape)) return x;
  return view(contiguous(x), target);
}

/** Flattens dims startDim..endDim (inclusive) into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim);
  const e = normalizeDim('flatten', endDim, x.ndim);
  if (s > e) {
    throw new NodegradError('ERR_NODEGRAD_DIM', `flatten: startDim ${startDim} comes after endDim ${endDim}`);
  }
  const merged = numelOf(x.shape.slice(s, e + 1));
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Swaps two dims (a view). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeDim('transpose', dim0, x.ndim);
  const b = normalizeDim('transpose', dim1, x.ndim);
  if (x.ndim < 2 || a === b) return x;
  const shape = [...x.shape];
  const strides = [...x.strides];
  [shape[a], shape[b]] = [shape[b], shape[a]];
  [strides[a], strides[b]] = [strides[b], strides[a]];
  return record('transpose', viewOf(x, shape, strides), [x], (g) => [transpose(g, a, b)]);
}

/** Reorders dims (a view): permute(x, [0, 2, 1]). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const order = dims.map((d) => normalizeDim('permute', d, x.ndim));
  if (order.length !== x.ndim || new Set(order).size !== order.length) {
    throw new NodegradError(
      'ERR_NODEGRAD_DIM',
      `permute: expected a permutation of ${x.ndim} dims for shape ${formatShape(x.shape)}, got [${dims.join(', ')}]`,
    );
  }
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => {
    inverse[d] = i;
  });
  const out = viewOf(
    x,
    order.map((d) => x.shape[d]),
    order.map((d) => x.strides[d]),
  );
  return record('permute', out, [x], (g) => [permute(g, inverse)]);
}

/** Removes size-1 dims (all of them, or only `dim`). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  let keep: number[];
  if (dim === undefined) {
    keep = x.shape.map((_, d) => d).filter((d) => x.shape[d] !== 1);
  } else {
    const d = normalizeDim('squeeze', dim, x.ndim);
    keep = x.shape.map((_, i) => i).filter((i) => i !== d || x.shape[i] !== 1);
  }
  if (keep.length === x.ndim) return x;
  const out = viewOf(
    x,
    keep.map((d) => x.shape[d]),
    keep.map((d) => x.strides[d]),
  );
  return record('squeeze', out, [x], (g) => [reshape(g, x.shape)]);
}

/** Inserts a size-1 dim at `dim` (which may be ndim, or negative counting from ndim + 1). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return record('unsqueeze', viewOf(x, shape, strides), [x], (g) => [reshape(g, x.shape)]);
}

/** Broadcasts size-1 dims to larger sizes without copying (stride 0); -1 keeps a size. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkShape('expand', shape, { minusOne: 'keep' });
  if (shape.length < x.ndim) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `expand: target ${formatShape(shape)} has fewer dims than the tensor's shape ${formatShape(x.shape)}`,
    );
  }
  const lead = shape.length - x.ndim;
  const leadingKeep = shape.slice(0, lead).indexOf(-1);
  if (leadingKeep >= 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `expand: size -1 (keep) at dim ${leadingKeep} of ${formatShape(shape)} names a new leading dim, which has no size to keep`,
    );
  }
  const target = shape.map((s, i) => (s === -1 && i >= lead ? x.shape[i - lead] : s));
  const strides = target.map((s, i) => {
    if (i < lead) return 0;
    const own = x.shape[i - lead];
    if (own === s) return x.strides[i - lead];
    if (own === 1) return 0;
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `expand: cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)} (dim ${i}: ${own} is not 1)`,
    );
  });
  if (sameShape(target, x.shape)) return x;
  return record('expand', viewOf(x, target, strides), [x], (g) => [sumToShape(g, x.shape)]);
}

/** The slice [start, start + length) of `dim` (a view). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim('narrow', dim, x.ndim);
  const size = x.shape[d];
  const from = start < 0 ? start + size : start;
  if (!Number.isInteger(from) || !Number.isInteger(length) || from < 0 || length < 0 || from + length > size) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `narrow: start ${start} and length ${length} do not fit dim ${d} of size ${size} (shape ${formatShape(x.shape)})`,
    );
  }
  const shape = [...x.shape];
  shape[d] = length;
  const out = viewOf(x, shape, x.strides, x.offset + from * x.strides[d]);
  return record('narrow', out, [x], (g) => {
    const full = zerosTensor(x.shape, g.dtype);
    const slice = narrowRaw(full, d, from, length);
    getBackend().copyStrided(
      g.shape,
      { data: g.storage.data, offset: g.offset, strides: g.strides },
      { data: slice.storage.data, offset: slice.offset, strides: slice.strides },
    );
    return [full];
  });
}

/** narrow without autograd, for kernels that write into a slice of a fresh tensor. */
export function narrowRaw(x: Tensor, dim: number, start: number, length: number): Tensor {
  const shape = [...x.shape];
  shape[dim] = length;
  return viewOf(x, shape, x.strides, x.offset + start * x.strides[dim]);
}
