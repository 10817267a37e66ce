/** Linear, Conv2d and the parameter-free layers, with PyTorch's defaults and reprs. */
import { forwardScope, isGradEnabled, releaseConsumed, releasesIntermediates } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { zerosTensor } from '../tensor/tensor.js';
import { checkShape } from '../tensor/shape.js';
import * as ops from '../ops/index.js';
import type { Pair } from '../ops/conv.js';
import { BatchNorm2d, BatchNormBase } from './batchnorm.js';
import { convBatchNorm, foldsIntoConv } from './fold-batchnorm.js';
import { uniformFanIn_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Checks a window's stride and dilation (integers >= 1) and padding (>= 0) when given. */
function checkWindowOptions(
  layer: string,
  o: { stride?: Pair; padding?: Pair | 'same' | 'valid'; dilation?: Pair },
): void {
  if (o.stride !== undefined) ops.pair(layer, 'stride', o.stride, 1);
  if (o.dilation !== undefined) ops.pair(layer, 'dilation', o.dilation, 1);
  if (o.padding !== undefined && o.padding !== 'same' && o.padding !== 'valid')
    ops.pair(layer, 'padding', o.padding, 0);
}

const pairText = (v: Pair) => (typeof v === 'number' ? `(${v}, ${v})` : `(${v[0]}, ${v[1]})`);

/** Options of Linear. */
export interface LinearOptions {
  /** Learn an additive bias (default true); false: bias is null. */
  bias?: boolean;
  /** The dtype of weight and bias (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/**
 * Applies the affine map y = x Wᵀ + b, as PyTorch's `torch.nn.Linear`.
 *
 * Shape: input [..., inFeatures] → output [..., outFeatures]. Weight [outFeatures, inFeatures] and
 * bias [outFeatures] start as U(−1/√inFeatures, 1/√inFeatures), like PyTorch's.
 *
 * @example
 * ```ts
 * const fc = new ng.nn.Linear(784, 10);
 * fc.forward(ng.randn([32, 784])).shape; // [32, 10]
 * ```
 */
export class Linear extends Module {
  /** The learnable weight, [outFeatures, inFeatures]. */
  weight: Parameter;
  /** The learnable bias, [outFeatures]; null when built with `bias: false`. */
  bias: Parameter | null;

  /**
   * @param inFeatures - Size of each input's last dim.
   * @param outFeatures - Size of each output's last dim.
   * @param options - bias (default true) and dtype (default 'float32').
   */
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    checkShape('Linear', [inFeatures, outFeatures], { names: ['inFeatures', 'outFeatures'] });
    const dtype = options.dtype ?? 'float32';
    this.weight = new Parameter(uniformFanIn_(zerosTensor([outFeatures, inFeatures], dtype)));
    this.bias =
      options.bias === false ? null : new Parameter(uniformFanIn_(zerosTensor([outFeatures], dtype), inFeatures));
  }

  /** x Wᵀ + b over the last dim of `x` ([..., inFeatures] → [..., outFeatures]). */
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias);
  }

  /** relu(forward(x)) as one fused op (Sequential uses it for a Linear followed by a ReLU). */
  forwardRelu(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias, { activation: 'relu' });
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/**
 * Options of Conv2d: stride (default 1), padding (default 0; or 'same' / 'valid'), dilation (default
 * 1), groups (default 1), bias and dtype.
 */
