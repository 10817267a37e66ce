/**
 * Gather and scatter along a dim: gather, scatter, scatterAdd, indexAdd and the in-place scatter_,
 * scatterAdd_, indexAdd_. Index tensors are int32. Each runs a backend kernel (gather, scatter,
 * scatterAdd, indexPut) over dense [outer, n, inner] layouts; the kernels check the index values.
 * Each backward is the dual op: gather's is scatterAdd into zeros, scatter's a gather, so
 * duplicates accumulate.
 */
import { getBackend } from '../backend/index.js';
import type { DataArray, DType } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { Node, record, type BackwardFn } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { contiguousStrides, normalizeDim, numelOf, sameShape } from '../tensor/shape.js';
import { arrayFor } from '../tensor/storage.js';
import { uninitTensor, zerosTensor, Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { indexSelect } from './join.js';
import { mul } from './elementwise.js';
import { denseCopy, narrowRaw } from './shape.js';

/** Options of {@link indexAdd} and {@link indexAdd_}. */
export interface IndexAddOptions {
  /** Multiplier of `source` (default 1). */
  alpha?: number;
}

function checkIndexDtype(op: string, index: unknown): asserts index is Tensor {
  if (!(index instanceof Tensor)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected the index as an int32 Tensor, got ${typeof index}`,
    );
  }
  if (index.dtype !== 'int32') {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${op}: expected an int32 index, got ${index.dtype}`);
  }
}

/** Dense int32 values of an index: a view of its storage when contiguous. */
function denseIndex(index: Tensor): Int32Array {
  return (
    index.isContiguous()
      ? index.storage.data.subarray(index.offset, index.offset + index.numel)
      : denseCopy(index).storage.data
  ) as Int32Array;
}

/** Throws the op's own error for the first index outside [0, size). */
function checkRange(op: string, values: Int32Array, dim: number, size: number, shape: readonly number[]): void {
  assertReadable(`${op} (its index check)`, values);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < 0 || v >= size) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: index ${v} at position ${i} is out of range for dim ${dim} of size ${size} ` +
          `(shape ${formatShape(shape)}); expected an integer in [0, ${size})`,
      );
    }
  }
}

/** Dense int32 values of an index, each checked to lie in [0, size). */
function indexValues(op: string, index: Tensor, dim: number, size: number, shape: readonly number[]): Int32Array {
  const values = denseIndex(index);
  checkRange(op, values, dim, size, shape);
  return values;
}

/**
 * Runs a backend kernel that checks every index before it writes anything. Only when it refuses
 * does the op scan the index for its own message: a TypeScript pass up front took 1-5 ms per
 * million indices on the 2-core machine, about what the native gather takes.
 */
function runKernel(
  op: string,
  values: Int32Array,
  dim: number,
  size: number,
  shape: readonly number[],
  kernel: () => void,
): void {
  try {
    kernel();
  } catch (error) {
    checkRange(op, values, dim, size, shape);
    throw error;
  }
}

/** Shape with a 0-d tensor read as one element of shape [1]. */
function shapeOf(t: Tensor): readonly number[] {
  return t.ndim === 0 ? [1] : t.shape;
}

/** [outer, inner]: the element counts before and after `dim` of `shape`. */
function around(shape: readonly number[], dim: number): [number, number] {
  return [numelOf(shape.slice(0, dim)), numelOf(shape.slice(dim + 1))];
}

/** The dense values of t cut to `extents` on every dim but `dim` (null: all dims); no copy when already so. */
function denseCorner(t: Tensor, extents: readonly number[], dim: number | null): DataArray {
  let view = t;
  if (t.ndim > 0) {
    extents.forEach((s, e) => {
      if (e !== dim && s !== view.shape[e]) view = narrowRaw(view, e, 0, s);
    });
  }
  return view.isContiguous()
    ? view.storage.data.subarray(view.offset, view.offset + view.numel)
    : denseCopy(view).storage.data;
}

/** index.shape[d] <= limit.shape[d] for every d (except `dim` when given), as PyTorch requires. */
function checkFits(
  op: string,
  index: readonly number[],
  what: string,
  limit: readonly number[],
  dim: number | null,
): void {
  const bad = index.length !== limit.length || index.some((s, d) => d !== dim && s > limit[d]);
  if (bad) {
    const except = dim === null ? '' : ` except dim ${dim}`;
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: index of shape ${formatShape(index)} does not fit ${what} of shape ${formatShape(limit)} ` +
        `(expected the same number of dims and index sizes <= ${what} sizes${except})`,
    );
  }
}

