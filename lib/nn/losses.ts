/** Loss modules: each holds its options and calls the functional form in forward(input, target). */
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { Module } from './module.js';

/** Losses take (input, target). */
abstract class Loss<O> extends Module<[input: Tensor, target: Tensor]> {
  constructor(readonly options: O = {} as O) {
    super();
  }

  override extraRepr(): string {
    const r = (this.options as { reduction?: string }).reduction;
    return r && r !== 'mean' ? `reduction=${r}` : '';
  }
}

export class CrossEntropyLoss extends Loss<ops.CrossEntropyOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.crossEntropy(input, target, this.options);
  }
}

export class NLLLoss extends Loss<ops.NllLossOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.nllLoss(input, target, this.options);
  }
}

export class MSELoss extends Loss<ops.ReductionOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.mseLoss(input, target, this.options);
  }
}

export class L1Loss extends Loss<ops.ReductionOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.l1Loss(input, target, this.options);
  }
}

export class BCELoss extends Loss<ops.BceOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.bceLoss(input, target, this.options);
  }
}

export class BCEWithLogitsLoss extends Loss<ops.BceWithLogitsOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.bceWithLogits(input, target, this.options);
  }
}

export class KLDivLoss extends Loss<ops.KlDivOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.klDiv(input, target, this.options);
  }
}

/** The lecture's general framework loss (see frameworkLoss). */
export class FrameworkLoss extends Loss<ops.FrameworkLossOptions> {
  forward(input: Tensor, target: Tensor): Tensor {
    return ops.frameworkLoss(input, target, this.options);
  }
}
