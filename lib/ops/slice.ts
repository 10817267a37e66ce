/**
 * Index specs and their plan. `planIndex` turns PyTorch-style specs (numbers, slices, null, '...',
 * index tensors) into a list of basic steps, which give a strided view of any tensor of the
 * indexed shape, and the advanced (tensor) indices applied to that view afterwards. Plans hold
 * plain arrays only, so a backward can replay one on a gradient of the same shape.
 */
import { getBackend } from '../backend/index.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { tensor } from '../tensor/creation.js';
import { broadcastShapes, numelOf, type Shape } from '../tensor/shape.js';
import { Tensor, type NestedArray } from '../tensor/tensor.js';
import { denseCopy, expand } from './shape.js';
import { maskToIndices } from './compare.js';

/** A Python slice `start:stop:step`; null parts take their defaults. */
export class Slice {
  constructor(
    /** First index (default 0); negative counts from the end. */
    readonly start: number | null,
    /** Index to stop before (default: past the end); negative counts from the end. */
    readonly stop: number | null,
    /** Stride between elements, positive (default 1). */
    readonly step: number | null,
  ) {}

  /** The slice as Python writes it: `1:-1`, `::2`. */
  toString(): string {
    const part = (v: number | null): string => (v === null ? '' : String(v));
    return `${part(this.start)}:${part(this.stop)}${this.step === null ? '' : `:${this.step}`}`;
  }
}

/** `ng.slice(1, -1)` is `x[1:-1]`, `ng.slice(null, null, 2)` is `x[::2]`. */
export function slice(start: number | null = null, stop: number | null = null, step: number | null = null): Slice {
  return new Slice(start, stop, step);
}

/**
 * One index: a number (removes the dim), a slice string like '1:-1:2' or a Slice, null (a new
 * axis of size 1), '...' (every dim not named), an int32 tensor or nested number array, or a bool
 * mask (advanced indexing, which copies).
 */
export type IndexSpec = number | string | Slice | null | Tensor | readonly NestedArray[];

/** How a view is cut from one dim of the source (or a new axis inserted). */
export type BasicStep =
  | { kind: 'select'; dim: number; index: number }
  | { kind: 'slice'; dim: number; start: number; step: number; length: number }
  | { kind: 'newAxis' }
  | { kind: 'keep'; dim: number };

/** An advanced index on dim `viewDim` of the basic view (`sourceDim` of the input). */
export interface AdvancedIndex {
  viewDim: number;
  sourceDim: number;
  /** Broadcast to the plan's indexShape, negatives wrapped, range-checked. */
  indices: Int32Array;
}

export interface IndexPlan {
  steps: BasicStep[];
  /** Shape of the basic view. */
  viewShape: number[];
  advanced: AdvancedIndex[];
  /** The broadcast shape of all advanced indices. */
  indexShape: number[];
  /** Shape of the result: the view's, with the advanced dims replaced by indexShape. */
  resultShape: number[];
  /** Whether the advanced dims are adjacent, so their result dims stay in place (else they lead). */
  adjacent: boolean;
}

/**
 * Bool masks: each mask dim becomes one int32 index tensor (the mask's nonzero coordinates), as
 * PyTorch's x[mask]; planIndex checks the mask's sizes against the dims it covers.
 */
export function maskSpecToIndices(mask: Tensor): Tensor[] {
  if (mask.dtype !== 'bool') {
    throw new NodegradError(
      'ERR_NODEGRAD_DTYPE',
      `index: tensors used as indices must be int32 or bool masks, got ${mask.dtype} of shape ${formatShape(mask.shape)}`,
    );
  }
  if (mask.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_SHAPE', 'index: a 0-d bool mask is not supported; index with a 1-d mask');
  }
  return maskToIndices(mask);
}

function parseSliceString(op: string, text: string): Slice {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: '${text}' is not an index; expected a slice 'start:stop:step' (parts optional), '...' or a number`,
    );
  }
  const values = parts.map((p) => {
    const s = p.trim();
    if (s === '') return null;
    const v = Number(s);
    if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(v)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: slice '${text}' has '${s}', expected an integer or nothing`,
      );
    }
    return v;
  });
  return new Slice(values[0], values[1], values[2] ?? null);
}

