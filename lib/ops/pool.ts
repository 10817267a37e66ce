/**
 * Max, average and adaptive-average 2-D pooling with PyTorch's semantics. Max pooling saves only
 * its argmax indices (int32), not the input; average pooling saves nothing but the geometry.
 */
import { getBackend } from '../backend/index.js';
import { poolOutputSize, type FloatArray, type Pool2dParams } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { pair, type Pair } from './conv.js';
import { denseArray, squeeze, to, unsqueeze } from './shape.js';

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  /** Implicit -inf padding on each side (default 0), at most half the kernel. */
  padding?: Pair;
  /** Spacing between window elements (default 1). */
  dilation?: Pair;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions {
  /** Defaults to the kernel size. */
  stride?: Pair;
  /** Zero padding on each side (default 0), at most half the kernel. */
  padding?: Pair;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (PyTorch's default: true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead of its size. */
  divisorOverride?: number;
}

function checkInput(op: string, x: Tensor): void {
  if (x.ndim !== 4) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [N, C, H, W] or [C, H, W], got ${formatShape(x.shape)}`,
    );
  }
}

function geometry(
  op: string,
  x: Tensor,
  kernelSize: Pair,
  stride: Pair | undefined,
  padding: Pair | undefined,
  dilation: Pair | undefined,
  ceilMode: boolean,
): Pool2dParams & { outH: number; outW: number } {
  checkInput(op, x);
  const [kernelH, kernelW] = pair(op, 'kernelSize', kernelSize, 1);
  const [strideH, strideW] = pair(op, 'stride', stride ?? kernelSize, 1);
  const [padH, padW] = pair(op, 'padding', padding ?? 0, 0);
  const [dilationH, dilationW] = pair(op, 'dilation', dilation ?? 1, 1);
  const effH = dilationH * (kernelH - 1) + 1;
  const effW = dilationW * (kernelW - 1) + 1;
  if (2 * padH > effH || 2 * padW > effW) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: padding (${padH}, ${padW}) must be at most half of the kernel size (${kernelH}, ${kernelW})`,
    );
  }
  const [N, C, inH, inW] = x.shape;
  const outH = poolOutputSize(inH, kernelH, strideH, padH, dilationH, ceilMode);
  const outW = poolOutputSize(inW, kernelW, strideW, padW, dilationW, ceilMode);
  if (outH < 1 || outW < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: input ${formatShape(x.shape)} is too small for kernel (${kernelH}, ${kernelW}) with padding (${padH}, ${padW})`,
    );
  }
  return {
    planes: N * C,
    inH,
    inW,
    kernelH,
    kernelW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    ceilMode,
    countIncludePad: true,
    divisorOverride: 0,
    outH,
    outW,
  };
}

function floatInput(x: Tensor): Tensor {
  return x.dtype === 'int32' ? to(x, 'float32') : x;
}

/** maxPool2d(x [N, C, H, W], kernelSize, options) → [N, C, outH, outW]. Ties: the first max wins. */
export function maxPool2d(input: Tensor, kernelSize: Pair, options: MaxPool2dOptions = {}): Tensor {
  if (input.ndim === 3) return squeeze(maxPool2d(unsqueeze(input, 0), kernelSize, options), 0);
  const x = floatInput(input);
  const p = geometry(
    'maxPool2d',
    x,
    kernelSize,
    options.stride,
    options.padding,
    options.dilation,
    options.ceilMode ?? false,
  );
  const shape = [x.shape[0], x.shape[1], p.outH, p.outW];
  const out = uninitTensor(shape, x.dtype);
  const indices = uninitTensor(shape, 'int32');
  getBackend().maxPool2dForward(p, denseArray(x), out.storage.data as FloatArray, indices.storage.data as Int32Array);
  return record(
    'maxPool2d',
    out,
    [x],
    (g) => {
      const gx = uninitTensor(x.shape, g.dtype);
      getBackend().maxPool2dBackward(
        p,
        denseArray(g),
        indices.storage.data as Int32Array,
        gx.storage.data as FloatArray,
      );
      return [gx];
    },
    [indices],
  );
}

/** avgPool2d(x [N, C, H, W], kernelSize, options) → [N, C, outH, outW]. */
export function avgPool2d(input: Tensor, kernelSize: Pair, options: AvgPool2dOptions = {}): Tensor {
  if (input.ndim === 3) return squeeze(avgPool2d(unsqueeze(input, 0), kernelSize, options), 0);
  const x = floatInput(input);
  const divisorOverride = options.divisorOverride ?? 0;
  if (!Number.isInteger(divisorOverride) || divisorOverride < 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `avgPool2d: divisorOverride must be a positive integer, got ${divisorOverride}`,
    );
  }
  const p = {
    ...geometry('avgPool2d', x, kernelSize, options.stride, options.padding, 1, options.ceilMode ?? false),
    countIncludePad: options.countIncludePad ?? true,
    divisorOverride,
  };
  const out = uninitTensor([x.shape[0], x.shape[1], p.outH, p.outW], x.dtype);
  getBackend().avgPool2dForward(p, denseArray(x), out.storage.data as FloatArray);
  return record('avgPool2d', out, [x], (g) => {
    const gx = uninitTensor(x.shape, g.dtype);
    getBackend().avgPool2dBackward(p, denseArray(g), gx.storage.data as FloatArray);
    return [gx];
  });
}

/** Averages over windows chosen so the output is exactly outputSize (PyTorch's start/end rule). */
export function adaptiveAvgPool2d(input: Tensor, outputSize: Pair): Tensor {
  if (input.ndim === 3) return squeeze(adaptiveAvgPool2d(unsqueeze(input, 0), outputSize), 0);
  const x = floatInput(input);
  checkInput('adaptiveAvgPool2d', x);
  const [outH, outW] = pair('adaptiveAvgPool2d', 'outputSize', outputSize, 1);
  const [N, C, inH, inW] = x.shape;
  if (inH < 1 || inW < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `adaptiveAvgPool2d: input ${formatShape(x.shape)} has an empty plane`,
    );
  }
  const params = { planes: N * C, inH, inW, outH, outW };
  const out = uninitTensor([N, C, outH, outW], x.dtype);
  getBackend().adaptiveAvgPool2dForward(params, denseArray(x), out.storage.data as FloatArray);
  return record('adaptiveAvgPool2d', out, [x], (g) => {
    const gx = uninitTensor(x.shape, g.dtype);
    getBackend().adaptiveAvgPool2dBackward(params, denseArray(g), gx.storage.data as FloatArray);
    return [gx];
  });
}