/**
 * out[p] = x[p with p[dim] = index[p]] for every position p of index, as torch.gather. index is
 * int32 with x's number of dims and sizes no larger than x's outside `dim`; out takes index's shape
 * and x's dtype. Differentiable in x (the gradient is scattered back and summed).
 * @example
 * ```ts
 * const x = ng.tensor([[1, 2], [3, 4]]);
 * ng.gather(x, 1, ng.tensor([[0, 0], [1, 0]], { dtype: 'int32' })); // [[1, 1], [4, 3]]
 * ```
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndexDtype('gather', index);
  const d = normalizeDim('gather', dim, x.ndim);
  const at = shapeOf(index);
  checkFits('gather', at, 'input', shapeOf(x), d);
  const out = uninitTensor(index.shape, x.dtype);
  if (index.numel > 0) {
    const values = denseIndex(index);
    const n = shapeOf(x)[d];
    const [outer, inner] = around(at, d);
    const src = denseCorner(x, at, d);
    runKernel('gather', values, d, n, x.shape, () =>
      getBackend().gather(src, outer, n, inner, values, at[d], out.storage.data),
    );
  }
  return record('gather', out, [x], (g) => [scatterAdd(zerosTensor(x.shape, g.dtype), d, index, g)], [index]);
}

/**
 * Writes (or adds) src's elements at index's positions into `target`, a dense row-major array of
 * `shape`: target[p with p[dim] = index[p]] (+)= src[p]. `src` may be a number. Where index is
 * smaller than target off `dim`, the kernel runs on a dense copy of the block index covers.
 */
function scatterInto(
  op: string,
  target: DataArray,
  dtype: DType,
  shape: readonly number[],
  dim: number,
  index: Tensor,
  src: Tensor | number,
  add: boolean,
  base?: DataArray,
): void {
  if (index.numel === 0) {
    if (base) target.set(base);
    return;
  }
  const at = shapeOf(index);
  const values = denseIndex(index);
  const from = typeof src === 'number' ? arrayFor(dtype, index.numel).fill(src) : denseCorner(src, at, null);
  const block = at.map((s, e) => (e === dim ? shape[e] : s));
  const whole = sameShape(block, shape);
  const strides = contiguousStrides(shape);
  // The kernel copies base itself (each thread the block it scatters into) only when it writes all of target.
  const initial = whole ? base : undefined;
  if (base && !whole) target.set(base);
  const dense = whole ? target : arrayFor(dtype, numelOf(block));
  const blockView = { data: dense, offset: 0, strides: contiguousStrides(block) };
  if (!whole) getBackend().copyStrided(block, { data: target, offset: 0, strides }, blockView);
  const [outer, inner] = around(at, dim);
  const backend = getBackend();
  runKernel(op, values, dim, shape[dim], shape, () => {
    if (add) backend.scatterAdd(from, outer, at[dim], inner, values, shape[dim], dense, initial);
    else backend.scatter(from, outer, at[dim], inner, values, shape[dim], dense, initial);
  });
  if (!whole) backend.copyStrided(block, blockView, { data: target, offset: 0, strides });
}

