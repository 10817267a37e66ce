/** The gated linear unit, composed: the first half of a dim times the sigmoid of the second. */
import { NodegradError, formatShape } from '../errors.js';
import { normalizeDim } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { mul, sigmoid } from './elementwise.js';
import { narrow } from './shape.js';

/**
 * a · σ(b) where a and b are the two halves of x along `dim` (default -1), as
 * `torch.nn.functional.glu`. The size of dim must be even; the output has half of it.
 */
export function glu(x: Tensor, dim = -1): Tensor {
  const d = normalizeDim('glu', dim, x.ndim);
  const size = x.ndim === 0 ? 0 : x.shape[d];
  if (x.ndim === 0 || size % 2 !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `glu: expected an even size along dim ${dim}, got input of shape ${formatShape(x.shape)}`,
    );
  }
  const half = size / 2;
  return mul(narrow(x, d, 0, half), sigmoid(narrow(x, d, half, half)));
}
