/** Loss modules: each holds its options and calls the functional form in forward(input, target). */
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { Module } from './module.js';

/**
 * Losses take (input, target), or the inputs their functional form takes before its options, and
 * call that function with the options they hold.
 */
abstract class Loss<O, Args extends unknown[] = [input: Tensor, target: Tensor]> extends Module<Args> {
  /** The function in ng.nn.functional that forward calls. */
  protected abstract readonly functional: (...args: [...Args, O]) => Tensor;

  /** @param options - The functional form's options, e.g. `{ reduction: 'sum' }` (default 'mean'). */
  constructor(readonly options: O = {} as O) {
    super();
  }

  /** The loss of the inputs: a scalar with reduction 'mean' or 'sum', per element (or sample) with 'none'. */
  forward(...args: Args): Tensor {
    return this.functional(...args, this.options);
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

/**
 * Smooth L1 loss 0.5·d²/β where |d| < β, else |d| − 0.5·β (d = input − target), as PyTorch's
 * `torch.nn.SmoothL1Loss`. Shape: input and target of the same shape. Options: beta (default 1; 0
 * gives the L1 loss), reduction (default 'mean').
 */
export class SmoothL1Loss extends Loss<ops.SmoothL1LossOptions> {
  protected readonly functional = ops.smoothL1Loss;
}

/**
 * Huber loss 0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ) (d = input − target), as PyTorch's
 * `torch.nn.HuberLoss`. Shape: input and target of the same shape. Options: delta (default 1),
 * reduction (default 'mean').
 */
export class HuberLoss extends Loss<ops.HuberLossOptions> {
  protected readonly functional = ops.huberLoss;
}

/**
 * Poisson negative log-likelihood, as PyTorch's `torch.nn.PoissonNLLLoss`: exp(input) − target·input
 * for log-rate inputs. Shape: input and target of the same shape. Options: logInput (default true),
 * full (Stirling's term, default false), eps (default 1e-8), reduction (default 'mean').
 */
export class PoissonNLLLoss extends Loss<ops.PoissonNllLossOptions> {
  protected readonly functional = ops.poissonNllLoss;
}

/**
 * Gaussian negative log-likelihood 0.5·(log var + (input − target)² / var), as PyTorch's
 * `torch.nn.GaussianNLLLoss`; forward(input, target, var). Shape: input and target [..., D]; var of
 * their shape, or with the last dim dropped or 1. Options: full (default false), eps (clamp of var,
 * default 1e-6), reduction (default 'mean').
 */
export class GaussianNLLLoss extends Loss<
  ops.GaussianNllLossOptions,
  [input: Tensor, target: Tensor, variance: Tensor]
> {
  protected readonly functional = ops.gaussianNllLoss;
}

/**
 * Cosine embedding loss, as PyTorch's `torch.nn.CosineEmbeddingLoss`; forward(input1, input2,
 * target): 1 − cos where target is 1, max(0, cos − margin) where it is −1. Shape: inputs [N, D] with
 * target [N], or [D] with a 0-d target. Options: margin (default 0), reduction (default 'mean').
 */
export class CosineEmbeddingLoss extends Loss<ops.MarginOptions, [input1: Tensor, input2: Tensor, target: Tensor]> {
  protected readonly functional = ops.cosineEmbeddingLoss;
}

/**
 * Margin ranking loss max(0, −target·(input1 − input2) + margin), as PyTorch's
 * `torch.nn.MarginRankingLoss`; forward(input1, input2, target) with target ±1. Shape: all three of
 * one shape. Options: margin (default 0), reduction (default 'mean').
 */
export class MarginRankingLoss extends Loss<ops.MarginOptions, [input1: Tensor, input2: Tensor, target: Tensor]> {
  protected readonly functional = ops.marginRankingLoss;
}

/**
 * Triplet margin loss max(0, margin + d(anchor, positive) − d(anchor, negative)), as PyTorch's
 * `torch.nn.TripletMarginLoss`; forward(anchor, positive, negative). Shape: [N, D] (or [D]) each.
 * Options: margin (default 1), p (default 2), eps (default 1e-6), swap (default false), reduction.
 */
export class TripletMarginLoss extends Loss<
  ops.TripletMarginLossOptions,
  [anchor: Tensor, positive: Tensor, negative: Tensor]
> {
  protected readonly functional = ops.tripletMarginLoss;
}

/**
 * Multi-label one-versus-all loss on logits (binary cross-entropy per class, averaged over the
 * classes), as PyTorch's `torch.nn.MultiLabelSoftMarginLoss`. Shape: input and 0/1 target [N, C].
 * Options: weight [C], reduction (default 'mean').
 */
export class MultiLabelSoftMarginLoss extends Loss<ops.MultilabelSoftMarginLossOptions> {
  protected readonly functional = ops.multilabelSoftMarginLoss;
}

/**
 * Connectionist temporal classification loss, as PyTorch's `torch.nn.CTCLoss`; forward(logProbs,
 * targets, inputLengths, targetLengths). Shape: logProbs [T, N, C] (a logSoftmax over C); targets
 * int32 [N, S] padded or 1-D concatenated; the lengths N integers each. Options: blank (default 0),
 * zeroInfinity (default false), reduction (default 'mean': each loss over its target length, then
 * the batch mean).
 *
 * @example
 * ```ts
 * const ctc = new ng.nn.CTCLoss({ blank: 0 });
 * const logProbs = ng.randn([50, 16, 20], { requiresGrad: true }).logSoftmax(2);
 * const targets = ng.randint(1, 20, [16, 10], { dtype: 'int32' });
 * const loss = ctc.forward(logProbs, targets, Array(16).fill(50), Array(16).fill(10));
 * loss.backward();
 * ```
 */
export class CTCLoss extends Loss<
  ops.CtcLossOptions,
  [
    logProbs: Tensor,
    targets: Tensor,
    inputLengths: Tensor | readonly number[],
    targetLengths: Tensor | readonly number[],
  ]
> {
  protected readonly functional = ops.ctcLoss;
}
