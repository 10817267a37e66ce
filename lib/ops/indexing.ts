/**
 * PyTorch indexing: `index` (x[...]) and `indexPut_` / `indexPut` (x[...] = value). Basic specs
 * give a view sharing storage; advanced (tensor) indices gather a copy, composed from reshape,
 * permute and indexSelect, whose backward scatter-adds duplicates. Indexed writes run the
 * backend's indexPut (adjacent indexed dims) or indexPutAt (separated ones).
 */
import { getBackend } from '../backend/index.js';
import type { DataArray } from '../backend/types.js';
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { Node, record, type BackwardFn } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { contiguousStrides, numelOf, type Shape } from '../tensor/shape.js';
import { zerosTensor, Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { selectChecked } from './join.js';
import { sumToShape } from './reduce.js';
import { clone, denseCopy, expand, permute, reshape, to } from './shape.js';
import { planIndex, type BasicStep, type IndexPlan, type IndexSpec } from './slice.js';

/** Options of {@link indexPut_} and {@link indexPut}. */
export interface IndexPutOptions {
  /** Add the values into the indexed elements (duplicates add up) instead of overwriting them. */
  accumulate?: boolean;
}

/** The view the basic steps cut from t (no autograd). */
function basicView(t: Tensor, steps: readonly BasicStep[]): Tensor {
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = t.offset;
  for (const s of steps) {
    if (s.kind === 'select') {
      offset += s.index * t.strides[s.dim];
    } else if (s.kind === 'slice') {
      offset += s.start * t.strides[s.dim];
      shape.push(s.length);
      strides.push(s.step * t.strides[s.dim]);
    } else if (s.kind === 'newAxis') {
      shape.push(1);
      strides.push(0);
    } else {
      shape.push(t.shape[s.dim]);
      strides.push(t.strides[s.dim]);
    }
  }
  return new Tensor(t.storage, shape, strides, offset);
}

function isIdentity(steps: readonly BasicStep[], ndim: number): boolean {
  return steps.length === ndim && steps.every((s) => s.kind === 'keep');
}

/** The basic view, differentiable: its backward copies the gradient into zeros of x's shape. */
function recordedView(x: Tensor, steps: readonly BasicStep[]): Tensor {
  if (isIdentity(steps, x.ndim)) return x;
  return record('index', basicView(x, steps), [x], (g) => {
    const full = zerosTensor(x.shape, g.dtype);
    const slot = basicView(full, steps);
    getBackend().copyStrided(
      g.shape,
      { data: g.storage.data, offset: g.offset, strides: g.strides },
      { data: slot.storage.data, offset: slot.offset, strides: slot.strides },
    );
    return [full];
  });
}

/** Row-major flat positions into all advanced dims together, one per index element. */
function linearIndices(plan: IndexPlan, view: Shape): Int32Array {
  if (plan.advanced.length === 1) return plan.advanced[0].indices;
  const n = numelOf(plan.indexShape);
  const out = new Int32Array(n);
  for (const { viewDim, indices } of plan.advanced) {
    for (let i = 0; i < n; i++) out[i] = out[i] * view[viewDim] + indices[i];
  }
  return out;
}

/** The advanced gather on the basic view v: adjacent dims are merged in place, separated ones moved first. */
function gather(v: Tensor, plan: IndexPlan): Tensor {
  const dims = plan.advanced.map((a) => a.viewDim);
  const merged = numelOf(dims.map((d) => v.shape[d]));
  const rest = v.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  // Positions come from the plan, already checked against their dims: the select skips its checks.
  const lin = linearIndices(plan, v.shape);
  if (plan.adjacent) {
    const first = dims[0];
    const last = dims[dims.length - 1];
    const flatShape = [...v.shape.slice(0, first), merged, ...v.shape.slice(last + 1)];
    return reshape(selectChecked(reshape(v, flatShape), first, lin), plan.resultShape);
  }
  const front = permute(v, [...dims, ...rest]);
  const flat = reshape(front, [merged, ...rest.map((d) => v.shape[d])]);
  return reshape(selectChecked(flat, 0, lin), plan.resultShape);
}

function indexWithPlan(x: Tensor, plan: IndexPlan): Tensor {
  const view = recordedView(x, plan.steps);
  return plan.advanced.length === 0 ? view : gather(view, plan);
}

/**
 * x[...specs], as PyTorch's `x[...]`: `index(x, ':', -1)` is `x[:, -1]`, `index(x, idx)` is `x[idx]`.
 * Numbers, slices, null and '...' alone give a view sharing x's storage; index tensors, arrays or
 * bool masks give a copy (advanced indexing, with PyTorch's placement of the indexed dims). See
 * Tensor.index for examples.
 */
export function index(x: Tensor, ...specs: IndexSpec[]): Tensor {
  return indexWithPlan(x, planIndex('index', x.shape, specs));
}

/** Row-major storage offsets of a strided block of `shape`. */
function offsetsOf(shape: Shape, strides: readonly number[]): Int32Array {
  const out = new Int32Array(numelOf(shape));
  let filled = out.length > 0 ? 1 : 0;
  for (let d = shape.length - 1; d >= 0 && filled > 0; d--) {
    const block = out.slice(0, filled);
    for (let i = 1; i < shape[d]; i++) {
      for (let j = 0; j < filled; j++) out[i * filled + j] = block[j] + i * strides[d];
    }
    filled *= shape[d];
  }
  return out;
}

/** Adds or writes `run` consecutive elements: typed-array set copies a whole run at once. */
function putRun(
  dense: DataArray,
  at: number,
  values: DataArray | number,
  from: number,
  run: number,
  accumulate: boolean,
): void {
  if (typeof values === 'number') {
    if (!accumulate) dense.fill(values, at, at + run);
    else for (let r = 0; r < run; r++) dense[at + r] += values;
  } else if (!accumulate) {
    dense.set(values.subarray(from, from + run), at);
  } else {
    for (let r = 0; r < run; r++) dense[at + r] += values[from + r];
  }
}

/** A new array of `like`'s type holding `length` copies of value. */
function filled(like: DataArray, length: number, value: number): DataArray {
  const Ctor = like.constructor as new (length: number) => DataArray;
  return new Ctor(length).fill(value);
}

/**
 * Writes (or adds) `values`, laid out in the plan's result shape, into the dense elements of the
 * view. The dims after the last advanced one form contiguous runs, copied whole.
 */
function scatter(
  dense: DataArray,
  viewShape: Shape,
  plan: IndexPlan,
  values: DataArray | number,
  accumulate: boolean,
): void {
  const strides = contiguousStrides(viewShape);
  const dims = plan.advanced.map((a) => a.viewDim);
  const last = dims[dims.length - 1];
  const run = numelOf(viewShape.slice(last + 1));
  const rest = viewShape.map((_, d) => d).filter((d) => d < last && !dims.includes(d));
  const n = numelOf(plan.indexShape);
  if (plan.adjacent) {
    // The view is [outer, advanced dims merged, run]: one indexPut, duplicates in index order.
    const outer = numelOf(rest.map((d) => viewShape[d]));
    const from = typeof values === 'number' ? filled(dense, outer * n * run, values) : values;
    getBackend().indexPut(
      from,
      outer,
      n,
      run,
      linearIndices(plan, viewShape),
      numelOf(dims.map((d) => viewShape[d])),
      dense,
      accumulate,
    );
    return;
  }
  // Separated advanced dims lead the result: values are [n, rest dims..., run].
  const heads = offsetsOf(
    rest.map((d) => viewShape[d]),
    rest.map((d) => strides[d]),
  );
  const advanced = new Int32Array(n);
  for (const { viewDim, indices } of plan.advanced) {
    for (let i = 0; i < n; i++) advanced[i] += indices[i] * strides[viewDim];
  }
  const from = typeof values === 'number' ? filled(dense, n * heads.length * run, values) : values;
  getBackend().indexPutAt(from, n, advanced, heads.length, heads, run, dense, accumulate);
}

/** Writes (or adds) values in the plan's result shape into the dense elements of its basic view. */
function put(dense: DataArray, plan: IndexPlan, values: DataArray | number, accumulate: boolean): void {
  if (plan.advanced.length > 0) scatter(dense, plan.viewShape, plan, values, accumulate);
  else putRun(dense, 0, values, 0, dense.length, accumulate);
}

/** The value as a dense array in the result shape, cast to x's dtype; PyTorch drops its leading 1s. */
function valuesFor(op: string, value: Tensor, resultShape: Shape, target: Tensor): DataArray {
  let shape = [...value.shape];
  while (shape.length > resultShape.length && shape[0] === 1) shape = shape.slice(1);
  const lead = resultShape.length - shape.length;
  const fits = lead >= 0 && shape.every((s, i) => s === 1 || s === resultShape[lead + i]);
  if (!fits) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: shape mismatch: value tensor of shape ${formatShape(value.shape)} cannot be broadcast to indexing result of shape ${formatShape(resultShape)}`,
    );
  }
  // A contiguous value of the result's shape is read in place, unless it may overlap the target.
  if (
    value.isContiguous() &&
    shape.length === resultShape.length &&
    shape.every((s, i) => s === resultShape[i]) &&
    value.storage !== target.storage
  ) {
    return value.storage.data.subarray(value.offset, value.offset + value.numel);
  }
  return noGrad(() => denseCopy(expand(reshape(value, shape), resultShape)).storage.data);
}

/**
 * x[...specs] = value, in place; returns x. `value` (a number, or a tensor broadcast to the
 * indexed shape) is cast to x's dtype. With `accumulate`, values add up, duplicate indices too.
 * Gradients flow to value (the indexed part of the gradient) and to the elements x keeps. As
 * PyTorch's `x[...] = value` and torch.Tensor.index_put_; see Tensor.indexPut_ for examples.
 */
export function indexPut_(
  x: Tensor,
  specs: readonly IndexSpec[],
  value: Tensor | number,
  options: IndexPutOptions = {},
): Tensor {
  const op = 'indexPut_';
  if (!Array.isArray(specs)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected an array of index specs, e.g. [':', -1], got ${String(specs)}`,
    );
  }
  if (!(value instanceof Tensor) && typeof value !== 'number') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected a tensor or a number as the value, got ${String(value)}`,
    );
  }
  const accumulate = options.accumulate ?? false;
  const plan = planIndex(op, x.shape, specs);
  const source = value instanceof Tensor ? to(value, x.dtype) : null;
  if (isGradEnabled() && x.requiresGrad && x.isLeaf) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${op}: a leaf tensor that requires grad cannot be modified in place; use indexPut() or run it inside noGrad()`,
    );
  }
  const values = source ? valuesFor(op, source, plan.resultShape, x) : (value as number);
  const target = basicView(x, plan.steps);
  writeInPlace(op, target, (dense) => put(dense, plan, values, accumulate));
  if (isGradEnabled() && (x.requiresGrad || source?.requiresGrad)) recordPut(x, plan, source, accumulate);
  return x;
}

