/**
 * Transposed convolutions with PyTorch's semantics (stride, padding, outputPadding, dilation,
 * groups, bias). A transposed convolution is the gradient of conv2d with respect to its input, run
 * forward: it calls conv2d's backward-input kernel, and its own gradients are conv2d's forward (for
 * the input) and backward-weight (for the weight), so it runs as fast as a convolution's backward.
 */
import type { Conv2dParams } from '../backend/types.js';
import { NodegradError, formatShape } from '../errors.js';
import { zeros } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import { conv2dInputGrad } from './conv-grad.js';
import { pair, type Pair } from './conv.js';
import { add } from './elementwise.js';
import { cat } from './join.js';
import { squeeze, to, unsqueeze, view } from './shape.js';

/** Options of {@link convTranspose2d} (PyTorch's defaults: stride 1, padding 0, outputPadding 0, groups 1, dilation 1). */
export interface ConvTranspose2dOptions {
  /** Step between the input's pixels in the output (default 1). */
  stride?: Pair;
  /** Trims this many rows/columns from each side of the full output (default 0). */
  padding?: Pair;
  /** Extra rows/columns added to one side (bottom/right) of the output; smaller than stride or dilation (default 0). */
  outputPadding?: Pair;
  /** Split input and output channels into this many independent groups (default 1). */
  groups?: number;
  /** Spacing between kernel elements (default 1). */
  dilation?: Pair;
}

/** Options of {@link convTranspose1d}: {@link ConvTranspose2dOptions} with one number per option. */
export interface ConvTranspose1dOptions {
  /** Step between the input's elements in the output (default 1). */
  stride?: number;
  /** Trims this many elements from each end of the full output (default 0). */
  padding?: number;
  /** Extra elements added at the end of the output; smaller than stride or dilation (default 0). */
  outputPadding?: number;
  /** Split input and output channels into this many independent groups (default 1). */
  groups?: number;
  /** Spacing between kernel elements (default 1). */
  dilation?: number;
}

/** Output length of a transposed convolution along one axis (PyTorch's formula). */
export function convTransposeOutputSize(
  input: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation: number,
  outputPadding: number,
): number {
  return (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;
}

/** A pair as PyTorch prints it; the 1-D ops run as 2-D with height 1 and show the length's value. */
const textOf = (op: string) => (v: readonly number[]) =>
  op === 'convTranspose1d' ? String(v[1]) : `(${v.join(', ')})`;

/** Pads `x` with zeros at the end of `dim` up to `size`. */
function padEnd(x: Tensor, dim: number, size: number): Tensor {
  if (x.shape[dim] >= size) return x;
  const shape = [...x.shape];
  shape[dim] = size - x.shape[dim];
  return cat([x, zeros(shape, { dtype: x.dtype })], dim);
}

/**
 * 2-D transposed convolution, as PyTorch's `torch.nn.functional.conv_transpose2d` (sometimes called
 * a fractionally-strided convolution or "deconvolution").
 *
 * Shape: input [N, inC, H, W] (or [inC, H, W]), weight [inC, outC / groups, kH, kW] (PyTorch's layout:
 * in channels first), bias [outC] → output [N, outC, Hout, Wout] with
 * Hout = (H − 1)·stride[0] − 2·padding[0] + dilation[0]·(kH − 1) + outputPadding[0] + 1, and Wout likewise.
 *
 * @example
 * ```ts
 * const F = ng.nn.functional;
 * const up = F.convTranspose2d(ng.randn([1, 8, 7, 7]), ng.randn([8, 4, 4, 4]), null, { stride: 2, padding: 1 });
 * up.shape; // [1, 4, 14, 14]
 * ```
 */
export function convTranspose2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTranspose2dOptions = {},
): Tensor {
  if (input.ndim === 3) return squeeze(convTranspose2d(unsqueeze(input, 0), weight, bias, options), 0);
  if (weight.ndim !== 4) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `convTranspose2d: expected weight of shape [inC, outC / groups, kH, kW], got ${formatShape(weight.shape)}`,
    );
  }
  if (input.ndim !== 4 || input.shape[1] !== weight.shape[0]) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `convTranspose2d: expected input of shape [N, C, H, W] with C = ${weight.shape[0]}, got ${formatShape(input.shape)}`,
    );
  }
  return transposed('convTranspose2d', input, weight, bias, options);
}

