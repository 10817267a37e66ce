/**
 * An eval-mode batch norm after a convolution is a per-output-channel affine map, so without grad
 * the pair (and a ReLU after it) runs as one convolution with folded weights and bias: W' = W·a,
 * b' = b·a + (β − mean·a), a = γ / √(var + eps). The folded tensors are cached per convolution and
 * rebuilt when any source tensor is replaced or written (its storage version changes).
 */
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { add, div, mul, sqrt, sub } from '../ops/elementwise.js';
import { conv2d } from '../ops/conv.js';
import { reshape } from '../ops/shape.js';
import { trackAllocations } from '../tensor/storage.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BatchNormBase } from './batchnorm.js';
import type { Conv2d } from './layers.js';

interface Folded {
  /** What the folded tensors were computed from: each source's storage, version and offset. */
  stamp: readonly unknown[];
  weight: Tensor;
  bias: Tensor;
}

const cache = new WeakMap<Conv2d, Folded>();

function stampOf(conv: Conv2d, bn: BatchNormBase): unknown[] {
  const sources = [conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var];
  return [bn, bn.eps, ...sources.flatMap((t) => (t ? [t.storage, t.storage.version, t.offset] : [null]))];
}

/**
 * Whether `bn` (in eval mode, with running statistics) can fold into `conv` right now: no grad is
 * recorded and every tensor has the convolution's float dtype.
 */
export function foldsIntoConv(conv: Conv2d, bn: BatchNormBase): boolean {
  if (bn.training || isGradEnabled() || !bn.running_mean || !bn.running_var) return false;
  if (bn.numFeatures !== conv.outChannels) return false;
  const dtype = conv.weight.dtype;
  return [conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var].every((t) => !t || t.dtype === dtype);
}

/**
 * Computes the folded tensors outside any allocation scope (an inferenceMode forward or ng.tidy would
 * release them on return): they are cached state, kept like parameters.
 */
function fold(conv: Conv2d, bn: BatchNormBase, stamp: readonly unknown[]): Folded {
  const outer = trackAllocations(null);
  try {
    const folded = computeFolded(conv, bn, stamp);
    folded.weight.storage.kept = true;
    folded.bias.storage.kept = true;
    return folded;
  } finally {
    trackAllocations(outer);
  }
}

function computeFolded(conv: Conv2d, bn: BatchNormBase, stamp: readonly unknown[]): Folded {
  return noGrad(() => {
    const runningMean = bn.running_mean as Tensor;
    const runningVar = bn.running_var as Tensor;
    const inverse = div(1, sqrt(add(runningVar, bn.eps)));
    const scale = bn.weight ? mul(bn.weight, inverse) : inverse;
    const shift = sub(bn.bias ?? 0, mul(runningMean, scale));
    const weight = mul(conv.weight, reshape(scale, [scale.shape[0], 1, 1, 1]));
    const bias = conv.bias ? add(mul(conv.bias, scale), shift) : shift;
    return { stamp, weight, bias };
  });
}

/**
 * bn(conv(x)) (then ReLU) as one convolution with the folded weights; the caller checked
 * {@link foldsIntoConv}. Values equal the two layers' up to float rounding.
 */
export function convBatchNorm(conv: Conv2d, bn: BatchNormBase, x: Tensor, relu: boolean): Tensor {
  const stamp = stampOf(conv, bn);
  let folded = cache.get(conv);
  if (!folded || folded.stamp.length !== stamp.length || folded.stamp.some((v, i) => v !== stamp[i])) {
    folded = fold(conv, bn, stamp);
    cache.set(conv, folded);
  }
  const { stride, padding, dilation, groups } = conv.options;
  return conv2d(x, folded.weight, folded.bias, {
    stride,
    padding,
    dilation,
    groups,
    activation: relu ? 'relu' : undefined,
  });
}
