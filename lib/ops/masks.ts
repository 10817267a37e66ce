/**
 * Selecting by a bool mask: where, maskedFill (and in place), maskedSelect. Gradients flow to the
 * values that were selected and are exactly zero elsewhere, NaN upstream gradients included.
 */
import { isGradEnabled } from '../autograd/grad-mode.js';
import { Node, record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { full } from '../tensor/creation.js';
import { broadcastShapes, sameShape, type Shape } from '../tensor/shape.js';
import { fromArray, uninitTensor, zerosTensor, Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { arrayFor } from '../tensor/storage.js';
import { broadcastAll, checkMask, denseBroadcast, resultType, type ScalarOrTensor } from './compare.js';
import { sumToShape } from './reduce.js';
import { to } from './shape.js';

/** A value as a tensor of `dtype` (a cast of a tensor is recorded, so gradients flow back). */
function asTensor(v: ScalarOrTensor, dtype: Tensor['dtype']): Tensor {
  return v instanceof Tensor ? to(v, dtype) : full([], Number(v), { dtype });
}

/** cond ? x : y over the broadcast `shape`, x and y of one dtype, no autograd. */
function select(cond: Tensor, x: Tensor, y: Tensor, shape: Shape): Tensor {
  const c = denseBroadcast(cond, 'bool', shape);
  const [a, b] = [denseBroadcast(x, x.dtype, shape), denseBroadcast(y, x.dtype, shape)];
  const out = uninitTensor(shape, x.dtype);
  const data = out.storage.data;
  for (let i = 0; i < data.length; i++) data[i] = c[i] ? a[i] : b[i];
  return out;
}

/**
 * Elements of a where cond is true, else of b, broadcast together, as torch.where. cond must be a
 * bool tensor; a and b may be tensors or numbers and promote as in PyTorch. Differentiable in a and b.
 * @example
 * ```ts
 * const y = ng.where(x.gt(0), x, x.mul(0.1)); // a leaky ReLU
 * const masked = ng.where(mask, scores, -Infinity);
 * ```
 */
export function where(cond: Tensor, a: ScalarOrTensor, b: ScalarOrTensor): Tensor {
  checkMask('where', cond, 'condition');
  const dtype = resultType(a, b);
  const [x, y] = [asTensor(a, dtype), asTensor(b, dtype)];
  const shape = broadcastAll('where', [cond, x, y]);
  return record(
    'where',
    select(cond, x, y, shape),
    [x, y],
    (g) => {
      const zero = zerosTensor([], g.dtype);
      return [
        x.requiresGrad ? sumToShape(select(cond, g, zero, g.shape), x.shape) : null,
        y.requiresGrad ? sumToShape(select(cond, zero, g, g.shape), y.shape) : null,
      ];
    },
    [cond],
  );
}

/** The fill value in x's dtype: PyTorch casts it (2.7 into int32 is 2). */
function fillValue(op: string, x: Tensor, value: ScalarOrTensor): Tensor {
  if (value instanceof Tensor) {
    if (value.ndim !== 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${op}: expected a number or a 0-d value tensor, got a tensor of shape ${formatShape(value.shape)}`,
      );
    }
    return to(value, x.dtype);
  }
  const v = Number(value);
  return full([], x.dtype === 'int32' && Number.isFinite(v) ? Math.trunc(v) : v, { dtype: x.dtype });
}

function checkMaskShape(op: string, x: Tensor, mask: Tensor): void {
  checkMask(op, mask);
  if (!sameShape(broadcastShapes(op, mask.shape, x.shape), x.shape)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: mask of shape ${formatShape(mask.shape)} cannot be broadcast to the tensor's shape ${formatShape(x.shape)}`,
    );
  }
}

/** A copy of x with `value` where mask (broadcast to x's shape) is true. Differentiable in x and a tensor value. */
export function maskedFill(x: Tensor, mask: Tensor, value: ScalarOrTensor): Tensor {
  checkMaskShape('maskedFill', x, mask);
  return where(mask, fillValue('maskedFill', x, value), x);
}

/** maskedFill in place: writes `value` into x where mask is true and returns x. */
export function maskedFill_(x: Tensor, mask: Tensor, value: number | boolean): Tensor {
  checkMaskShape('maskedFill_', x, mask);
  const recording = isGradEnabled() && x.requiresGrad;
  if (recording && x.isLeaf) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      'maskedFill_: a leaf tensor that requires grad cannot be modified in place; use maskedFill() or detach() first',
    );
  }
  const fill = fillValue('maskedFill_', x, value).item();
  const m = denseBroadcast(mask, 'bool', x.shape);
  writeInPlace('maskedFill_', x, (values) => {
    for (let i = 0; i < values.length; i++) if (m[i]) values[i] = fill;
  });
  if (recording) {
    // `previous` carries x's history up to now; x becomes the output of this op.
    const previous = new Tensor(x.storage, x.shape, x.strides, x.offset);
    previous.gradFn = x.gradFn;
    previous.requiresGrad = true;
    x.gradFn = new Node('maskedFill_', [previous], (g) => [select(mask, zerosTensor([], g.dtype), g, g.shape)], [mask]);
  }
  return x;
}

/** The elements of x where mask is true (both broadcast together), as a 1-D tensor. Differentiable. */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  checkMask('maskedSelect', mask);
  const shape = broadcastShapes('maskedSelect', x.shape, mask.shape);
  const [v, m] = [denseBroadcast(x, x.dtype, shape), denseBroadcast(mask, 'bool', shape)];
  let count = 0;
  for (let i = 0; i < m.length; i++) count += m[i];
  const positions = new Float64Array(count);
  const values = arrayFor(x.dtype, count);
  for (let i = 0, j = 0; i < m.length; i++) {
    if (m[i]) {
      positions[j] = i;
      values[j++] = v[i];
    }
  }
  return record('maskedSelect', fromArray(values, [count]), [x], (g) => {
    const grad = zerosTensor(shape, g.dtype);
    const gv = denseBroadcast(g, g.dtype, g.shape);
    const target = grad.storage.data;
    for (let j = 0; j < count; j++) target[positions[j]] = gv[j];
    return [sumToShape(grad, x.shape)];
  });
}
