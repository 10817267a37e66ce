/**
 * BatchNorm1d / BatchNorm2d: batch statistics in training mode (running statistics updated in
 * place), running statistics in eval mode. running_mean, running_var and num_batches_tracked are
 * buffers: in the state dict, not in parameters().
 */
import { NodegradError, formatShape } from '../errors.js';
import { batchNorm, batchNormRelu } from '../ops/norm.js';
import { full } from '../tensor/creation.js';
import { checkShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Options of BatchNorm1d and BatchNorm2d (PyTorch's keyword arguments in camelCase). */
export interface BatchNormLayerOptions {
  /** Added to the variance before its square root, for stability. Default 1e-5. */
  eps?: number;
  /** Weight of each new batch in the running statistics; null = cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learnable scale and shift. Default true. */
  affine?: boolean;
  /** Keep running statistics (and use them in eval mode). Default true. */
  trackRunningStats?: boolean;
  /** The dtype of the parameters and running statistics. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/** Formats a number as Python's repr does (1e-05, 0.1), so reprs match PyTorch's. */
function pythonNumber(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

/**
 * What the batch-norm layers share: parameters, running-statistics buffers, options, the forward and
 * the repr; subclasses check the input's dims.
 *
 * @internal
 */
export abstract class BatchNormBase extends Module {
  /** The learnable scale γ, [numFeatures], starting at 1; null without `affine`. */
  weight: Parameter | null;
  /** The learnable shift β, [numFeatures], starting at 0; null without `affine`. */
  bias: Parameter | null;
  /** Buffer: the running mean per channel, starting at 0; null without `trackRunningStats`. */
  declare running_mean: Tensor | null;
  /** Buffer: the running (unbiased) variance per channel, starting at 1; null without `trackRunningStats`. */
  declare running_var: Tensor | null;
  /** Buffer: the int32 count of training batches seen; null without `trackRunningStats`. */
  declare num_batches_tracked: Tensor | null;
  /** Added to the variance before its square root. */
  readonly eps: number;
  /** Weight of each new batch in the running statistics; null: cumulative average. */
  readonly momentum: number | null;

  /**
   * @param numFeatures - C, the number of channels (dim 1 of the input).
   * @param options - eps (default 1e-5), momentum (default 0.1), affine (default true),
   *   trackRunningStats (default true), dtype (default 'float32').
   */
  constructor(
    readonly numFeatures: number,
    readonly options: BatchNormLayerOptions = {},
  ) {
    super();
    checkShape(this.typeName, [numFeatures], { names: ['numFeatures'] });
    const dtype = options.dtype ?? 'float32';
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const affine = options.affine ?? true;
    this.weight = affine ? new Parameter(full([numFeatures], 1, { dtype })) : null;
    this.bias = affine ? new Parameter(full([numFeatures], 0, { dtype })) : null;
    const track = options.trackRunningStats ?? true;
    this.registerBuffer('running_mean', track ? full([numFeatures], 0, { dtype }) : null);
    this.registerBuffer('running_var', track ? full([numFeatures], 1, { dtype }) : null);
    this.registerBuffer('num_batches_tracked', track ? full([], 0, { dtype: 'int32' }) : null);
  }

  /** Throws unless `x` has the dims this layer normalizes. */
  protected abstract checkInput(x: Tensor): void;

  /**
   * `x` normalized per channel, then scaled and shifted; in training mode the running statistics are
   * updated in place.
   */
  forward(x: Tensor): Tensor {
    return this.run(x, false);
  }

  /**
   * relu(forward(x)) in one pass (ng.batchNormRelu): what runChain and Sequential run for a batch
   * norm followed by a ReLU.
   */
  forwardRelu(x: Tensor): Tensor {
    return this.run(x, true);
  }

  private run(x: Tensor, relu: boolean): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `${this.typeName}: expected input with ${this.numFeatures} channels (dim 1), got ${formatShape(x.shape)}`,
      );
    }
    // Batch statistics in training, and always when no running statistics are kept.
    const useBatch = this.training || !this.running_mean;
    let batchesTracked = 0;
    if (this.training && this.num_batches_tracked) {
      batchesTracked = this.num_batches_tracked.item() + 1;
      writeInPlace(this.typeName, this.num_batches_tracked, (values) => values.fill(batchesTracked));
    }
    return (relu ? batchNormRelu : batchNorm)(x, {
      runningMean: useBatch && !this.training ? null : this.running_mean,
      runningVar: useBatch && !this.training ? null : this.running_var,
      weight: this.weight,
      bias: this.bias,
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
      batchesTracked,
    });
  }

  /** PyTorch's repr of the options: `64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True`. */
  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pythonNumber(this.eps)}, momentum=${this.momentum ?? 'None'}, ` +
      `affine=${this.weight ? 'True' : 'False'}, track_running_stats=${this.running_mean ? 'True' : 'False'}`
    );
  }
}

/**
 * Batch normalization over [N, C] or [N, C, L] inputs, as PyTorch's `torch.nn.BatchNorm1d`:
 * y = (x − mean) / √(var + eps) · γ + β per channel, with the batch's statistics (over N and L) in
 * training mode and the running statistics in eval mode. Shape: the output has the input's shape.
 */
export class BatchNorm1d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `BatchNorm1d: expected 2-D or 3-D input, got ${formatShape(x.shape)}`,
      );
    }
  }
}

/**
 * Batch normalization over [N, C, H, W] inputs, as PyTorch's `torch.nn.BatchNorm2d`:
 * y = (x − mean) / √(var + eps) · γ + β per channel, with the batch's statistics (over N, H and W) in
 * training mode and the running statistics in eval mode. Shape: the output has the input's shape.
 */
export class BatchNorm2d extends BatchNormBase {
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `BatchNorm2d: expected 4-D input [N, C, H, W], got ${formatShape(x.shape)}`,
      );
    }
  }
}
