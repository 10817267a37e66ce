/**
 * 2-D convolution with PyTorch's semantics (stride, padding incl. 'same'/'valid', dilation,
 * groups, bias). The node saves the input and weight only; backward recomputes the im2col columns
 * instead of keeping them. With `activation: 'relu'` the ReLU runs in the same output pass.
 */
import { getBackend } from '../backend/index.js';
import { BinaryOp, convOutputSize, type Conv2dParams, type FloatArray } from '../backend/types.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { zeros } from '../tensor/creation.js';
import { uninitTensor, Tensor } from '../tensor/tensor.js';
import { binaryKernel, reluGrad } from './elementwise.js';
import { conv2dGradients } from './conv-grad.js';
import { cat } from './join.js';
import { denseArray, squeeze, to, unsqueeze } from './shape.js';

/** One size for both spatial dims, or [height, width]. */
export type Pair = number | readonly [number, number];

/** Options of {@link conv2d} (PyTorch's defaults: stride 1, padding 0, dilation 1, groups 1). */
export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: Pair;
  /** Zero padding on each side, or 'valid' (none) or 'same' (output size = input size; stride 1). */
  padding?: Pair | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
  /** Split input and output channels into this many independent groups (default 1). */
  groups?: number;
  /** 'relu' applies ReLU in the convolution's output pass: one node, one pass over the output. */
  activation?: 'relu';
}

/** Reads a number-or-pair option as two positive (or non-negative) integers. */
export function pair(op: string, name: string, value: Pair, min: number): [number, number] {
  const [a, b] = typeof value === 'number' ? [value, value] : value;
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < min || b < min) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: ${name} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(value)}`,
    );
  }
  return [a, b];
}

function floatPair(x: Tensor, w: Tensor): [Tensor, Tensor] {
  const dtype = x.dtype === 'float64' || w.dtype === 'float64' ? 'float64' : 'float32';
  return [to(x, dtype), to(w, dtype)];
}

/**
 * conv2d(input [N, C, H, W] or [C, H, W], weight [outC, C / groups, kH, kW], bias? [outC], options).
 * Output [N, outC, outH, outW] with outH = floor((H + 2·padH − dilH·(kH − 1) − 1) / strideH) + 1.
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  if (input.ndim === 3) return squeeze(conv2d(unsqueeze(input, 0), weight, bias, options), 0);
  const groups = options.groups ?? 1;
  if (weight.ndim !== 4) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv2d: expected weight of shape [outC, inC / groups, kH, kW], got ${formatShape(weight.shape)}`,
    );
  }
  const [outC, cinG, kH, kW] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1 || outC % groups !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `conv2d: groups must be a positive integer dividing out channels ${outC}, got ${groups}`,
    );
  }
  if (input.ndim !== 4 || input.shape[1] !== cinG * groups) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv2d: expected input of shape [N, C, H, W] with C = ${cinG * groups}, got ${formatShape(input.shape)}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outC)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv2d: expected bias of shape [${outC}], got ${formatShape(bias.shape)}`,
    );
  }
  const [strideH, strideW] = pair('conv2d', 'stride', options.stride ?? 1, 1);
  const [dilationH, dilationW] = pair('conv2d', 'dilation', options.dilation ?? 1, 1);
  let x = input;
  let padH: number;
  let padW: number;
  if (options.padding === 'same') {
    if (strideH !== 1 || strideW !== 1) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', "conv2d: padding 'same' needs stride 1");
    }
    const totalH = dilationH * (kH - 1);
    const totalW = dilationW * (kW - 1);
    // An odd total pads one more on the bottom/right, as PyTorch does.
    if (totalH % 2 === 1) x = cat([x, zeros([x.shape[0], x.shape[1], 1, x.shape[3]], { dtype: x.dtype })], 2);
    if (totalW % 2 === 1) x = cat([x, zeros([x.shape[0], x.shape[1], x.shape[2], 1], { dtype: x.dtype })], 3);
    [padH, padW] = [Math.floor(totalH / 2), Math.floor(totalW / 2)];
  } else {
    [padH, padW] = pair('conv2d', 'padding', options.padding === 'valid' ? 0 : (options.padding ?? 0), 0);
  }
  const [N, , H, W] = x.shape;
  const outH = convOutputSize(H, kH, strideH, padH, dilationH);
  const outW = convOutputSize(W, kW, strideW, padW, dilationW);
  if (outH < 1 || outW < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv2d: input ${formatShape(input.shape)} padded by (${padH}, ${padW}) is smaller than the ` +
        `kernel ${kH}x${kW} with dilation (${dilationH}, ${dilationW})`,
    );
  }
  const [xf, wf] = floatPair(x, weight);
  const b = bias ? to(bias, xf.dtype) : null;
  const params: Conv2dParams = {
    batch: N,
    inChannels: x.shape[1],
    inH: H,
    inW: W,
    outChannels: outC,
    kernelH: kH,
    kernelW: kW,
    strideH,
    strideW,
    padH,
    padW,
    dilationH,
    dilationW,
    groups,
  };
  const relu = options.activation === 'relu';
  const out = uninitTensor([N, outC, outH, outW], xf.dtype);
  getBackend().conv2dForward(
    params,
    denseArray(xf),
    denseArray(wf),
    b ? denseArray(b) : null,
    out.storage.data as FloatArray,
    relu,
  );
  const inputs = b ? [xf, wf, b] : [xf, wf];
  return record(
    relu ? 'conv2d+relu' : 'conv2d',
    out,
    inputs,
    (gOut) => {
      // Recording backward (createGraph): the gradients as ops, so they can be differentiated.
      if (isGradEnabled()) return conv2dGradients(params, xf, wf, b, relu ? reluGrad(gOut, out) : gOut);
      const g = relu ? binaryKernel('conv2d', BinaryOp.ReluBackward, gOut, out) : gOut;
      const gData = denseArray(g);
      let gx: Tensor | null = null;
      if (xf.requiresGrad) {
        gx = uninitTensor(xf.shape, xf.dtype);
        getBackend().conv2dBackwardInput(params, gData, denseArray(wf), gx.storage.data as FloatArray);
      }
      let gw: Tensor | null = null;
      let gb: Tensor | null = null;
      if (wf.requiresGrad || b?.requiresGrad) {
        gw = uninitTensor(wf.shape, wf.dtype);
        gb = b ? uninitTensor(b.shape, b.dtype) : null;
        getBackend().conv2dBackwardWeight(
          params,
          denseArray(xf),
          gData,
          gw.storage.data as FloatArray,
          gb ? (gb.storage.data as FloatArray) : null,
        );
      }
      return b ? [gx, gw, gb] : [gx, gw];
    },
    relu ? [xf, wf, out] : [xf, wf],
  );
}