export interface Conv2dLayerOptions extends Omit<ops.Conv2dOptions, 'activation'> {
  /** Learn an additive bias per output channel (default true); false: bias is null. */
  bias?: boolean;
  /** The dtype of weight and bias (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/**
 * 2-D convolution (cross-correlation) over [N, C, H, W] images, as PyTorch's `torch.nn.Conv2d`.
 *
 * Shape: input [N, inChannels, H, W] (or [inChannels, H, W]) → output [N, outChannels, Hout, Wout] with
 * Hout = ⌊(H + 2·padding[0] − dilation[0]·(kernelSize[0] − 1) − 1) / stride[0]⌋ + 1, and Wout likewise;
 * `padding: 'same'` keeps H and W (stride 1 only), `'valid'` is padding 0. Weight
 * [outChannels, inChannels / groups, kH, kW] and bias [outChannels] start as U(±1/√fanIn) with
 * fanIn = inChannels / groups · kH · kW, like PyTorch's.
 *
 * @example
 * ```ts
 * const conv = new ng.nn.Conv2d(3, 16, 3, { padding: 1 });
 * conv.forward(ng.randn([8, 3, 32, 32])).shape; // [8, 16, 32, 32]
 * ```
 */
export class Conv2d extends Module {
  /** The learnable filters, [outChannels, inChannels / groups, kH, kW]. */
  weight: Parameter;
  /** The learnable bias, [outChannels]; null when built with `bias: false`. */
  bias: Parameter | null;
  /** The kernel's [height, width]. */
  readonly kernelSize: [number, number];