/** Checks scatter's operands; returns the normalized dim. */
function checkScatter(op: string, x: Tensor, dim: number, index: Tensor, src: Tensor | number): number {
  checkIndexDtype(op, index);
  const d = normalizeDim(op, dim, x.ndim);
  const at = shapeOf(index);
  checkFits(op, at, 'input', shapeOf(x), d);
  if (src instanceof Tensor) {
    checkFits(op, at, 'src', shapeOf(src), null);
    if (src.dtype !== x.dtype) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `${op}: expected src of the input's dtype ${x.dtype}, got ${src.dtype}`,
      );
    }
  } else if (typeof src !== 'number') {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: expected src as a Tensor or a number, got ${typeof src}`);
  }
  return d;
}

/**
 * The output of an out-of-place scatter: a dense copy of x, or, when x is contiguous, a new tensor
 * that the scatter fills from x's values (`base`) as it goes.
 */
function startFrom(x: Tensor): { out: Tensor; base?: DataArray } {
  if (!x.isContiguous()) return { out: denseCopy(x) };
  assertReadable('scatter (its input)', x.storage.data);
  return { out: uninitTensor(x.shape, x.dtype), base: x.storage.data.subarray(x.offset, x.offset + x.numel) };
}

/**
 * A copy of x with out[p with p[dim] = index[p]] = src[p] (or the number src). Where index names
 * one position twice the later write wins (PyTorch leaves the winner unspecified).
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  const d = checkScatter('scatter', x, dim, index, src);
  const { out, base } = startFrom(x);
  scatterInto('scatter', out.storage.data, x.dtype, shapeOf(x), d, index, src, false, base);
  const inputs = src instanceof Tensor ? [x, src] : [x];
  return record('scatter', out, inputs, (g) => scatterGrads(g, x, d, index, src), [index]);
}

/**
 * src's gradient: g gathered at index, placed in the leading corner of a src-shaped zero tensor
 * (src may be larger than index; its other elements were never read).
 */
function srcGrad(g: Tensor, d: number, index: Tensor, src: Tensor): Tensor {
  const picked = gather(g, d, index);
  if (sameShape(picked.shape, src.shape)) return picked;
  const grad = zerosTensor(src.shape, g.dtype);
  const corner = index.shape.reduce((t, s, i) => narrowRaw(t, i, 0, s), grad);
  getBackend().copyStrided(
    picked.shape,
    { data: picked.storage.data, offset: picked.offset, strides: picked.strides },
    { data: corner.storage.data, offset: corner.offset, strides: corner.strides },
  );
  return grad;
}

function scatterGrads(g: Tensor, x: Tensor, d: number, index: Tensor, src: Tensor | number): (Tensor | null)[] {
  const gx = x.requiresGrad ? scatter(g, d, index, 0) : null;
  return src instanceof Tensor ? [gx, src.requiresGrad ? srcGrad(g, d, index, src) : null] : [gx];
}

/** A copy of x with src[p] added at out[p with p[dim] = index[p]]; duplicate indices accumulate. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = checkScatter('scatterAdd', x, dim, index, src);
  const { out, base } = startFrom(x);
  scatterInto('scatterAdd', out.storage.data, x.dtype, shapeOf(x), d, index, src, true, base);
  return record('scatterAdd', out, [x, src], (g) => scatterAddGrads(g, x, d, index, src), [index]);
}

function scatterAddGrads(g: Tensor, x: Tensor, d: number, index: Tensor, src: Tensor): (Tensor | null)[] {
  return [x.requiresGrad ? g : null, src.requiresGrad ? srcGrad(g, d, index, src) : null];
}

/** The 1-D index of indexAdd, checked against x and source; returns [dim, index values]. */
function checkIndexAdd(op: string, x: Tensor, dim: number, index: Tensor, source: Tensor): [number, Int32Array] {
  checkIndexDtype(op, index);
  if (!(source instanceof Tensor)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: expected source as a Tensor, got ${typeof source}`);
  }
  const d = normalizeDim(op, dim, x.ndim);
  if (index.ndim > 1) {
    throw new NodegradError('ERR_NODEGRAD_SHAPE', `${op}: expected a 1-D index, got shape ${formatShape(index.shape)}`);
  }
  const expected = [...shapeOf(x)];
  expected[d] = index.numel;
  const got = shapeOf(source);
  if (got.length !== expected.length || got.some((s, i) => s !== expected[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: source of shape ${formatShape(source.shape)} does not match input ${formatShape(x.shape)} with dim ${d} ` +
        `of size ${index.numel} (the index length); expected ${formatShape(expected)}`,
    );
  }
  if (source.dtype !== x.dtype) {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `${op}: expected source of the input's dtype ${x.dtype}, got ${source.dtype}`,
    );
  }
  return [d, indexValues(op, index, d, shapeOf(x)[d], x.shape)];
}

