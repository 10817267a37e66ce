/**
 * conv2d's gradients as recorded ops, used when backward itself is recorded (createGraph). Both
 * gradients are bilinear, so their own gradients are a convolution or the other gradient again:
 * conv2d differentiates any number of times without a new kernel.
 */
import { getBackend } from '../backend/index.js';
import type { Conv2dParams, FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { sum } from './reduce.js';
import { denseArray } from './shape.js';

function outputShape(p: Conv2dParams, g: Tensor): number[] {
  return [p.batch, p.outChannels, g.shape[2], g.shape[3]];
}

/** conv2d(x, w) without bias, on the geometry of `p`; `like` gives the output's spatial size. */
function convolve(p: Conv2dParams, x: Tensor, w: Tensor, like: Tensor): Tensor {
  const out = uninitTensor(outputShape(p, like), x.dtype);
  getBackend().conv2dForward(p, denseArray(x), denseArray(w), null, out.storage.data as FloatArray, false);
  return record(
    'conv2d',
    out,
    [x, w],
    (g) => [x.requiresGrad ? conv2dInputGrad(p, g, w) : null, w.requiresGrad ? conv2dWeightGrad(p, x, g) : null],
    [x, w],
  );
}

/**
 * ∂⟨g, conv2d(x, w)⟩/∂x for output gradient g [N, outC, outH, outW]; `name` names the node
 * (convTranspose2d is this op run forward).
 */
export function conv2dInputGrad(p: Conv2dParams, g: Tensor, w: Tensor, name = 'conv2dInputGrad'): Tensor {
  const gx = uninitTensor([p.batch, p.inChannels, p.inH, p.inW], g.dtype);
  getBackend().conv2dBackwardInput(p, denseArray(g), denseArray(w), gx.storage.data as FloatArray);
  return record(
    name,
    gx,
    [g, w],
    (gg) => [g.requiresGrad ? convolve(p, gg, w, g) : null, w.requiresGrad ? conv2dWeightGrad(p, gg, g) : null],
    [g, w],
  );
}

/** ∂⟨g, conv2d(x, w)⟩/∂w. */
export function conv2dWeightGrad(p: Conv2dParams, x: Tensor, g: Tensor): Tensor {
  const shape = [p.outChannels, p.inChannels / p.groups, p.kernelH, p.kernelW];
  const gw = uninitTensor(shape, g.dtype);
  getBackend().conv2dBackwardWeight(p, denseArray(x), denseArray(g), gw.storage.data as FloatArray, null);
  return record(
    'conv2dWeightGrad',
    gw,
    [x, g],
    (gg) => [x.requiresGrad ? conv2dInputGrad(p, g, gg) : null, g.requiresGrad ? convolve(p, x, gg, g) : null],
    [x, g],
  );
}

/** The gradients of conv2d(x, w, b) for output gradient g, as recorded ops. */
export function conv2dGradients(p: Conv2dParams, x: Tensor, w: Tensor, b: Tensor | null, g: Tensor): (Tensor | null)[] {
  const grads = [x.requiresGrad ? conv2dInputGrad(p, g, w) : null, w.requiresGrad ? conv2dWeightGrad(p, x, g) : null];
  return b ? [...grads, b.requiresGrad ? sum(g, [0, 2, 3]) : null] : grads;
}
