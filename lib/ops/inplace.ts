/**
 * In-place activations. The tensor's storage is overwritten and its version bumped, so any node
 * that saved the old values for its backward throws instead of computing a wrong gradient. The
 * tensor object itself takes the new graph node, with its previous history as the node's input.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp, UnaryOp, type FloatArray } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { Node, type BackwardFn } from '../autograd/node.js';
import { NodegradError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { binaryKernel } from './elementwise.js';

function inPlace(name: string, x: Tensor, kernel: UnaryOp, backward: (g: Tensor, out: Tensor) => Tensor): Tensor {
  if (x.dtype === 'int32') {
    throw new NodegradError('ERR_NODEGRAD_DTYPE', `${name}: expected a float tensor, got int32`);
  }
  const recording = isGradEnabled() && x.requiresGrad;
  if (recording && x.isLeaf) {
    throw new NodegradError(
      'ERR_NODEGRAD_AUTOGRAD',
      `${name}: a leaf tensor that requires grad cannot be modified in place; use ${name.slice(0, -1)}() or detach() first`,
    );
  }
  writeInPlace(name, x, (values) =>
    getBackend().unary(kernel, values as FloatArray, values as FloatArray, values.length, 0, 0),
  );
  if (recording) {
    // `previous` carries x's history up to now; x becomes the output of this op.
    const previous = new Tensor(x.storage, x.shape, x.strides, x.offset);
    previous.gradFn = x.gradFn;
    previous.requiresGrad = true;
    const out = x;
    const fn: BackwardFn = (g) => [backward(g, out)];
    x.gradFn = new Node(name, [previous], fn, [out]);
  }
  return x;
}

/** ReLU in place: overwrites x and returns it. */
export function relu_(x: Tensor): Tensor {
  return inPlace('relu_', x, UnaryOp.Relu, (g, out) => binaryKernel('relu_', BinaryOp.ReluBackward, g, out));
}

/** Sigmoid in place: overwrites x and returns it. */
export function sigmoid_(x: Tensor): Tensor {
  return inPlace('sigmoid_', x, UnaryOp.Sigmoid, (g, out) =>
    binaryKernel('sigmoid_', BinaryOp.SigmoidBackward, g, out),
  );
}

/** Tanh in place: overwrites x and returns it. */
export function tanh_(x: Tensor): Tensor {
  return inPlace('tanh_', x, UnaryOp.Tanh, (g, out) => binaryKernel('tanh_', BinaryOp.TanhBackward, g, out));
}