  /**
   * @param inChannels - Channels of the input (C).
   * @param outChannels - Channels of the output: the number of filters.
   * @param kernelSize - The filter size: one number for a square kernel, or [kH, kW].
   * @param options - stride, padding, dilation, groups (inChannels and outChannels must be multiples of
   *   it), bias, dtype.
   */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    readonly options: Conv2dLayerOptions = {},
  ) {
    super();
    checkShape('Conv2d', [inChannels, outChannels], { names: ['inChannels', 'outChannels'] });
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `Conv2d: groups must be a positive integer dividing inChannels ` +
          `(${inChannels}) and outChannels (${outChannels}), got ${groups}`,
      );
    }
    this.kernelSize = ops.pair('Conv2d', 'kernelSize', kernelSize, 1);
    checkWindowOptions('Conv2d', options);
    const dtype = options.dtype ?? 'float32';
    const shape = [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = new Parameter(uniformFanIn_(zerosTensor(shape, dtype)));
    const fanIn = (inChannels / groups) * this.kernelSize[0] * this.kernelSize[1];
    this.bias = options.bias === false ? null : new Parameter(uniformFanIn_(zerosTensor([outChannels], dtype), fanIn));
  }

  /** The convolution of `x` ([N, inChannels, H, W] → [N, outChannels, Hout, Wout]). */
  forward(x: Tensor): Tensor {
    const { stride, padding, dilation, groups } = this.options;
    return ops.conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups });
  }

  /** relu(forward(x)) as one fused op (Sequential uses it for a Conv2d followed by a ReLU). */
  forwardRelu(x: Tensor): Tensor {
    const { stride, padding, dilation, groups } = this.options;
    return ops.conv2d(x, this.weight, this.bias, { stride, padding, dilation, groups, activation: 'relu' });
  }

  override extraRepr(): string {
    const o = this.options;
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pairText(this.kernelSize)}, stride=${pairText(o.stride ?? 1)}`;
    if (o.padding !== undefined && o.padding !== 0)
      s += `, padding=${typeof o.padding === 'string' ? `'${o.padding}'` : pairText(o.padding)}`;
    if (o.dilation !== undefined && o.dilation !== 1) s += `, dilation=${pairText(o.dilation)}`;
    if ((o.groups ?? 1) !== 1) s += `, groups=${o.groups}`;
    if (o.bias === false) s += ', bias=False';
    return s;
  }
}

/** Max and average pooling layers: a window of `kernelSize` with the pooling's options. */
abstract class Pool2dLayer<O extends ops.AvgPool2dOptions | ops.MaxPool2dOptions> extends Module {
  constructor(
    /** The window size: one number for a square window, or [kH, kW]. */
    readonly kernelSize: Pair,
    /** The options the layer was built with. */
    readonly options: O,
  ) {
    super();
    ops.pair(this.typeName, 'kernelSize', kernelSize, 1);
    checkWindowOptions(this.typeName, options);
  }

  override extraRepr(): string {
    return `kernel_size=${String(this.kernelSize)}, stride=${String(this.options.stride ?? this.kernelSize)}, padding=${String(this.options.padding ?? 0)}`;
  }
}

/**
 * The maximum over each window of every channel, as PyTorch's `torch.nn.MaxPool2d`.
 *
 * Shape: input [N, C, H, W] (or [C, H, W]) → output [N, C, Hout, Wout] with
 * Hout = ⌊(H + 2·padding[0] − dilation[0]·(kernelSize[0] − 1) − 1) / stride[0]⌋ + 1 (rounded up with
 * `ceilMode`, as long as the last window starts inside the input or its left padding), and Wout likewise.
 * Padding is implicit −∞ and at most half the kernel.
 */
export class MaxPool2d extends Pool2dLayer<ops.MaxPool2dOptions> {
  /**
   * @param kernelSize - The window size: one number for a square window, or [kH, kW].
   * @param options - stride (default kernelSize), padding (default 0), dilation (default 1), ceilMode (default false).
   */
  constructor(kernelSize: Pair, options: ops.MaxPool2dOptions = {}) {
    super(kernelSize, options);
  }

  /** The pooled `x` ([N, C, H, W] → [N, C, Hout, Wout]). */
  forward(x: Tensor): Tensor {
    return ops.maxPool2d(x, this.kernelSize, this.options);
  }

  /** kernel_size, stride, padding, dilation and ceil_mode, as PyTorch's repr shows them. */
  override extraRepr(): string {
    return `${super.extraRepr()}, dilation=${String(this.options.dilation ?? 1)}, ceil_mode=${this.options.ceilMode ? 'True' : 'False'}`;
  }
}

/**
 * The mean over each window of every channel, as PyTorch's `torch.nn.AvgPool2d`.
 *
 * Shape: input [N, C, H, W] (or [C, H, W]) → output [N, C, Hout, Wout] with
 * Hout = ⌊(H + 2·padding[0] − kernelSize[0]) / stride[0]⌋ + 1 (rounded up with `ceilMode`), and Wout
 * likewise. Padded zeros count in the divisor unless `countIncludePad: false`.
 */
export class AvgPool2d extends Pool2dLayer<ops.AvgPool2dOptions> {
  /**
   * @param kernelSize - The window size: one number for a square window, or [kH, kW].
   * @param options - stride (default kernelSize), padding (default 0), ceilMode (default false),
   *   countIncludePad (default true), divisorOverride (divide by this instead of the window size).
   */
  constructor(kernelSize: Pair, options: ops.AvgPool2dOptions = {}) {
    super(kernelSize, options);
  }

  /** The pooled `x` ([N, C, H, W] → [N, C, Hout, Wout]). */
  forward(x: Tensor): Tensor {
    return ops.avgPool2d(x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling to a fixed output size whatever the input's, as PyTorch's
 * `torch.nn.AdaptiveAvgPool2d`: output cell i averages input rows ⌊i·H / outH⌋ to ⌈(i + 1)·H / outH⌉ − 1,
 * and columns likewise.
 *
 * Shape: input [N, C, H, W] (or [C, H, W]) → output [N, C, outH, outW].
 */
export class AdaptiveAvgPool2d extends Module {
  /** @param outputSize - [outH, outW], or one number for a square output (`1`: global average pooling). */
  constructor(readonly outputSize: Pair) {
    super();
    ops.pair('AdaptiveAvgPool2d', 'outputSize', outputSize, 1);
  }

  /** The pooled `x` ([N, C, H, W] → [N, C, outH, outW]). */
  forward(x: Tensor): Tensor {
    return ops.adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pairText(this.outputSize)}`;
  }
}

/** Options of layers that can overwrite their input (ReLU). */
export interface InplaceOptions {
  /** Overwrite the input instead of allocating an output. */
  inplace?: boolean;
}

/** max(0, x) elementwise, as PyTorch's `torch.nn.ReLU`. Shape: any; the output has the input's shape. */
export class ReLU extends Module {
  /** @param options - inplace (default false): overwrite the input instead of allocating an output. */
  constructor(readonly options: InplaceOptions = {}) {
    super();
  }