/** Python's slice.indices for a positive step: start/stop wrapped and clamped to [0, size]. */
function resolveSlice(
  op: string,
  s: Slice,
  size: number,
  dim: number,
): { start: number; step: number; length: number } {
  for (const v of [s.start, s.stop, s.step]) {
    if (v !== null && !Number.isInteger(v)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${op}: slice ${s.toString()} at dim ${dim} has a non-integer part ${v}`,
      );
    }
  }
  const step = s.step ?? 1;
  if (step === 0)
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: slice ${s.toString()} at dim ${dim} has step 0`);
  if (step < 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: slice ${s.toString()} at dim ${dim} has a negative step, which PyTorch does not allow either; use flip() to reverse`,
    );
  }
  const clampBound = (v: number | null, fallback: number): number => {
    if (v === null) return fallback;
    const w = v < 0 ? v + size : v;
    return Math.min(Math.max(w, 0), size);
  };
  const start = clampBound(s.start, 0);
  const stop = clampBound(s.stop, size);
  return { start, step, length: stop > start ? Math.ceil((stop - start) / step) : 0 };
}

function wrapIndex(op: string, value: number, size: number, dim: number, shape: Shape): number {
  if (!Number.isInteger(value) || value < -size || value >= size) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: index ${value} is out of range for dim ${dim} of size ${size} (shape ${formatShape(shape)})`,
    );
  }
  return value < 0 ? value + size : value;
}

type Parsed =
  | { kind: 'number'; value: number }
  | { kind: 'slice'; slice: Slice }
  | { kind: 'newAxis' }
  | { kind: 'ellipsis' }
  | { kind: 'tensor'; index: Tensor; maskSize?: number };

/** A nested number array as an int32 index tensor, with the error naming the indexing op. */
function arrayIndex(op: string, spec: NestedArray[]): Tensor {
  try {
    return tensor(spec, { dtype: 'int32' });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: an index array must be a (nested) array of integers; ${reason}`,
    );
  }
}

function parseSpec(op: string, spec: IndexSpec): Parsed[] {
  if (spec === null) return [{ kind: 'newAxis' }];
  if (typeof spec === 'number') return [{ kind: 'number', value: spec }];
  if (typeof spec === 'string') {
    return spec.trim() === '...' ? [{ kind: 'ellipsis' }] : [{ kind: 'slice', slice: parseSliceString(op, spec) }];
  }
  if (spec instanceof Slice) return [{ kind: 'slice', slice: spec }];
  if (spec instanceof Tensor) {
    if (spec.dtype === 'float32' || spec.dtype === 'float64') {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `${op}: tensors used as indices must be int32 (or bool masks), got ${spec.dtype} of shape ${formatShape(spec.shape)}`,
      );
    }
    if (spec.dtype !== 'int32') {
      return maskSpecToIndices(spec).map((index, d) => ({ kind: 'tensor', index, maskSize: spec.shape[d] }));
    }
    // PyTorch treats a 0-d integer tensor like a number: the result is a view.
    if (spec.ndim === 0) return [{ kind: 'number', value: spec.item() }];
    return [{ kind: 'tensor', index: spec }];
  }
  if (Array.isArray(spec)) return [{ kind: 'tensor', index: arrayIndex(op, spec as NestedArray[]) }];
  throw new NodegradError(
    'ERR_NODEGRAD_ARGUMENT',
    `${op}: unsupported index ${String(spec)}; expected a number, a slice, null, '...', an int32 tensor or a number array`,
  );
}

/** The plan for indexing a tensor of `shape` with `specs`, or an error naming `op`. */
export function planIndex(op: string, shape: Shape, specs: readonly IndexSpec[]): IndexPlan {
  const only = specs.length === 1 ? specs[0] : null;
  if (only instanceof Tensor && only.dtype === 'int32' && only.ndim > 0 && shape.length > 0) {
    // x[idx], the common case: every dim kept, the first one indexed.
    const steps: BasicStep[] = shape.map((_, dim) => ({ kind: 'keep', dim }));
    const viewShape = [...shape];
    return { steps, viewShape, ...planAdvanced(op, shape, viewShape, [{ viewDim: 0, sourceDim: 0, index: only }]) };
  }
  const parsed = specs.flatMap((s) => parseSpec(op, s));
  const ellipses = parsed.filter((p) => p.kind === 'ellipsis').length;
  if (ellipses > 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: an index can only have a single ellipsis ('...'), got ${ellipses}`,
    );
  }
  const consumed = parsed.filter((p) => p.kind !== 'newAxis' && p.kind !== 'ellipsis').length;
  if (consumed > shape.length) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: too many indices for a tensor of shape ${formatShape(shape)}: ${consumed} dims indexed, the tensor has ${shape.length}`,
    );
  }
  const steps: BasicStep[] = [];
  const viewShape: number[] = [];
  const pending: { viewDim: number; sourceDim: number; index: Tensor }[] = [];
  let dim = 0;
  for (const p of parsed) {
    if (p.kind === 'newAxis') {
      steps.push({ kind: 'newAxis' });
      viewShape.push(1);
    } else if (p.kind === 'ellipsis') {
      for (const end = dim + shape.length - consumed; dim < end; dim++) {
        steps.push({ kind: 'keep', dim });
        viewShape.push(shape[dim]);
      }
    } else if (p.kind === 'number') {
      steps.push({ kind: 'select', dim, index: wrapIndex(op, p.value, shape[dim], dim, shape) });
      dim++;
    } else if (p.kind === 'slice') {
      const s = resolveSlice(op, p.slice, shape[dim], dim);
      steps.push({ kind: 'slice', dim, ...s });
      viewShape.push(s.length);
      dim++;
    } else {
      if (p.maskSize !== undefined && p.maskSize !== shape[dim]) {
        throw new NodegradError(
          'ERR_NODEGRAD_SHAPE',
          `${op}: the mask's size ${p.maskSize} does not match size ${shape[dim]} of dim ${dim} of the indexed tensor ${formatShape(shape)}`,
        );
      }
      pending.push({ viewDim: viewShape.length, sourceDim: dim, index: p.index });
      steps.push({ kind: 'keep', dim });
      viewShape.push(shape[dim]);
      dim++;
    }
  }
  for (; dim < shape.length; dim++) {
    steps.push({ kind: 'keep', dim });
    viewShape.push(shape[dim]);
  }
  return { steps, viewShape, ...planAdvanced(op, shape, viewShape, pending) };
}

