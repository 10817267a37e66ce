/** Linear, Conv2d and the parameter-free layers, with PyTorch's defaults and reprs. */
import { checkpoint } from '../autograd/checkpoint.js';
import { forwardScope, releaseConsumed, releasesIntermediates } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { zerosTensor } from '../tensor/tensor.js';
import { checkShape } from '../tensor/shape.js';
import * as ops from '../ops/index.js';
import type { Pair } from '../ops/conv.js';
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

export interface LinearOptions {
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

/** y = x Wᵀ + b. Weight [out, in] and bias [out] start as U(±1/√in), like PyTorch's. */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

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

export interface Conv2dLayerOptions extends Omit<ops.Conv2dOptions, 'activation'> {
  bias?: boolean;
  dtype?: 'float32' | 'float64';
}

/** 2-D convolution; weight [out, in / groups, kH, kW] and bias start as U(±1/√(in/groups·kH·kW)). */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];

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
    readonly kernelSize: Pair,
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

export class MaxPool2d extends Pool2dLayer<ops.MaxPool2dOptions> {
  constructor(kernelSize: Pair, options: ops.MaxPool2dOptions = {}) {
    super(kernelSize, options);
  }

  forward(x: Tensor): Tensor {
    return ops.maxPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, dilation=${String(this.options.dilation ?? 1)}, ceil_mode=${this.options.ceilMode ? 'True' : 'False'}`;
  }
}

export class AvgPool2d extends Pool2dLayer<ops.AvgPool2dOptions> {
  constructor(kernelSize: Pair, options: ops.AvgPool2dOptions = {}) {
    super(kernelSize, options);
  }

  forward(x: Tensor): Tensor {
    return ops.avgPool2d(x, this.kernelSize, this.options);
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
    ops.pair('AdaptiveAvgPool2d', 'outputSize', outputSize, 1);
  }

  forward(x: Tensor): Tensor {
    return ops.adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pairText(this.outputSize)}`;
  }
}

export interface InplaceOptions {
  /** Overwrite the input instead of allocating an output. */
  inplace?: boolean;
}

export class ReLU extends Module {
  constructor(readonly options: InplaceOptions = {}) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.options.inplace ? ops.relu_(x) : ops.relu(x);
  }

  override extraRepr(): string {
    return this.options.inplace ? 'inplace=True' : '';
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}

/** A layer applied along one dim, shown as `dim=...` in its repr. */
abstract class AlongDim extends Module {
  constructor(readonly dim: number) {
    super();
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

export class Softmax extends AlongDim {
  forward(x: Tensor): Tensor {
    return ops.softmax(x, this.dim);
  }
}

export class LogSoftmax extends AlongDim {
  forward(x: Tensor): Tensor {
    return ops.logSoftmax(x, this.dim);
  }
}

/** Inverted dropout in training mode, identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `Dropout: probability must be in [0, 1], got ${p}`);
    }
  }

  forward(x: Tensor): Tensor {
    return ops.dropout(x, this.p, { training: this.training });
  }

  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}

export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return ops.flatten(x, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * A Conv2d or Linear followed by a ReLU, both with their own forward (not a subclass or an instance
 * that replaced it): the pair runs as one fused op, which writes the activation once and keeps only
 * the output for backward. Values and gradients are those of the two layers run one after the other.
 */
function fusesWithRelu(m: Module, next: Module | undefined): m is Conv2d | Linear {
  if (!(next instanceof ReLU) || next.forward !== ReLU.prototype.forward) return false;
  return (
    (m instanceof Conv2d && m.forward === Conv2d.prototype.forward) ||
    (m instanceof Linear && m.forward === Linear.prototype.forward)
  );
}

/**
 * Runs modules in order, a Conv2d or Linear and the ReLU after it as one fused op. When
 * intermediates are being released (inference mode, a checkpointed segment's first forward) each
 * module keeps only its output (forwardScope), each output is recycled once the next layer has
 * consumed it, and a ReLU works in place on an intermediate, so at most two activations are alive
 * between layers.
 */
export function runChain(modules: readonly Module[], x: Tensor): Tensor {
  let h = x;
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i];
    let next: Tensor;
    if (fusesWithRelu(m, modules[i + 1])) {
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
    releaseConsumed(h, next, x);
    h = next;
  }
  return h;
}

/** Runs its children in order; they are named '0', '1', ... as in PyTorch. */
export class Sequential extends Module {
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

  layers(): Module[] {
    return [...this.children()];
  }

  get length(): number {
    return this.layers().length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const list = this.layers();
    return list[i < 0 ? list.length + i : i];
  }

  forward(x: Tensor): Tensor {
    return runChain(this.layers(), x);
  }
}

function isInplaceReLU(layer: unknown): boolean {
  return layer instanceof ReLU && Boolean(layer.options.inplace);
}

/**
 * Runs a Sequential in `segments` pieces, checkpointing all but the last: only each segment's input
 * is kept for backward, the rest is recomputed (√depth segments is the usual balance).
 */
export function checkpointSequential(seq: Sequential, segments: number, input: Tensor): Tensor {
  const layers = seq.layers();
  if (!Number.isInteger(segments) || segments < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `checkpointSequential: segments must be a positive integer, got ${segments}`,
    );
  }
  const size = Math.ceil(layers.length / segments);
  // Segment starts; an in-place layer never starts one (it would overwrite the segment's saved input).
  const starts: number[] = [];
  for (let b = 0; b < layers.length; b += size) {
    let start = b;
    while (start > 0 && start < layers.length && isInplaceReLU(layers[start])) start++;
    if (start < layers.length && !starts.includes(start)) starts.push(start);
  }
  let h = input;
  starts.forEach((start, i) => {
    const part = layers.slice(start, starts[i + 1] ?? layers.length);
    const run = (x: Tensor) => runChain(part, x);
    h = i === starts.length - 1 ? run(h) : checkpoint(run, h);
  });
  return h;
}
