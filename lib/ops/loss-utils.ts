/**
 * What every loss shares: the reduction, the same-shape check and float targets. Internal to
 * lib/ops (not re-exported as public API).
 */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { mean, sum } from './reduce.js';
import { to } from './shape.js';

/** How a loss combines its per-element values, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

/** The reduction option of the losses. */
export interface ReductionOptions {
  /** 'mean' (default), 'sum', or 'none' for the per-element losses. */
  reduction?: Reduction;
}

/** `reduction` when it is 'mean', 'sum' or 'none'; else throws naming `op`. */
export function checkReduction(op: string, reduction: string): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`,
    );
  }
  return reduction;
}

/** The per-element losses `x` combined as `reduction` says. */
export function applyReduction(x: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return mean(x);
  if (reduction === 'sum') return sum(x);
  return x;
}

/** Throws naming `op` unless `target` has `input`'s shape. */
export function sameShapes(op: string, input: Tensor, target: Tensor, what = 'target'): void {
  if (input.ndim !== target.ndim || input.shape.some((s, i) => s !== target.shape[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: ${what} shape ${formatShape(target.shape)} does not match input shape ${formatShape(input.shape)}`,
    );
  }
}

/** `target` in the input's float dtype (float32 for an int32 input). */
export function floatTarget(input: Tensor, target: Tensor): Tensor {
  return to(target, input.dtype === 'int32' ? 'float32' : input.dtype);
}

/** `x` itself when float, else converted to float32. */
export function floatTensor(x: Tensor): Tensor {
  return x.dtype === 'int32' || x.dtype === 'bool' ? to(x, 'float32') : x;
}
