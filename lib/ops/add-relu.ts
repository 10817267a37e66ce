/**
 * relu(a + b) as one pass: a residual block's shortcut addition and the ReLU after it (ResNet's
 * BasicBlock and Bottleneck), writing one output where add then relu write two.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp, type FloatArray } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { add, binaryKernel, relu, reluGrad } from './elementwise.js';
import { denseArray } from './shape.js';

/**
 * max(a + b, 0) elementwise, as PyTorch's `F.relu(a + b)`: the values and gradients of `relu(add(a, b))`.
 * Operands of one shape and one float dtype take the fused kernel; others (broadcasting, int32,
 * mixed dtypes) run as add then relu, with add's broadcasting and promotion rules.
 */
export function addRelu(a: Tensor, b: Tensor): Tensor {
  const sameShape = a.ndim === b.ndim && a.shape.every((s, i) => s === b.shape[i]);
  if (!sameShape || a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'float64')) return relu(add(a, b));
  const out = uninitTensor(a.shape, a.dtype);
  getBackend().addRelu(out.numel, denseArray(a), denseArray(b), out.storage.data as FloatArray);
  // Under createGraph (grad recording) the composed form keeps the gradient differentiable.
  return record(
    'addRelu',
    out,
    [a, b],
    (g) => {
      const masked = isGradEnabled() ? reluGrad(g, out) : binaryKernel('addRelu', BinaryOp.ReluBackward, g, out);
      return [a.requiresGrad ? masked : null, b.requiresGrad ? masked : null];
    },
    [out],
  );
}
