/**
 * Losses on pairs and triplets of embeddings and on multi-label logits (cosine embedding, margin
 * ranking, triplet margin, multi-label soft margin), composed from differentiable ops.
 */
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { eq } from './compare.js';
import { add, clamp, div, mul, neg, sqrt, sub } from './elementwise.js';
import { minimum } from './binary-math.js';
import { where } from './masks.js';
import { sum } from './reduce.js';
import { norm } from './stats.js';
import { bceWithLogits } from './losses.js';
import {
  applyReduction,
  checkReduction,
  floatTarget,
  floatTensor,
  sameShapes,
  type ReductionOptions,
} from './loss-utils.js';

/** Options of {@link cosineEmbeddingLoss} and {@link marginRankingLoss}. */
export interface MarginOptions extends ReductionOptions {
  /** The margin (default 0). */
  margin?: number;
}

function sameShapesAll(op: string, names: string, tensors: readonly Tensor[]): void {
  const [first] = tensors;
  if (tensors.some((t) => t.ndim !== first.ndim || t.shape.some((s, i) => s !== first.shape[i]))) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `${op}: expected ${names} of one shape, got ${tensors.map((t) => formatShape(t.shape)).join(', ')}`,
    );
  }
}

/**
 * Cosine embedding loss, as `torch.nn.functional.cosine_embedding_loss`: 1 − cos(x1, x2) where the
 * target is 1 and max(0, cos(x1, x2) − margin) where it is −1 (0 for other target values). Shape:
 * input1 and input2 [N, D] with target [N], or [D] with a 0-d target; 'none' gives [N]. The cosine
 * adds 1e-12 to each squared norm, as PyTorch's. Options: margin (default 0), reduction.
 */
export function cosineEmbeddingLoss(
  input1: Tensor,
  input2: Tensor,
  target: Tensor,
  options: MarginOptions = {},
): Tensor {
  const reduction = checkReduction('cosineEmbeddingLoss', options.reduction ?? 'mean');
  sameShapesAll('cosineEmbeddingLoss', 'input1 and input2', [input1, input2]);
  const batched = target.ndim === 1;
  if (
    (target.ndim !== 0 && !batched) ||
    input1.ndim !== target.ndim + 1 ||
    (batched && target.shape[0] !== input1.shape[0])
  ) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `cosineEmbeddingLoss: expected inputs [N, D] with target [N], or inputs [D] with a 0-d target; got inputs ` +
        `${formatShape(input1.shape)} and target ${formatShape(target.shape)}`,
    );
  }
  const a = floatTensor(input1);
  const b = floatTarget(a, input2);
  const dim = target.ndim;
  const dot = sum(mul(a, b), dim);
  const squared1 = add(sum(mul(a, a), dim), 1e-12);
  const squared2 = add(sum(mul(b, b), dim), 1e-12);
  const cos = div(dot, sqrt(mul(squared1, squared2)));
  const dissimilar = where(eq(target, -1), clamp(sub(cos, options.margin ?? 0), 0), 0);
  return applyReduction(where(eq(target, 1), sub(1, cos), dissimilar), reduction);
}

/**
 * Margin ranking loss max(0, −target·(input1 − input2) + margin), as
 * `torch.nn.functional.margin_ranking_loss`: target 1 asks input1 to rank above input2 by the
 * margin, −1 below. Shape: input1, input2 and target of one shape. Differentiable in all three.
 */
export function marginRankingLoss(input1: Tensor, input2: Tensor, target: Tensor, options: MarginOptions = {}): Tensor {
  const reduction = checkReduction('marginRankingLoss', options.reduction ?? 'mean');
  sameShapesAll('marginRankingLoss', 'input1, input2 and target', [input1, input2, target]);
  const a = floatTensor(input1);
  const hinge = add(neg(mul(floatTarget(a, target), sub(a, floatTarget(a, input2)))), options.margin ?? 0);
  return applyReduction(clamp(hinge, 0), reduction);
}

/** Options of {@link tripletMarginLoss}. */
export interface TripletMarginLossOptions extends ReductionOptions {
  /** The margin between the positive and negative distances (default 1). */
  margin?: number;
  /** The norm degree of the pairwise distance, > 0 (default 2). */
  p?: number;
  /** Added to each difference before the norm, keeping its gradient finite (default 1e-6). */
  eps?: number;
  /** Uses the smaller of d(anchor, negative) and d(positive, negative) as the negative distance (default false). */
  swap?: boolean;
}

/**
 * Triplet margin loss max(0, margin + d(anchor, positive) − d(anchor, negative)), with
 * d(x, y) = ‖x − y + eps‖_p over the last dim, as `torch.nn.functional.triplet_margin_loss`. Shape:
 * anchor, positive and negative [N, D] (or [D]); 'none' gives [N]. Options: margin (1), p (2),
 * eps (1e-6), swap (false), reduction.
 */
export function tripletMarginLoss(
  anchor: Tensor,
  positive: Tensor,
  negative: Tensor,
  options: TripletMarginLossOptions = {},
): Tensor {
  const op = 'tripletMarginLoss';
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  sameShapesAll(op, 'anchor, positive and negative', [anchor, positive, negative]);
  if (anchor.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_SHAPE', `${op}: expected inputs of shape [N, D] or [D], got 0-d tensors`);
  }
  const p = options.p ?? 2;
  if (!(p > 0)) throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: p must be positive, got ${p}`);
  const eps = options.eps ?? 1e-6;
  const a = floatTensor(anchor);
  const distance = (x: Tensor, y: Tensor) => norm(add(sub(x, y), eps), p, -1);
  const pos = floatTarget(a, positive);
  const negs = floatTarget(a, negative);
  let negativeDistance = distance(a, negs);
  if (options.swap) negativeDistance = minimum(negativeDistance, distance(pos, negs));
  return applyReduction(clamp(sub(add(distance(a, pos), options.margin ?? 1), negativeDistance), 0), reduction);
}

/** Options of {@link multilabelSoftMarginLoss}. */
export interface MultilabelSoftMarginLossOptions extends ReductionOptions {
  /** A rescaling weight per class, shape [C] (broadcast to the input). */
  weight?: Tensor | null;
}

/**
 * Multi-label one-versus-all loss, as `torch.nn.functional.multilabel_soft_margin_loss`: the
 * (weighted) binary cross-entropy of sigmoid(input) against each label, averaged over the C classes
 * of the last dim. Shape: input (logits) and target (0/1 labels) [N, C] (or [C]); 'none' gives [N].
 * Options: weight [C], reduction (default 'mean'). Differentiable in input and weight.
 */
export function multilabelSoftMarginLoss(
  input: Tensor,
  target: Tensor,
  options: MultilabelSoftMarginLossOptions = {},
): Tensor {
  const reduction = checkReduction('multilabelSoftMarginLoss', options.reduction ?? 'mean');
  if (input.ndim === 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      'multilabelSoftMarginLoss: expected input of shape [N, C] or [C], got a 0-d tensor',
    );
  }
  sameShapes('multilabelSoftMarginLoss', input, target);
  // bceWithLogits per element is −(y·logσ(x) + (1 − y)·logσ(−x)), PyTorch's formula, in its stable form.
  let perElement = bceWithLogits(input, target, { reduction: 'none' });
  if (options.weight) perElement = mul(perElement, options.weight);
  return applyReduction(div(sum(perElement, -1), input.shape[input.ndim - 1]), reduction);
}
