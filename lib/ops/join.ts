/** Joining and selecting along a dim: cat, stack, indexSelect. */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { assertReadable } from '../tensor/deferral.js';
import { normalizeDim, numelOf } from '../tensor/shape.js';
import { zerosTensor, uninitTensor, Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/creation.js';
import { denseCopy, narrow, narrowRaw, to, unsqueeze } from './shape.js';

/** Concatenates tensors of equal shape except along `dim`. Backward slices the gradient. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'cat: expected a non-empty list of tensors');
  }
  const first = tensors[0];
  const d = normalizeDim('cat', dim, first.ndim);
  const dtype = tensors.some((t) => t.dtype === 'float64')
    ? 'float64'
    : tensors.some((t) => t.dtype === 'float32')
      ? 'float32'
      : tensors.some((t) => t.dtype === 'int32')
        ? 'int32'
        : 'bool';
  const inputs = tensors.map((t) => to(t, dtype));
  for (const [i, t] of inputs.entries()) {
    const same = t.ndim === first.ndim && t.shape.every((s, j) => j === d || s === first.shape[j]);
    if (!same) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `cat: tensor ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} except along dim ${d}`,
      );
    }
  }
  const shape = [...first.shape];
  shape[d] = inputs.reduce((s, t) => s + t.shape[d], 0);
  const out = uninitTensor(shape, dtype);
  const starts: number[] = [];
  let start = 0;
  for (const t of inputs) {
    starts.push(start);
    const slice = narrowRaw(out, d, start, t.shape[d]);
    getBackend().copyStrided(
      t.shape,
      { data: t.storage.data, offset: t.offset, strides: t.strides },
      { data: slice.storage.data, offset: slice.offset, strides: slice.strides },
    );
    start += t.shape[d];
  }
  return record('cat', out, inputs, (g) =>
    inputs.map((t, i) => (t.requiresGrad ? narrow(g, d, starts[i], t.shape[d]) : null)),
  );
}

/** Stacks equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'stack: expected a non-empty list of tensors');
  }
  const shape = tensors[0].shape;
  for (const [i, t] of tensors.entries()) {
    if (t.ndim !== shape.length || t.shape.some((s, j) => s !== shape[j])) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `stack: tensor ${i} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)} like tensor 0`,
      );
    }
  }
  const d = normalizeDim('stack', dim, shape.length + 1);
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}

/** Every index must be an integer in [0, size): PyTorch's index_select refuses negatives too. */
function checkIndices(indices: ArrayLike<number>, x: Tensor, dim: number, size: number): void {
  assertReadable('indexSelect (its index check)', indices);
  const first = indices instanceof Int32Array ? getBackend().firstOutOfRange(indices, size) : 0;
  for (let i = first < 0 ? indices.length : first; i < indices.length; i++) {
    const value = indices[i];
    if (!Number.isInteger(value) || value < 0 || value >= size) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `indexSelect: index ${value} at position ${i} is invalid; expected an integer in [0, ${size}) ` +
          `for dim ${dim} of size ${size} (shape ${formatShape(x.shape)})`,
      );
    }
  }
}

/** Picks the entries `index` (int32 tensor or number list) along `dim`. Backward scatter-adds. */
export function indexSelect(x: Tensor, dim: number, index: Tensor | readonly number[]): Tensor {
  const d = normalizeDim('indexSelect', dim, x.ndim);
  const size = x.ndim === 0 ? 1 : x.shape[d];
  if (!(index instanceof Tensor)) checkIndices(index, x, d, size);
  const idx = index instanceof Tensor ? index : tensor([...index], { dtype: 'int32' });
  if (idx.dtype !== 'int32' || idx.ndim > 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `indexSelect: expected a 1-D int32 index, got ${idx.dtype} of shape ${formatShape(idx.shape)}`,
    );
  }
  // A view where idx is dense (selectChecked copies what a backward keeps), not a new tensor.
  const indices = idx.isContiguous()
    ? (idx.storage.data as Int32Array).subarray(idx.offset, idx.offset + idx.numel)
    : (denseCopy(idx).storage.data as Int32Array);
  checkIndices(indices, x, d, size);
  return selectChecked(x, d, indices);
}

/**
 * indexSelect with indices already checked to lie in [0, size of dim d): no check, and a copy of
 * the indices only when a backward will read them (they may view a caller's index tensor).
 */
export function selectChecked(x: Tensor, d: number, given: Int32Array): Tensor {
  const indices = isGradEnabled() && x.requiresGrad ? given.slice() : given;
  const size = x.ndim === 0 ? 1 : x.shape[d];
  const shape = x.ndim === 0 ? [indices.length] : [...x.shape];
  if (x.ndim > 0) shape[d] = indices.length;
  const outer = numelOf(x.shape.slice(0, d));
  const inner = numelOf(x.shape.slice(d + 1));
  const dense = x.isContiguous() && x.offset === 0 ? x : denseCopy(x);
  const out = uninitTensor(shape, x.dtype);
  getBackend().indexSelect(dense.storage.data, outer, size, inner, indices, indices.length, out.storage.data);
  return record('indexSelect', out, [x], (g) => {
    const grad = zerosTensor(x.shape, g.dtype);
    const gd = g.isContiguous() && g.offset === 0 ? g : denseCopy(g);
    getBackend().indexAdd(
      gd.storage.data as FloatArray,
      outer,
      indices.length,
      inner,
      indices,
      size,
      grad.storage.data as FloatArray,
    );
    return [grad];
  });
}