/** Options of {@link conv1d} (PyTorch's defaults: stride 1, padding 0, dilation 1, groups 1). */
export interface Conv1dOptions {
  /** Step between windows (default 1). */
  stride?: number;
  /** Zero padding on each side, or 'valid' (none) or 'same' (output length = input length; stride 1). */
  padding?: number | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  dilation?: number;
  /** Split input and output channels into this many independent groups (default 1). */
  groups?: number;
}

/**
 * 1-D convolution (cross-correlation) over sequences, as PyTorch's `torch.nn.functional.conv1d`: the
 * 2-D convolution of the input seen as [N, C, 1, L], so it runs on the same kernels.
 *
 * Shape: input [N, C, L] (or [C, L]), weight [outC, C / groups, k], bias [outC] → output
 * [N, outC, Lout] with Lout = ⌊(L + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.
 *
 * @example
 * ```ts
 * ng.conv1d(ng.randn([8, 4, 100]), ng.randn([16, 4, 5]), null, { padding: 'same' }).shape; // [8, 16, 100]
 * ```
 */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  if (weight.ndim !== 3) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv1d: expected weight of shape [outC, inC / groups, k], got ${formatShape(weight.shape)}`,
    );
  }
  const [outC, , k] = weight.shape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || outC % groups !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `conv1d: groups must be a positive integer dividing out channels ${outC}, got ${groups}`,
    );
  }
  const inC = weight.shape[1] * groups;
  if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 2] !== inC) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv1d: expected input of shape [N, C, L] or [C, L] with C = ${inC}, got ${formatShape(input.shape)}`,
    );
  }
  const { padding = 0 } = options;
  const [stride] = pair('conv1d', 'stride', options.stride ?? 1, 1);
  const [dilation] = pair('conv1d', 'dilation', options.dilation ?? 1, 1);
  if (padding === 'same' && stride !== 1) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `conv1d: padding 'same' needs stride 1, got stride ${stride}`);
  }
  const [pad] = typeof padding === 'number' ? pair('conv1d', 'padding', padding, 0) : [0];
  const length = input.shape[input.ndim - 1];
  if (padding !== 'same' && convOutputSize(length, k, stride, pad, dilation) < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `conv1d: input ${formatShape(input.shape)} padded by ${pad} is shorter than the kernel ${k} ` +
        `with dilation ${dilation}`,
    );
  }
  const padding2d = typeof padding === 'number' ? ([0, pad] as const) : padding;
  const out = conv2d(unsqueeze(input, -2), unsqueeze(weight, 2), bias, {
    stride: [1, stride],
    padding: padding2d,
    dilation: [1, dilation],
    groups,
  });
  return squeeze(out, -2);
}
