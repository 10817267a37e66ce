/**
 * clamp with tensor bounds (broadcast against x). The gradients follow PyTorch's clamp_backward:
 * x receives the gradient where min <= x <= max, min where x < min (and min < max), max where
 * x > max (or max < min, where the result is max whatever x is).
 */
import type { DType } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { broadcastShapes, type Shape } from '../tensor/shape.js';
import { full } from '../tensor/creation.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { sumToShape } from './reduce.js';
import { denseCopy, expand, to } from './shape.js';

type Bound = Tensor | number | null | undefined;

function promoted(values: (Tensor | number)[]): DType {
  const dtypes = values.map((v) => (v instanceof Tensor ? v.dtype : Number.isInteger(v) ? 'int32' : 'float32'));
  if (dtypes.includes('float64')) return 'float64';
  return dtypes.includes('float32') ? 'float32' : 'int32';
}

function valuesAt(t: Tensor, shape: Shape): ArrayLike<number> {
  return denseCopy(expand(t, shape)).storage.data;
}

/** g (of `shape`) where keep(i) holds, 0 elsewhere (PyTorch's where(cond, g, 0), not g * mask). */
function keepWhere(g: Tensor, shape: Shape, keep: (i: number) => boolean, target: Shape): Tensor {
  const out = denseCopy(expand(g, shape));
  const data = out.storage.data;
  for (let i = 0; i < data.length; i++) if (!keep(i)) data[i] = 0;
  return sumToShape(out, target);
}

/** clamp(x, min, max) where at least one bound is a tensor; a number bound acts as a 0-d tensor. */
export function clampTensors(x: Tensor, min: Bound, max: Bound): Tensor {
  const given = [x, ...[min, max].filter((b): b is Tensor | number => b != null)];
  const dtype = promoted(given);
  const asTensor = (b: Bound): Tensor | null =>
    b == null ? null : b instanceof Tensor ? to(b, dtype) : full([], b, { dtype });
  const input = to(x, dtype);
  const lo = asTensor(min);
  const hi = asTensor(max);
  const bounds = [lo, hi].filter((b): b is Tensor => b !== null);
  const shape = bounds.reduce<Shape>((s, b) => broadcastShapes('clamp', s, b.shape), input.shape);
  const xs = valuesAt(input, shape);
  const los = lo ? valuesAt(lo, shape) : null;
  const his = hi ? valuesAt(hi, shape) : null;
  const out = uninitTensor(shape, dtype);
  const data = out.storage.data;
  for (let i = 0; i < data.length; i++) {
    const a = los ? los[i] : -Infinity;
    const b = his ? his[i] : Infinity;
    // A NaN anywhere gives NaN, as PyTorch's kernel does.
    data[i] = a !== a || b !== b ? NaN : Math.min(Math.max(xs[i], a), b);
  }
  const inputs = [input, ...bounds];
  return record(
    'clamp',
    out,
    inputs,
    (g) => {
      const below = (i: number): boolean => los !== null && xs[i] < los[i];
      const above = (i: number): boolean => his !== null && xs[i] > his[i];
      const inside = (i: number): boolean => (los === null || xs[i] >= los[i]) && (his === null || xs[i] <= his[i]);
      const grads: (Tensor | null)[] = [input.requiresGrad ? keepWhere(g, shape, inside, input.shape) : null];
      if (lo && los) {
        grads.push(
          lo.requiresGrad ? keepWhere(g, shape, (i) => below(i) && (his === null || los[i] < his[i]), lo.shape) : null,
        );
      }
      if (hi && his) {
        grads.push(
          hi.requiresGrad ? keepWhere(g, shape, (i) => above(i) || (los !== null && his[i] < los[i]), hi.shape) : null,
        );
      }
      return grads;
    },
    inputs,
  );
}