  /** max(0, x); with `inplace`, `x` itself, overwritten. */
  forward(x: Tensor): Tensor {
    return this.options.inplace ? ops.relu_(x) : ops.relu(x);
  }

  override extraRepr(): string {
    return this.options.inplace ? 'inplace=True' : '';
  }
}

/** 1 / (1 + e^(−x)) elementwise, as PyTorch's `torch.nn.Sigmoid`. Shape: any; the output has the input's shape. */
export class Sigmoid extends Module {
  /** σ(x), a new tensor. */
  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}

/** tanh(x) elementwise, as PyTorch's `torch.nn.Tanh`. Shape: any; the output has the input's shape. */
export class Tanh extends Module {
  /** tanh(x), a new tensor. */
  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}

/** A layer applied along one dim, shown as `dim=...` in its repr. */
abstract class AlongDim extends Module {
  /** @param dim - The dimension the layer works along (negative counts from the end). */
  constructor(readonly dim: number) {
    super();
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/**
 * exp(x) / Σ exp(x) along `dim`, so that each slice sums to 1, as PyTorch's `torch.nn.Softmax`.
 * Shape: any; the output has the input's shape.
 */
export class Softmax extends AlongDim {
  /** The softmax of `x` along `dim`. */
  forward(x: Tensor): Tensor {
    return ops.softmax(x, this.dim);
  }
}

/**
 * log(softmax(x)) along `dim`, computed with the max subtracted so no exp() overflows, as PyTorch's
 * `torch.nn.LogSoftmax`; pair it with NLLLoss. Shape: any; the output has the input's shape.
 */
export class LogSoftmax extends AlongDim {
  /** The log-softmax of `x` along `dim`. */
  forward(x: Tensor): Tensor {
    return ops.logSoftmax(x, this.dim);
  }
}

/**
 * Inverted dropout, as PyTorch's `torch.nn.Dropout`: in training mode each element is zeroed with
 * probability `p` and the rest are scaled by 1 / (1 − p); in eval mode the input passes unchanged.
 * Shape: any; the output has the input's shape.
 */
export class Dropout extends Module {
  /** @param p - The probability of zeroing an element, in [0, 1] (default 0.5). */
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `Dropout: probability must be in [0, 1], got ${p}`);
    }
  }

  /** `x` with dropout applied in training mode; `x` itself in eval mode. */
  forward(x: Tensor): Tensor {
    return ops.dropout(x, this.p, { training: this.training });
  }

  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}

/**
 * Flattens dims startDim..endDim into one, as PyTorch's `torch.nn.Flatten`: with the defaults
 * [N, C, H, W] → [N, C·H·W], the step between convolutions and a Linear.
 */
