/** Loss modules: each holds its options and calls the functional form in forward(input, target). */
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { Module } from './module.js';

/** Losses take (input, target) and call their functional form with the options they hold. */
abstract class Loss<O> extends Module<[input: Tensor, target: Tensor]> {
  /** The function in ng.nn.functional that forward calls. */
  protected abstract readonly functional: (input: Tensor, target: Tensor, options: O) => Tensor;

  /** @param options - The functional form's options, e.g. `{ reduction: 'sum' }` (default 'mean'). */
  constructor(readonly options: O = {} as O) {
    super();
  }

  /** The loss of `input` against `target`: a scalar with reduction 'mean' or 'sum', per element with 'none'. */
  forward(input: Tensor, target: Tensor): Tensor {
    return this.functional(input, target, this.options);
  }

  override extraRepr(): string {
    const r = (this.options as { reduction?: string }).reduction;
    return r && r !== 'mean' ? `reduction=${r}` : '';
  }
}

/**
 * Cross-entropy of logits against class indices or class probabilities, as PyTorch's
 * `torch.nn.CrossEntropyLoss` (logSoftmax and NLLLoss in one, fused for index targets).
 *
 * Shape: input [N, C] (or [C], or [N, C, d1, ...]) of raw logits; target int32 class indices [N]
 * (or [], [N, d1, ...]) or float probabilities of the input's shape. Options: weight [C],
 * ignoreIndex (default -100), labelSmoothing (default 0), reduction (default 'mean').
 *
 * @example
 * ```ts
 * const logits = ng.randn([4, 10], { requiresGrad: true });
 * const labels = ng.tensor([1, 0, 9, 3], { dtype: 'int32' });
 * const loss = new ng.nn.CrossEntropyLoss().forward(logits, labels); // a scalar
 * loss.backward(); // logits.grad: [4, 10]
 * ```
 */
export class CrossEntropyLoss extends Loss<ops.CrossEntropyOptions> {
  protected readonly functional = ops.crossEntropy;
}

/**
 * Negative log-likelihood of class-index targets given log-probabilities (a LogSoftmax output), as
 * PyTorch's `torch.nn.NLLLoss`. Shape: input [N, C] (or [C]); target int32 [N] (or []). Options:
 * weight [C], ignoreIndex (default -100), reduction (default 'mean').
 */
export class NLLLoss extends Loss<ops.NllLossOptions> {
  protected readonly functional = ops.nllLoss;
}

/**
 * Mean squared error (input − target)², as PyTorch's `torch.nn.MSELoss`. Shape: input and target
 * of the same shape. Option: reduction (default 'mean').
 */
export class MSELoss extends Loss<ops.ReductionOptions> {
  protected readonly functional = ops.mseLoss;
}

/**
 * Mean absolute error |input − target|, as PyTorch's `torch.nn.L1Loss`. Shape: input and target of
 * the same shape. Option: reduction (default 'mean').
 */
export class L1Loss extends Loss<ops.ReductionOptions> {
  protected readonly functional = ops.l1Loss;
}

/**
 * Binary cross-entropy −w·(y·log x + (1 − y)·log(1 − x)) of probabilities x (a Sigmoid output),
 * as PyTorch's `torch.nn.BCELoss`; each log is clamped at −100. Shape: input and target of the same
 * shape. Options: weight (broadcast to the input), reduction (default 'mean').
 */
export class BCELoss extends Loss<ops.BceOptions> {
  protected readonly functional = ops.bceLoss;
}

/**
 * Sigmoid and binary cross-entropy in one numerically stable step, as PyTorch's
 * `torch.nn.BCEWithLogitsLoss`. Shape: input (logits) and target of the same shape. Options: weight
 * (broadcast to the input), posWeight (weight of positives, one per class along the last dim),
 * reduction (default 'mean').
 */
export class BCEWithLogitsLoss extends Loss<ops.BceWithLogitsOptions> {
  protected readonly functional = ops.bceWithLogits;
}

/**
 * Kullback–Leibler divergence target·(log target − input) of log-probabilities `input` from `target`,
 * as PyTorch's `torch.nn.KLDivLoss`. Shape: input and target of the same shape. Options: reduction
 * (default 'mean'; 'batchmean' divides the sum by the batch size, the true KL mean), logTarget
 * (the target holds log-probabilities; default false).
 */
export class KLDivLoss extends Loss<ops.KlDivOptions> {
  protected readonly functional = ops.klDiv;
}

/**
 * The lecture's general framework loss ε·ln Σ_ŷ exp((L(y, ŷ) + F(x, ŷ)) / ε) − F(x, y) of scores
 * F [N, C] and class-index targets y [N] (see frameworkLoss): ε = 1 with no task loss is
 * cross-entropy, ε = 0 with the 0/1 task loss the multiclass SVM. Options: epsilon (default 1),
 * taskLoss ('none', 'zeroOne' or a [C, C] matrix; default 'none'), reduction (default 'mean').
 */
export class FrameworkLoss extends Loss<ops.FrameworkLossOptions> {
  protected readonly functional = ops.frameworkLoss;
}
