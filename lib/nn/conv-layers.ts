/**
 * The convolution layers for sequences and generators, with PyTorch's names, defaults, parameter
 * layouts and reprs: Conv1d, ConvTranspose1d, ConvTranspose2d (Conv2d lives in layers.ts).
 */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { zerosTensor } from '../tensor/tensor.js';
import { checkShape } from '../tensor/shape.js';
import { conv1d, pair, type Conv1dOptions, type Pair } from '../ops/conv.js';
import {
  convTranspose1d,
  convTranspose2d,
  convTransposeOutputSize,
  type ConvTranspose2dOptions,
} from '../ops/conv-transpose.js';
import { uniformFanIn_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** PyTorch's tuple repr: (3,) for one value, (3, 3) for two. */
const tupleText = (v: readonly number[]) => (v.length === 1 ? `(${v[0]},)` : `(${v.join(', ')})`);

/** Checks the channels and groups every convolution layer shares; returns the groups. */
function checkChannels(layer: string, inChannels: number, outChannels: number, groups = 1): number {
  checkShape(layer, [inChannels, outChannels], { names: ['inChannels', 'outChannels'] });
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${layer}: groups must be a positive integer dividing inChannels ` +
        `(${inChannels}) and outChannels (${outChannels}), got ${groups}`,
    );
  }
  return groups;
}

/** Weight and bias as U(±1/√fanIn), fanIn = weight.shape[1] · kernel elements, as PyTorch's reset_parameters. */
function convParameters(shape: number[], outChannels: number, bias: boolean, dtype: 'float32' | 'float64') {
  const weight = new Parameter(uniformFanIn_(zerosTensor(shape, dtype)));
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  return { weight, bias: bias ? new Parameter(uniformFanIn_(zerosTensor([outChannels], dtype), fanIn)) : null };
}

/** The repr PyTorch's _ConvNd prints, skipping options at their defaults. */
function convRepr(
  inChannels: number,
  outChannels: number,
  o: { kernelSize: number[]; stride: number[]; padding: number[] | string; dilation: number[]; groups: number },
  extra: { outputPadding?: number[]; bias: boolean },
): string {
  let s = `${inChannels}, ${outChannels}, kernel_size=${tupleText(o.kernelSize)}, stride=${tupleText(o.stride)}`;
  if (typeof o.padding === 'string') s += `, padding=${o.padding}`;
  else if (o.padding.some((p) => p !== 0)) s += `, padding=${tupleText(o.padding)}`;
  if (o.dilation.some((d) => d !== 1)) s += `, dilation=${tupleText(o.dilation)}`;
  if (extra.outputPadding?.some((p) => p !== 0)) s += `, output_padding=${tupleText(extra.outputPadding)}`;
  if (o.groups !== 1) s += `, groups=${o.groups}`;
  if (!extra.bias) s += ', bias=False';
  return s;
}

/** Options of Conv1d: {@link Conv1dOptions} plus bias, paddingMode and dtype. */
export interface Conv1dLayerOptions extends Conv1dOptions {
  /** Learn an additive bias per output channel (default true); false: bias is null. */
  bias?: boolean;
  /** How the padding is filled: 'zeros' (the default and, for now, the only mode). */
  paddingMode?: 'zeros';
  /** The dtype of weight and bias (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/**
 * 1-D convolution (cross-correlation) over sequences, as PyTorch's `torch.nn.Conv1d`.
 *
 * Shape: input [N, inChannels, L] (or [inChannels, L]) → output [N, outChannels, Lout] with
 * Lout = ⌊(L + 2·padding − dilation·(kernelSize − 1) − 1) / stride⌋ + 1; `padding: 'same'` keeps L
 * (stride 1 only), `'valid'` is padding 0. Weight [outChannels, inChannels / groups, kernelSize] and bias
 * [outChannels] start as U(±1/√fanIn) with fanIn = inChannels / groups · kernelSize, like PyTorch's.
 *
 * @example
 * ```ts
 * const conv = new ng.nn.Conv1d(4, 8, 3, { padding: 1 });
 * conv.forward(ng.randn([2, 4, 50])).shape; // [2, 8, 50]
 * ```
 */
export class Conv1d extends Module {
  /** The learnable filters, [outChannels, inChannels / groups, kernelSize]. */
  weight: Parameter;
  /** The learnable bias, [outChannels]; null when built with `bias: false`. */
  bias: Parameter | null;

  /**
   * @param inChannels - Channels of the input (C).
   * @param outChannels - Channels of the output: the number of filters.
   * @param kernelSize - The filter length.
   * @param options - stride, padding, dilation, groups (inChannels and outChannels must be multiples of
   *   it), bias, paddingMode, dtype.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly options: Conv1dLayerOptions = {},
  ) {
    super();
    const groups = checkChannels('Conv1d', inChannels, outChannels, options.groups);
    pair('Conv1d', 'kernelSize', kernelSize, 1);
    if (options.stride !== undefined) pair('Conv1d', 'stride', options.stride, 1);
    if (options.dilation !== undefined) pair('Conv1d', 'dilation', options.dilation, 1);
    if (typeof options.padding === 'number') pair('Conv1d', 'padding', options.padding, 0);
    // Checked at run time for callers outside TypeScript; PyTorch's other modes are not implemented yet.
    const paddingMode: string = options.paddingMode ?? 'zeros';
    if (paddingMode !== 'zeros') {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `Conv1d: paddingMode must be 'zeros', got '${paddingMode}'`);
    }
    const shape = [outChannels, inChannels / groups, kernelSize];
    ({ weight: this.weight, bias: this.bias } = convParameters(
      shape,
      outChannels,
      options.bias !== false,
      options.dtype ?? 'float32',
    ));
  }

  /** The convolution of `x` ([N, inChannels, L] → [N, outChannels, Lout]). */
  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, groups } = this.options;
    return conv1d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }

  override extraRepr(): string {
    const o = this.options;
    const padding = typeof o.padding === 'string' ? o.padding : [o.padding ?? 0];
    const geometry = {
      kernelSize: [this.kernelSize],
      stride: [o.stride ?? 1],
      padding,
      dilation: [o.dilation ?? 1],
      groups: o.groups ?? 1,
    };
    return convRepr(this.inChannels, this.outChannels, geometry, { bias: this.bias !== null });
  }
}

/** Options of ConvTranspose2d: {@link ConvTranspose2dOptions} plus bias and dtype. */
export interface ConvTranspose2dLayerOptions extends ConvTranspose2dOptions {
  /** Learn an additive bias per output channel (default true); false: bias is null. */
  bias?: boolean;
  /** The dtype of weight and bias (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/** Options of ConvTranspose1d: stride, padding, outputPadding, groups and dilation as single numbers, bias, dtype. */
export interface ConvTranspose1dLayerOptions {
  /** Step between the input's elements in the output (default 1). */
  stride?: number;
  /** Trims this many elements from each end of the full output (default 0). */
  padding?: number;
  /** Extra elements at the end of the output; smaller than stride or dilation (default 0). */
  outputPadding?: number;
  /** Split input and output channels into this many independent groups (default 1). */
  groups?: number;
  /** Spacing between kernel elements (default 1). */
  dilation?: number;
  /** Learn an additive bias per output channel (default true); false: bias is null. */
  bias?: boolean;
  /** The dtype of weight and bias (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/** The transposed convolutions' shared state: geometry as arrays (one entry per spatial dim). */
abstract class ConvTransposeNd extends Module<[input: Tensor, outputSize?: readonly number[]]> {
  /** The learnable filters, [inChannels, outChannels / groups, ...kernelSize] (PyTorch's layout). */
  weight: Parameter;
  /** The learnable bias, [outChannels]; null when built with `bias: false`. */
  bias: Parameter | null;
  /** Step per spatial dim. */
  readonly stride: number[];
  /** Padding per spatial dim. */
  readonly padding: number[];
  /** Output padding per spatial dim. */
  readonly outputPadding: number[];
  /** Kernel spacing per spatial dim. */
  readonly dilation: number[];
  /** Channel groups. */
  readonly groups: number;

  constructor(
    /** Channels of the input. */
    readonly inChannels: number,
    /** Channels of the output. */
    readonly outChannels: number,
    /** The kernel size per spatial dim. */
    readonly kernel: number[],
    options: ConvTranspose2dLayerOptions | ConvTranspose1dLayerOptions,
  ) {
    super();
    const layer = this.typeName;
    this.groups = checkChannels(layer, inChannels, outChannels, options.groups);
    const dims = kernel.length;
    const read = (name: string, value: Pair | undefined, fallback: number, min: number) =>
      pair(layer, name, value ?? fallback, min).slice(0, dims);
    this.stride = read('stride', options.stride, 1, 1);
    this.padding = read('padding', options.padding, 0, 0);
    this.outputPadding = read('outputPadding', options.outputPadding, 0, 0);
    this.dilation = read('dilation', options.dilation, 1, 1);
    if (this.outputPadding.some((p, i) => p >= this.stride[i] && p >= this.dilation[i])) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${layer}: outputPadding ${tupleText(this.outputPadding)} must be smaller than stride ` +
          `${tupleText(this.stride)} or dilation ${tupleText(this.dilation)}`,
      );
    }
    const shape = [inChannels, outChannels / this.groups, ...kernel];
    ({ weight: this.weight, bias: this.bias } = convParameters(
      shape,
      outChannels,
      options.bias !== false,
      options.dtype ?? 'float32',
    ));
  }

  /**
   * The output padding that gives `outputSize` (PyTorch's _output_padding): the spatial sizes, or
   * the whole shape; each must lie within the stride's reach above the smallest output.
   */
  protected outputPaddingFor(input: Tensor, outputSize?: readonly number[]): number[] {
    if (outputSize === undefined) return this.outputPadding;
    const dims = this.kernel.length;
    const nonSpatial = input.ndim === dims + 2 ? 2 : 1;
    const size = outputSize.length === nonSpatial + dims ? outputSize.slice(nonSpatial) : outputSize;
    if (size.length !== dims) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `${this.typeName}: for input ${formatShape(input.shape)}, outputSize must have ${dims} or ` +
          `${nonSpatial + dims} elements, got [${outputSize.join(', ')}]`,
      );
    }
    const spatial = input.shape.slice(input.ndim - dims);
    return size.map((want, i) => {
      const min = convTransposeOutputSize(
        spatial[i],
        this.kernel[i],
        this.stride[i],
        this.padding[i],
        this.dilation[i],
        0,
      );
      const max = min + this.stride[i] - 1;
      if (!Number.isInteger(want) || want < min || want > max) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `${this.typeName}: requested an output size of [${size.join(', ')}], but valid sizes of dim ${i} range ` +
            `from ${min} to ${max} (for an input of ${formatShape(input.shape)})`,
        );
      }
      return want - min;
    });
  }

  override extraRepr(): string {
    const { stride, padding, dilation, groups, outputPadding } = this;
    return convRepr(
      this.inChannels,
      this.outChannels,
      { kernelSize: this.kernel, stride, padding, dilation, groups },
      { outputPadding, bias: this.bias !== null },
    );
  }
}

