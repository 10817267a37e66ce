/** Dropout1d, Dropout2d and AlphaDropout: PyTorch's dropout variants, drawn from ng.manualSeed's generator. */
import { NodegradError } from '../errors.js';
import { alphaDropout, dropout1d, dropout2d, type DropoutOptions } from '../ops/dropout.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

type DropoutFn = (x: Tensor, p: number, options: DropoutOptions) => Tensor;

abstract class DropoutVariant extends Module {
  /**
   * @param p - The probability of dropping (an element or a channel), in [0, 1].
   * @param dropoutFn - The functional form this layer applies.
   */
  constructor(
    readonly p: number,
    private readonly dropoutFn: DropoutFn,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${this.typeName}: probability must be in [0, 1], got ${p}`);
    }
  }

  /** `x` with dropout applied in training mode; `x` itself in eval mode. */
  forward(x: Tensor): Tensor {
    return this.dropoutFn(x, this.p, { training: this.training });
  }

  override extraRepr(): string {
    return `p=${this.p}, inplace=False`;
  }
}

/**
 * Channel dropout, as `torch.nn.Dropout1d`: in training each channel of [N, C, L] (or [C, L]) input
 * is zeroed whole with probability p and the others scaled by 1 / (1 − p). Shape: the input's.
 */
export class Dropout1d extends DropoutVariant {
  /** @param p - The probability of dropping, in [0, 1] (default 0.5). */
  constructor(p = 0.5) {
    super(p, dropout1d);
  }
}

/**
 * Channel dropout, as `torch.nn.Dropout2d`: in training each feature map of [N, C, H, W] (or
 * [C, H, W]) input is zeroed whole with probability p and the others scaled by 1 / (1 − p).
 */
export class Dropout2d extends DropoutVariant {
  /** @param p - The probability of dropping, in [0, 1] (default 0.5). */
  constructor(p = 0.5) {
    super(p, dropout2d);
  }
}

/**
 * Alpha dropout, as `torch.nn.AlphaDropout`: dropped elements take SELU's negative saturation
 * value and the output is affinely rescaled so zero-mean, unit-variance input keeps its mean and
 * variance (for SELU networks). Shape: any; the output has the input's shape.
 */
export class AlphaDropout extends DropoutVariant {
  /** @param p - The probability of dropping, in [0, 1] (default 0.5). */
  constructor(p = 0.5) {
    super(p, alphaDropout);
  }
}
