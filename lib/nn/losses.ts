/** Loss modules: each holds its options and calls the functional form in forward(input, target). */
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { Module } from './module.js';

/** Losses take (input, target) and call their functional form with the options they hold. */
abstract class Loss<O> extends Module<[input: Tensor, target: Tensor]> {
  protected abstract readonly functional: (input: Tensor, target: Tensor, options: O) => Tensor;

  constructor(readonly options: O = {} as O) {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return this.functional(input, target, this.options);
  }

  override extraRepr(): string {
    const r = (this.options as { reduction?: string }).reduction;
    return r && r !== 'mean' ? `reduction=${r}` : '';
  }
}

export class CrossEntropyLoss extends Loss<ops.CrossEntropyOptions> {
  protected readonly functional = ops.crossEntropy;
}

export class NLLLoss extends Loss<ops.NllLossOptions> {
  protected readonly functional = ops.nllLoss;
}

export class MSELoss extends Loss<ops.ReductionOptions> {
  protected readonly functional = ops.mseLoss;
}

export class L1Loss extends Loss<ops.ReductionOptions> {
  protected readonly functional = ops.l1Loss;
}

export class BCELoss extends Loss<ops.BceOptions> {
  protected readonly functional = ops.bceLoss;
}

export class BCEWithLogitsLoss extends Loss<ops.BceWithLogitsOptions> {
  protected readonly functional = ops.bceWithLogits;
}

export class KLDivLoss extends Loss<ops.KlDivOptions> {
  protected readonly functional = ops.klDiv;
}

/** The lecture's general framework loss (see frameworkLoss). */
export class FrameworkLoss extends Loss<ops.FrameworkLossOptions> {
  protected readonly functional = ops.frameworkLoss;
}