/**
 * 2-D transposed convolution, as PyTorch's `torch.nn.ConvTranspose2d`: the gradient of a Conv2d with
 * respect to its input, used to upsample in generators and decoders.
 *
 * Shape: input [N, inChannels, H, W] (or [inChannels, H, W]) → output [N, outChannels, Hout, Wout] with
 * Hout = (H − 1)·stride[0] − 2·padding[0] + dilation[0]·(kernelSize[0] − 1) + outputPadding[0] + 1, and
 * Wout likewise. Weight [inChannels, outChannels / groups, kH, kW] and bias [outChannels] start as
 * U(±1/√fanIn) with fanIn = outChannels / groups · kH · kW, like PyTorch's.
 *
 * @example
 * ```ts
 * const up = new ng.nn.ConvTranspose2d(16, 8, 4, { stride: 2, padding: 1 });
 * up.forward(ng.randn([2, 16, 7, 7])).shape; // [2, 8, 14, 14]
 * up.forward(ng.randn([2, 16, 7, 7]), [15, 15]).shape; // [2, 8, 15, 15]
 * ```
 */
export class ConvTranspose2d extends ConvTransposeNd {
  /** The kernel's [height, width]. */
  readonly kernelSize: [number, number];

  /**
   * @param inChannels - Channels of the input.
   * @param outChannels - Channels of the output.
   * @param kernelSize - The filter size: one number for a square kernel, or [kH, kW].
   * @param options - stride, padding, outputPadding, groups, dilation, bias, dtype.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: ConvTranspose2dLayerOptions = {}) {
    const kernel = pair('ConvTranspose2d', 'kernelSize', kernelSize, 1);
    super(inChannels, outChannels, kernel, options);
    this.kernelSize = kernel;
  }

  /**
   * The transposed convolution of `input`; `outputSize` ([H, W] or the whole shape) picks among the
   * sizes a stride > 1 allows, in place of outputPadding.
   */
  forward(input: Tensor, outputSize?: readonly number[]): Tensor {
    const [padH, padW] = this.outputPaddingFor(input, outputSize);
    return convTranspose2d(input, this.weight, this.bias, {
      stride: [this.stride[0], this.stride[1]],
      padding: [this.padding[0], this.padding[1]],
      outputPadding: [padH, padW],
      dilation: [this.dilation[0], this.dilation[1]],
      groups: this.groups,
    });
  }
}