export class Flatten extends Module {
  /**
   * @param startDim - The first dim to flatten (default 1: keep the batch dim).
   * @param endDim - The last dim to flatten (default -1: the last).
   */
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  /** `x` with dims startDim..endDim merged (a view when the layout allows). */
  forward(x: Tensor): Tensor {
    return ops.flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Returns its input unchanged, as PyTorch's `torch.nn.Identity`: a placeholder (e.g. a removed head). */
export class Identity extends Module {
  /** `x` itself. */
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * A Conv2d, Linear or batch norm followed by a ReLU, both with their own forward (not a subclass or an instance
 * that replaced it): the pair runs as one fused op, which writes the activation once and keeps only
 * the output for backward. Values and gradients are those of the two layers run one after the other.
 * @internal
 */
export function fusesWithRelu(m: Module, next: Module | undefined): m is Conv2d | Linear | BatchNormBase {
  if (!(next instanceof ReLU) || next.forward !== ReLU.prototype.forward) return false;
  return (
    (m instanceof Conv2d && m.forward === Conv2d.prototype.forward) ||
    (m instanceof Linear && m.forward === Linear.prototype.forward) ||
    (m instanceof BatchNormBase && m.forward === BatchNormBase.prototype.forward)
  );
}

/**
 * A Conv2d followed by an eval-mode BatchNorm2d, both with their own forward, while no grad is
 * recorded: the pair runs as one convolution with the batch norm folded into its weights.
 * @internal
 */
export function foldsWithBatchNorm(conv: Conv2d, next: Module | undefined): next is BatchNorm2d {
  return (
    conv.forward === Conv2d.prototype.forward &&
    next instanceof BatchNorm2d &&
    next.forward === BatchNormBase.prototype.forward &&
    foldsIntoConv(conv, next)
  );
}

/**
 * Marks `used`, an activation between two layers that only the graph holds now, for release once
 * backward has run every node that reads it (see autograd/ephemeral.ts).
 * @internal
 */
export function markGraphOnly(used: Tensor, produced: Tensor, input: Tensor): void {
  const s = used.storage;
  if (s.kept || s === produced.storage || s === input.storage || used.gradFn === null) return;
  s.ephemeral = true;
}

/**
 * Runs modules in order, a Conv2d or Linear and the ReLU after it as one fused op, and without grad
 * a Conv2d and the eval-mode BatchNorm2d after it (and a ReLU) as one convolution. When
 * intermediates are being released (inference mode, a checkpointed segment's first forward) each
 * module keeps only its output (forwardScope), each output is recycled once the next layer has
 * consumed it, and a ReLU works in place on an intermediate, so at most two activations are alive
 * between layers.
 */
export function runChain(modules: readonly Module[], x: Tensor): Tensor {
  // Without a graph nothing but the next layer reads an intermediate, so it is recycled once that
  // layer ran; unless the layer that made it has hooks, which may have kept it.
  const dropConsumed = releasesIntermediates() || !isGradEnabled();
  let h = x;
  let producerHooked = false;
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i];
    let next: Tensor;
    const after = modules[i + 1];
    if (m instanceof Conv2d && foldsWithBatchNorm(m, after)) {
      const relu = fusesWithRelu(after, modules[i + 2]);
      next = convBatchNorm(m, after, h, relu);
      i += relu ? 2 : 1;
    } else if (fusesWithRelu(m, after)) {
      next = m.forwardRelu(h);
      i++;
    } else {
      const own = releasesIntermediates() && h.storage !== x.storage;
      const input = h;
      next =
        own && m instanceof ReLU && m.forward === ReLU.prototype.forward
          ? ops.relu_(h)
          : forwardScope(() => m.forward(input));
    }
    if (!producerHooked) {
      if (dropConsumed) releaseConsumed(h, next, x);
      else markGraphOnly(h, next, x);
    }
    producerHooked = Object.hasOwn(modules[i], 'forward');
    h = next;
  }
  return h;
}

/**
 * Runs its children in order, each one's output the next one's input, as PyTorch's
 * `torch.nn.Sequential`; they are named '0', '1', ... (state-dict keys `0.weight`, `2.bias`). A Conv2d
 * or Linear followed by a ReLU runs as one fused op with the same values and gradients.
 *
 * @example
 * ```ts
 * const { nn } = ng;
 * const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * model.forward(ng.randn([32, 1, 28, 28])).shape; // [32, 10]
 * Object.keys(model.stateDict()); // ['1.weight', '1.bias', '3.weight', '3.bias']
 * ```
 */
export class Sequential extends Module {
  /** @param modules - The Tensor → Tensor modules to run, in order. */
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      (this as unknown as Record<string, Module>)[String(i)] = m;
    });
  }

  /** The children in order, typed as the Tensor → Tensor modules the constructor takes. */
  override *children(): Generator<Module> {
    for (const child of super.children()) yield child as Module;
  }

  /** The children in order, as an array. */
  layers(): Module[] {
    return [...this.children()];
  }

  /** The number of children. */
  get length(): number {
    return this.layers().length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const list = this.layers();
    return list[i < 0 ? list.length + i : i];
  }

  /** `x` run through every child in order. */
  forward(x: Tensor): Tensor {
    return runChain(this.layers(), x);
  }
}
