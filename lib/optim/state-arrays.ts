/** What the elementwise optimizers (RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam) share. */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import type { ParamState } from './optimizer.js';

/**
 * The dense arrays of `p`'s state tensors `names`, each created like `p` and filled with `fill` on
 * first use. State tensors are the optimizer's own dense tensors, so each array is a view the update
 * writes through.
 */
export function stateArrays(state: ParamState, p: Tensor, names: readonly string[], fill = 0): FloatArray[] {
  return names.map((name) => {
    if (!(name in state)) {
      const t = zerosTensor(p.shape, p.dtype);
      if (fill !== 0) denseArray(t).fill(fill);
      state[name] = t;
    }
    return denseArray(state[name] as Tensor);
  });
}

/** Increments and returns `state.step`, the count PyTorch keeps (0 before the first step). */
export function nextStep(state: ParamState): number {
  state.step = ((state.step as number | undefined) ?? 0) + 1;
  return state.step;
}

/**
 * Rounding to the parameter's precision: PyTorch materializes some intermediates (the decayed
 * gradient, a square root) as tensors of the parameter's dtype, so float32 rounds them there too.
 */
export function roundingOf(values: FloatArray): (v: number) => number {
  return values instanceof Float32Array ? Math.fround : (v: number) => v;
}