/**
 * 1-D transposed convolution, as PyTorch's `torch.nn.ConvTranspose1d`.
 *
 * Shape: input [N, inChannels, L] (or [inChannels, L]) → output [N, outChannels, Lout] with
 * Lout = (L − 1)·stride − 2·padding + dilation·(kernelSize − 1) + outputPadding + 1. Weight
 * [inChannels, outChannels / groups, kernelSize] and bias [outChannels], initialized like PyTorch's.
 *
 * @example
 * ```ts
 * new ng.nn.ConvTranspose1d(4, 2, 3, { stride: 2 }).forward(ng.randn([1, 4, 10])).shape; // [1, 2, 21]
 * ```
 */
export class ConvTranspose1d extends ConvTransposeNd {
  /**
   * @param inChannels - Channels of the input.
   * @param outChannels - Channels of the output.
   * @param kernelSize - The filter length.
   * @param options - stride, padding, outputPadding, groups, dilation, bias, dtype.
   */
  constructor(
    inChannels: number,
    outChannels: number,
    readonly kernelSize: number,
    options: ConvTranspose1dLayerOptions = {},
  ) {
    super(inChannels, outChannels, [pair('ConvTranspose1d', 'kernelSize', kernelSize, 1)[0]], options);
  }

  /** The transposed convolution of `input`; `outputSize` ([L] or the whole shape) in place of outputPadding. */
  forward(input: Tensor, outputSize?: readonly number[]): Tensor {
    const [outputPadding] = this.outputPaddingFor(input, outputSize);
    const [stride] = this.stride;
    const [padding] = this.padding;
    const [dilation] = this.dilation;
    return convTranspose1d(input, this.weight, this.bias, {
      stride,
      padding,
      outputPadding,
      dilation,
      groups: this.groups,
    });
  }
}
