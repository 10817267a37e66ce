/**
 * LayerNorm, RMSNorm, GroupNorm and InstanceNorm1d/2d: PyTorch's normalization layers, with its
 * option names in camelCase and its state-dict keys (weight, bias, running_mean, running_var,
 * num_batches_tracked).
 */
import { NodegradError, formatShape } from '../errors.js';
import { groupNorm, instanceNorm, layerNorm, rmsNorm } from '../ops/layer-norm.js';
import { squeeze, unsqueeze } from '../ops/shape.js';
import { full } from '../tensor/creation.js';
import { checkShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Python's repr of a float (1e-05, 0.1), so reprs match PyTorch's. */
function pythonNumber(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

const pythonBool = (b: boolean): string => (b ? 'True' : 'False');

/** Python's repr of a tuple: (5,) and (3, 5). */
const pythonTuple = (values: readonly number[]): string =>
  values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;

function shapeList(op: string, normalizedShape: number | readonly number[]): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  checkShape(op, shape, { names: shape.map((_, i) => `normalizedShape[${i}]`) });
  return shape;
}

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance before its square root. Default 1e-5. */
  eps?: number;
  /** Learnable per-element weight (ones) and bias (zeros) of normalizedShape. Default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the bias. Default true. */
  bias?: boolean;
  /** The dtype of the parameters. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/**
 * Layer normalization over the trailing dims, as `torch.nn.LayerNorm`: y = (x − mean) / √(var + eps) ·
 * weight + bias, the statistics taken over the last `normalizedShape.length` dims of each sample.
 * Shape: input [*, ...normalizedShape]; the output has the input's shape.
 *
 * @example
 * ```ts
 * const norm = new nn.LayerNorm(512, { eps: 1e-6 });
 * const y = norm.forward(x); // x: [batch, seq, 512]
 * ```
 */
export class LayerNorm extends Module {
  /** The dims normalized over (the input's trailing dims). */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before its square root. */
  readonly eps: number;
  /** Learnable scale, normalizedShape, starting at 1; null without `elementwiseAffine`. */
  weight: Parameter | null;
  /** Learnable shift, normalizedShape, starting at 0; null without `elementwiseAffine` or `bias`. */
  bias: Parameter | null;

  /**
   * @param normalizedShape - The trailing dims to normalize over (a number for the last dim only).
   * @param options - eps (default 1e-5), elementwiseAffine (default true), bias (default true), dtype.
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = shapeList('LayerNorm', normalizedShape);
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(full(this.normalizedShape, 1, { dtype })) : null;
    this.bias = affine && (options.bias ?? true) ? new Parameter(full(this.normalizedShape, 0, { dtype })) : null;
  }

  /** `x` normalized over its trailing normalizedShape dims, then scaled and shifted. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${pythonTuple(this.normalizedShape)}, eps=${pythonNumber(this.eps)}, elementwise_affine=${pythonBool(this.weight !== null)}`;
  }
}

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Added to mean(x²); default (undefined or null): the machine epsilon of the input's dtype. */
  eps?: number | null;
  /** Learnable per-element weight of normalizedShape, starting at 1. Default true. */
  elementwiseAffine?: boolean;
  /** The dtype of the weight. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/**
 * Root-mean-square normalization, as PyTorch 2.4's `torch.nn.RMSNorm`: y = x · rsqrt(mean(x²) + eps) ·
 * weight over the trailing `normalizedShape` dims; eps defaults to torch.finfo(x.dtype).eps.
 * Shape: input [*, ...normalizedShape]; the output has the input's shape.
 */
export class RMSNorm extends Module {
  /** The dims normalized over (the input's trailing dims). */
  readonly normalizedShape: readonly number[];
  /** Added to mean(x²); null: the machine epsilon of the input's dtype. */
  readonly eps: number | null;
  /** Learnable scale, normalizedShape, starting at 1; null without `elementwiseAffine`. */
  weight: Parameter | null;

  /**
   * @param normalizedShape - The trailing dims to normalize over (a number for the last dim only).
   * @param options - eps (default: the dtype's machine epsilon), elementwiseAffine (default true), dtype.
   */
  constructor(normalizedShape: number | readonly number[], options: RMSNormOptions = {}) {
    super();
    this.normalizedShape = shapeList('RMSNorm', normalizedShape);
    this.eps = options.eps ?? null;
    const dtype = options.dtype ?? 'float32';
    this.weight = (options.elementwiseAffine ?? true) ? new Parameter(full(this.normalizedShape, 1, { dtype })) : null;
  }

  /** `x` divided by its root mean square over the trailing dims, then scaled. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }

  override extraRepr(): string {
    const eps = this.eps === null ? 'None' : pythonNumber(this.eps);
    return `${pythonTuple(this.normalizedShape)}, eps=${eps}, elementwise_affine=${pythonBool(this.weight !== null)}`;
  }
}

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance before its square root. Default 1e-5. */
  eps?: number;
  /** Learnable per-channel weight (ones) and bias (zeros). Default true. */
  affine?: boolean;
  /** The dtype of the parameters. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/**
 * Group normalization, as `torch.nn.GroupNorm`: the channels split into numGroups groups, each
 * sample's group normalized over its channels and positions, then a per-channel affine.
 * Shape: input [N, C, *] with C = numChannels; the output has the input's shape.
 */
export class GroupNorm extends Module {
  /** Added to the variance before its square root. */
  readonly eps: number;
  /** Learnable scale [numChannels], starting at 1; null without `affine`. */
  weight: Parameter | null;
  /** Learnable shift [numChannels], starting at 0; null without `affine`. */
  bias: Parameter | null;

  /**
   * @param numGroups - The number of groups; must divide numChannels.
   * @param numChannels - C, the channels of the input (dim 1).
   * @param options - eps (default 1e-5), affine (default true), dtype (default 'float32').
   */
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    checkShape('GroupNorm', [numGroups, numChannels], { names: ['numGroups', 'numChannels'] });
    if (numGroups < 1 || numChannels % numGroups !== 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `GroupNorm: expected numGroups to divide numChannels, got numGroups ${numGroups} and numChannels ${numChannels}`,
      );
    }
    this.eps = options.eps ?? 1e-5;
    const dtype = options.dtype ?? 'float32';
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter(full([numChannels], 1, { dtype })) : null;
    this.bias = affine ? new Parameter(full([numChannels], 0, { dtype })) : null;
  }

  /** `x` normalized per (sample, group), then scaled and shifted per channel. */
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `GroupNorm: expected input of shape [N, ${this.numChannels}, *], got ${formatShape(x.shape)}`,
      );
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pythonNumber(this.eps)}, affine=${pythonBool(this.weight !== null)}`;
  }
}

/** Options of InstanceNorm1d and InstanceNorm2d (PyTorch's keyword arguments in camelCase). */
export interface InstanceNormLayerOptions {
  /** Added to the variance before its square root. Default 1e-5. */
  eps?: number;
  /** Weight of each batch in the running statistics. Default 0.1. */
  momentum?: number;
  /** Learnable per-channel weight and bias. Default false (as PyTorch). */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode. Default false (as PyTorch). */
  trackRunningStats?: boolean;
  /** The dtype of the parameters and running statistics. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

abstract class InstanceNormBase extends Module {
  /** Learnable scale [numFeatures], starting at 1; null without `affine`. */
  weight: Parameter | null;
  /** Learnable shift [numFeatures], starting at 0; null without `affine`. */
  bias: Parameter | null;
  /** Buffer: the running mean per channel; null without `trackRunningStats`. */
  declare running_mean: Tensor | null;
  /** Buffer: the running (unbiased) variance per channel; null without `trackRunningStats`. */
  declare running_var: Tensor | null;
  /** Buffer: the int32 count of training batches seen; null without `trackRunningStats`. */
  declare num_batches_tracked: Tensor | null;
  /** Added to the variance before its square root. */
  readonly eps: number;
  /** Weight of each batch in the running statistics. */
  readonly momentum: number;

  /** The input rank with a batch dim (3 for InstanceNorm1d, 4 for InstanceNorm2d). */
  protected abstract readonly batchedDims: number;

  /**
   * @param numFeatures - C, the number of channels.
   * @param options - eps (default 1e-5), momentum (default 0.1), affine (default false),
   *   trackRunningStats (default false), dtype (default 'float32').
   */
  constructor(
    readonly numFeatures: number,
    options: InstanceNormLayerOptions = {},
  ) {
    super();
    checkShape(this.typeName, [numFeatures], { names: ['numFeatures'] });
    const dtype = options.dtype ?? 'float32';
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? false;
    this.weight = affine ? new Parameter(full([numFeatures], 1, { dtype })) : null;
    this.bias = affine ? new Parameter(full([numFeatures], 0, { dtype })) : null;
    const track = options.trackRunningStats ?? false;
    this.registerBuffer('running_mean', track ? full([numFeatures], 0, { dtype }) : null);
    this.registerBuffer('running_var', track ? full([numFeatures], 1, { dtype }) : null);
    this.registerBuffer('num_batches_tracked', track ? full([], 0, { dtype: 'int32' }) : null);
  }

  /** `x` normalized per (sample, channel); unbatched input (one dim fewer) is accepted. */
  forward(x: Tensor): Tensor {
    const n = this.batchedDims;
    if (x.ndim !== n && x.ndim !== n - 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${this.typeName}: expected ${n - 1}-D or ${n}-D input, got ${formatShape(x.shape)}`,
      );
    }
    const batched = x.ndim === n ? x : unsqueeze(x, 0);
    const channels = batched.shape[1];
    if (channels !== this.numFeatures && (this.weight !== null || this.running_mean !== null)) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${this.typeName}: expected input with ${this.numFeatures} channels, got ${formatShape(x.shape)}`,
      );
    }
    const track = this.training && this.num_batches_tracked;
    if (track) {
      const count = track.item() + 1;
      writeInPlace(this.typeName, track, (values) => values.fill(count));
    }
    const y = instanceNorm(batched, {
      runningMean: this.running_mean,
      runningVar: this.running_var,
      weight: this.weight,
      bias: this.bias,
      useInputStats: this.training || !this.running_mean,
      momentum: this.momentum,
      eps: this.eps,
    });
    return x.ndim === n ? y : squeeze(y, 0);
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pythonNumber(this.eps)}, momentum=${this.momentum}, ` +
      `affine=${pythonBool(this.weight !== null)}, track_running_stats=${pythonBool(this.running_mean !== null)}`
    );
  }
}

/**
 * Instance normalization over [N, C, L] (or unbatched [C, L]) inputs, as `torch.nn.InstanceNorm1d`:
 * each (sample, channel) normalized over L, then an optional per-channel affine. With
 * trackRunningStats, eval mode uses the running statistics. Shape: the output has the input's shape.
 */
export class InstanceNorm1d extends InstanceNormBase {
  protected readonly batchedDims = 3;
}

/**
 * Instance normalization over [N, C, H, W] (or unbatched [C, H, W]) inputs, as
 * `torch.nn.InstanceNorm2d`: each (sample, channel) normalized over H and W, then an optional
 * per-channel affine. Shape: the output has the input's shape.
 */
export class InstanceNorm2d extends InstanceNormBase {
  protected readonly batchedDims = 4;
}