/**
 * The index's int32 values broadcast to `indexShape`, row-major: a view of its storage when it is
 * already dense (`owned` false: the caller copies before writing), else a fresh array.
 */
function indexArray(index: Tensor, indexShape: Shape): { values: Int32Array; owned: boolean } {
  const data = index.storage.data as Int32Array;
  assertReadable('indexing with a tensor index', data);
  if (index.isContiguous() && index.shape.length === indexShape.length && index.numel === numelOf(indexShape)) {
    return { values: data.subarray(index.offset, index.offset + index.numel), owned: false };
  }
  const values = denseCopy(expand(index, indexShape)).storage.data as Int32Array;
  assertReadable('indexing with a broadcast tensor index', values);
  return { values, owned: true };
}

function planAdvanced(
  op: string,
  shape: Shape,
  viewShape: number[],
  pending: { viewDim: number; sourceDim: number; index: Tensor }[],
): Omit<IndexPlan, 'steps' | 'viewShape'> {
  if (pending.length === 0) return { advanced: [], indexShape: [], resultShape: viewShape, adjacent: true };
  let indexShape: number[] = [...pending[0].index.shape];
  for (const p of pending.slice(1)) {
    try {
      indexShape = broadcastShapes(op, indexShape, p.index.shape);
    } catch {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: shape mismatch: index tensors of shapes ${pending.map((q) => formatShape(q.index.shape)).join(', ')} cannot be broadcast together`,
      );
    }
  }
  const advanced = pending.map(({ viewDim, sourceDim, index }) => {
    let { values: indices, owned } = indexArray(index, indexShape);
    const size = shape[sourceDim];
    const first = getBackend().firstOutOfRange(indices, size);
    for (let i = first < 0 ? indices.length : first; i < indices.length; i++) {
      const value = indices[i];
      if (value >= 0 && value < size) continue;
      if (!owned) {
        indices = indices.slice();
        owned = true;
      }
      indices[i] = wrapIndex(op, value, size, sourceDim, shape);
    }
    // A view of the index tensor's storage: whoever keeps the plan past this call (a backward)
    // copies it first (see IndexPlan.advanced).
    return { viewDim, sourceDim, indices };
  });
  const dims = advanced.map((a) => a.viewDim);
  const adjacent = dims[dims.length - 1] - dims[0] === dims.length - 1;
  const rest = viewShape.filter((_, d) => !dims.includes(d));
  const resultShape = adjacent
    ? [...viewShape.slice(0, dims[0]), ...indexShape, ...viewShape.slice(dims[dims.length - 1] + 1)]
    : [...indexShape, ...rest];
  return { advanced, indexShape, resultShape, adjacent };
}