/** The checks past the ranks, and the op, of convTranspose1d and convTranspose2d. */
function transposed(
  op: string,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvTranspose2dOptions,
  inputShape = input.shape,
): Tensor {
  const text = textOf(op);
  const [inC, outG, kH, kW] = weight.shape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || inC % groups !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: groups must be a positive integer dividing in channels ${inC} (weight ${formatShape(weight.shape)}), got ${groups}`,
    );
  }
  const outC = outG * groups;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outC)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected bias of shape [${outC}], got ${formatShape(bias.shape)}`,
    );
  }
  const stride = pair(op, 'stride', options.stride ?? 1, 1);
  const padding = pair(op, 'padding', options.padding ?? 0, 0);
  const dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
  const outputPadding = pair(op, 'outputPadding', options.outputPadding ?? 0, 0);
  if (outputPadding.some((p, i) => p >= stride[i] && p >= dilation[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: outputPadding ${text(outputPadding)} must be smaller than stride ${text(stride)} or dilation ${text(dilation)}`,
    );
  }
  const [N, , H, W] = input.shape;
  const outH = convTransposeOutputSize(H, kH, stride[0], padding[0], dilation[0], outputPadding[0]);
  const outW = convTransposeOutputSize(W, kW, stride[1], padding[1], dilation[1], outputPadding[1]);
  if (outH < 1 || outW < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: input ${formatShape(inputShape)} with kernel ${text([kH, kW])}, stride ${text(stride)}, padding ` +
        `${text(padding)} and dilation ${text(dilation)} gives an empty output ${text([outH, outW])}`,
    );
  }
  // The convolution whose input gradient this is: input [N, outC, outH, outW] → output [N, inC, H, W].
  const params: Conv2dParams = {
    batch: N,
    inChannels: outC,
    inH: outH,
    inW: outW,
    outChannels: inC,
    kernelH: kH,
    kernelW: kW,
    strideH: stride[0],
    strideW: stride[1],
    padH: padding[0],
    padW: padding[1],
    dilationH: dilation[0],
    dilationW: dilation[1],
    groups,
  };
  const dtype = input.dtype === 'float64' || weight.dtype === 'float64' ? 'float64' : 'float32';
  // An outputPadding of at least the stride (allowed below the dilation) makes that convolution's
  // output longer than the input: the extra positions hold zero gradient.
  const convH = Math.floor((outH + 2 * padding[0] - dilation[0] * (kH - 1) - 1) / stride[0]) + 1;
  const convW = Math.floor((outW + 2 * padding[1] - dilation[1] * (kW - 1) - 1) / stride[1]) + 1;
  const x = padEnd(padEnd(to(input, dtype), 2, convH), 3, convW);
  const out = conv2dInputGrad(params, x, to(weight, dtype), op);
  return bias ? add(out, view(to(bias, dtype), [1, outC, 1, 1])) : out;
}

/**
 * 1-D transposed convolution, as PyTorch's `torch.nn.functional.conv_transpose1d`: the 2-D one on
 * the input seen as [N, C, 1, L].
 *
 * Shape: input [N, inC, L] (or [inC, L]), weight [inC, outC / groups, k], bias [outC] → output
 * [N, outC, Lout] with Lout = (L − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 *
 * @example
 * ```ts
 * const F = ng.nn.functional;
 * F.convTranspose1d(ng.randn([2, 4, 10]), ng.randn([4, 3, 3]), null, { stride: 2 }).shape; // [2, 3, 21]
 * ```
 */
export function convTranspose1d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTranspose1dOptions = {},
): Tensor {
  const op = 'convTranspose1d';
  if (weight.ndim !== 3) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected weight of shape [inC, outC / groups, k], got ${formatShape(weight.shape)}`,
    );
  }
  if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[input.ndim - 2] !== weight.shape[0]) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected input of shape [N, C, L] or [C, L] with C = ${weight.shape[0]}, got ${formatShape(input.shape)}`,
    );
  }
  const at = (name: string, v: number | undefined, fallback: number, min: number): [number, number] => [
    fallback,
    pair(op, name, v ?? fallback, min)[0],
  ];
  const batched = input.ndim === 3 ? input : unsqueeze(input, 0);
  const out = transposed(
    op,
    unsqueeze(batched, 2),
    unsqueeze(weight, 2),
    bias,
    {
      stride: at('stride', options.stride, 1, 1),
      padding: at('padding', options.padding, 0, 0),
      outputPadding: at('outputPadding', options.outputPadding, 0, 0),
      dilation: at('dilation', options.dilation, 1, 1),
      groups: options.groups,
    },
    input.shape,
  );
  const y = squeeze(out, 2);
  return input.ndim === 3 ? y : squeeze(y, 0);
}