/** x takes a new node whose inputs are its own history before the write and the value. */
function recordPut(x: Tensor, given: IndexPlan, source: Tensor | null, accumulate: boolean): void {
  // The plan's indices may view the caller's index tensors: the backward keeps its own copy.
  const plan = { ...given, advanced: given.advanced.map((a) => ({ ...a, indices: a.indices.slice() })) };
  const previous = new Tensor(x.storage, x.shape, x.strides, x.offset);
  previous.gradFn = x.gradFn;
  if (x.requiresGrad) previous.requiresGrad = true;
  const inputs = source ? [previous, source] : [previous];
  const fn: BackwardFn = (g) => {
    let gx: Tensor | null = null;
    if (previous.requiresGrad) {
      gx = accumulate ? g : denseCopy(g);
      if (!accumulate) writeInPlace('indexPut_', basicView(gx, plan.steps), (d) => put(d, plan, 0, false));
    }
    if (!source?.requiresGrad) return [gx];
    const picked = indexWithPlan(g, plan);
    return [gx, reshape(sumToShape(picked, trimmedShape(source.shape, picked.ndim)), source.shape)];
  };
  x.requiresGrad = true;
  x.gradFn = new Node('indexPut_', inputs, fn, []);
}

/** The value's shape without the leading 1s that do not fit the result's rank. */
function trimmedShape(shape: Shape, rank: number): Shape {
  let out = [...shape];
  while (out.length > rank && out[0] === 1) out = out.slice(1);
  return out;
}

/** The out-of-place indexPut_: a copy of x with x[...specs] = value. */
export function indexPut(
  x: Tensor,
  specs: readonly IndexSpec[],
  value: Tensor | number,
  options: IndexPutOptions = {},
): Tensor {
  const copy = clone(x);
  return indexPut_(copy, specs, value, options);
}

export { slice, Slice, type IndexSpec } from './slice.js';