/** target (dense, x's shape) [.., index[j], ..] += alpha * source[.., j, ..] along dim. */
function indexAddInto(
  target: DataArray,
  x: Tensor,
  d: number,
  indices: Int32Array,
  source: Tensor,
  alpha: number,
): void {
  const shape = shapeOf(x);
  const [outer, inner] = around(shape, d);
  const scaled = alpha === 1 ? source : mul(source.detach(), alpha);
  const src = denseCopy(scaled).storage.data;
  getBackend().indexPut(src, outer, indices.length, inner, indices, shape[d], target, true);
}

/** A copy of x with alpha * source[.., j, ..] added at [.., index[j], ..] along dim (1-D index). */
export function indexAdd(x: Tensor, dim: number, index: Tensor, source: Tensor, options: IndexAddOptions = {}): Tensor {
  const alpha = options.alpha ?? 1;
  const [d, indices] = checkIndexAdd('indexAdd', x, dim, index, source);
  const out = denseCopy(x);
  indexAddInto(out.storage.data, x, d, indices, source, alpha);
  return record('indexAdd', out, [x, source], (g) => indexAddGrads(g, x, d, index, source, alpha), [index]);
}

function indexAddGrads(
  g: Tensor,
  x: Tensor,
  d: number,
  index: Tensor,
  source: Tensor,
  alpha: number,
): (Tensor | null)[] {
  if (!source.requiresGrad) return [x.requiresGrad ? g : null, null];
  const picked = indexSelect(g, d, index).reshape(source.shape);
  return [x.requiresGrad ? g : null, alpha === 1 ? picked : mul(picked, alpha)];
}

/**
 * Runs `write` on x's elements (dense, row-major) and bumps its storage version. When recording,
 * x takes a new graph node whose inputs are x's previous history and `others`.
 */
function inPlace(
  op: string,
  x: Tensor,
  others: Tensor[],
  write: (values: DataArray) => void,
  backward: (g: Tensor, previous: Tensor) => (Tensor | null)[],
  saved: Tensor[],
): Tensor {
  const recording = isGradEnabled() && (x.requiresGrad || others.some((t) => t.requiresGrad));
  if (recording && x.requiresGrad && x.isLeaf) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${op}: a leaf tensor that requires grad cannot be modified in place; use ${op.slice(0, -1)}() or detach() first`,
    );
  }
  writeInPlace(op, x, write);
  if (recording) {
    const previous = new Tensor(x.storage, x.shape, x.strides, x.offset);
    if (x.requiresGrad) {
      previous.requiresGrad = true;
      previous.gradFn = x.gradFn;
    }
    const fn: BackwardFn = (g) => backward(g, previous);
    x.gradFn = new Node(op, [previous, ...others], fn, saved);
    x.requiresGrad = true;
  }
  return x;
}

/** scatter in place: writes src (or the number) into x at index's positions and returns x. */
export function scatter_(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  const d = checkScatter('scatter_', x, dim, index, src);
  const others = src instanceof Tensor ? [src] : [];
  return inPlace(
    'scatter_',
    x,
    others,
    (values) => scatterInto('scatter_', values, x.dtype, shapeOf(x), d, index, src, false),
    (g, previous) => scatterGrads(g, previous, d, index, src),
    [index],
  );
}

/** scatterAdd in place: adds src into x at index's positions and returns x. */
export function scatterAdd_(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = checkScatter('scatterAdd_', x, dim, index, src);
  return inPlace(
    'scatterAdd_',
    x,
    [src],
    (values) => scatterInto('scatterAdd_', values, x.dtype, shapeOf(x), d, index, src, true),
    (g, previous) => scatterAddGrads(g, previous, d, index, src),
    [index],
  );
}

/** indexAdd in place: adds alpha * source into x along dim at the 1-D index and returns x. */
export function indexAdd_(
  x: Tensor,
  dim: number,
  index: Tensor,
  source: Tensor,
  options: IndexAddOptions = {},
): Tensor {
  const alpha = options.alpha ?? 1;
  const [d, indices] = checkIndexAdd('indexAdd_', x, dim, index, source);
  return inPlace(
    'indexAdd_',
    x,
    [source],
    (values) => indexAddInto(values, x, d, indices, source, alpha),
    (g, previous) => indexAddGrads(g, previous, d, index, source, alpha),
    [index],
  );
}
