/** PReLU composed from relu: max(0, x) − weight · max(0, −x), with weight per channel (dim 1). */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, mul, neg, relu } from './elementwise.js';
import { reshape } from './shape.js';

/**
 * x where x > 0, weight · x elsewhere, as `torch.nn.functional.prelu`. weight has 1 element (shared)
 * or one per channel (dim 1 of x; inputs with fewer than 2 dims have one channel).
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const channels = x.ndim >= 2 ? x.shape[1] : 1;
  if (weight.ndim > 1 || (weight.numel !== 1 && weight.numel !== channels)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `prelu: expected weight of 1 element or ${channels} (the channels of input ${formatShape(x.shape)}), got ${formatShape(weight.shape)}`,
    );
  }
  const shaped =
    weight.numel === 1 || x.ndim < 2
      ? reshape(weight, [])
      : reshape(weight, [1, channels, ...Array.from({ length: x.ndim - 2 }, () => 1)]);
  return add(relu(x), mul(shaped, neg(relu(neg(x)))));
}
