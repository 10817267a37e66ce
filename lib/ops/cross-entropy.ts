/**
 * Cross-entropy from logits. Class-index targets use the fused native kernel: one pass per row
 * computes the loss and d loss / d logits, and the node saves only that gradient (no probability
 * tensor). Probability targets compose logSoftmax and a weighted sum.
 */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { full } from '../tensor/creation.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { mul, neg } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { denseArray, denseCopy, permute, reshape, to } from './shape.js';
import { checkReduction, type Reduction } from './losses.js';
import { logSoftmax } from './softmax.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** A manual rescaling weight per class, shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this class index contribute nothing (default -100). */
  ignoreIndex?: number;
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε / C. */
  labelSmoothing?: number;
  /** 'mean' (default), 'sum', or 'none' for the per-sample losses. */
  reduction?: Reduction;
}

/** [N, C, d1, ...] → [N·d1·..., C] with the class dim last, and the matching target shape. */
function rowsOf(logits: Tensor): { rows: Tensor; spatial: number[] } {
  if (logits.ndim <= 2) return { rows: logits.ndim === 1 ? reshape(logits, [1, -1]) : logits, spatial: [] };
  const order = [0, ...Array.from({ length: logits.ndim - 2 }, (_, i) => i + 2), 1];
  return { rows: reshape(permute(logits, order), [-1, logits.shape[1]]), spatial: logits.shape.slice(2) };
}

/**
 * crossEntropy(logits [N, C] | [C] | [N, C, d1, ...], target, options): target holds class
 * indices (int32, shape [N] / [] / [N, d1, ...]) or class probabilities (float, logits' shape).
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const reduction = checkReduction('crossEntropy', options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  const labelSmoothing = options.labelSmoothing ?? 0;
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`,
    );
  }
  if (logits.ndim === 0) {
    throw new NodegradError('ERR_NODEGRAD_SHAPE', 'crossEntropy: logits must have a class dimension, got a 0-d tensor');
  }
  const x = logits.dtype === 'int32' ? to(logits, 'float32') : logits;
  const classes = x.ndim === 1 ? x.shape[0] : x.shape[1];
  const weight = options.weight ? to(options.weight, x.dtype) : null;
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== classes)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `crossEntropy: expected weight of shape [${classes}], got ${formatShape(weight.shape)}`,
    );
  }
  const expected = x.ndim === 1 ? [] : [x.shape[0], ...x.shape.slice(2)];
  if (target.dtype !== 'int32') {
    // A float target of the class-index shape is a label tensor in the wrong dtype, not probabilities.
    if (target.ndim === expected.length && target.shape.every((s, i) => s === expected[i])) {
      throw new NodegradError(
        'ERR_NODEGRAD_DTYPE',
        `crossEntropy: target of shape ${formatShape(target.shape)} is ${target.dtype}; class labels must be int32 ` +
          `class indices: use target.to('int32') (a float target must hold probabilities of the logits' shape ${formatShape(x.shape)})`,
      );
    }
    if (ignoreIndex >= 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `crossEntropy: ignoreIndex ${ignoreIndex} applies to class-index targets only; with probability targets ` +
          `of shape ${formatShape(target.shape)} leave it at a negative value (default -100)`,
      );
    }
    return probabilityTargets(x, to(target, x.dtype), classes, weight, labelSmoothing, reduction);
  }
  if (target.ndim !== expected.length || target.shape.some((s, i) => s !== expected[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `crossEntropy: expected class-index target of shape ${formatShape(expected)} for logits ${formatShape(x.shape)}, got ${formatShape(target.shape)}`,
    );
  }
  const { rows } = rowsOf(x);
  const n = rows.shape[0];
  const targets = denseCopy(target).storage.data as Int32Array;
  for (const t of targets) {
    if (t !== ignoreIndex && (t < 0 || t >= classes)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `crossEntropy: target ${t} is out of range for ${classes} classes`,
      );
    }
  }
  const loss = uninitTensor([n], x.dtype);
  const needsGrad = x.requiresGrad;
  const grad = needsGrad ? uninitTensor([n, classes], x.dtype) : null;
  getBackend().crossEntropy(
    { n, classes, ignoreIndex, labelSmoothing },
    denseArray(rows),
    targets,
    weight ? denseArray(weight) : null,
    loss.storage.data as FloatArray,
    grad ? (grad.storage.data as FloatArray) : null,
  );
  let out: Tensor;
  let scale: number;
  if (reduction === 'none') {
    out = reshape(loss, expected);
    scale = 1;
  } else {
    let denominator = 1;
    if (reduction === 'mean') {
      denominator = 0;
      const w = weight ? denseArray(weight) : null;
      for (const t of targets) if (t !== ignoreIndex) denominator += w ? w[t] : 1;
    }
    let total = 0;
    for (const v of loss.storage.data as FloatArray) total += v;
    out = full([], total / denominator, { dtype: x.dtype });
    // Every target ignored: the mean is 0/0 = NaN, but PyTorch's gradient stays 0 (not 0 · 1/0).
    scale = targets.every((t) => t === ignoreIndex) ? 0 : 1 / denominator;
  }
  // The graph edge goes to `rows` (a view of the logits), so reshapes/permutes backpropagate as usual.
  return record(
    'crossEntropy',
    out,
    [rows],
    (g) => {
      const perRow = reduction === 'none' ? reshape(g, [n, 1]) : mul(g, scale);
      return [grad ? mul(grad, perRow) : null];
    },
    grad ? [grad] : [],
  );
}

function probabilityTargets(
  x: Tensor,
  target: Tensor,
  classes: number,
  weight: Tensor | null,
  labelSmoothing: number,
  reduction: Reduction,
): Tensor {
  if (target.ndim !== x.ndim || target.shape.some((s, i) => s !== x.shape[i])) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `crossEntropy: expected probability target of shape ${formatShape(x.shape)}, got ${formatShape(target.shape)}`,
    );
  }
  const { rows } = rowsOf(x);
  const t = rowsOf(target).rows;
  const smoothed = labelSmoothing > 0 ? mul(t, 1 - labelSmoothing).add(labelSmoothing / classes) : t;
  const weighted = weight ? mul(smoothed, weight) : smoothed;
  const perRow = neg(sum(mul(logSoftmax(rows, 1), weighted), 1));
  if (reduction === 'sum') return sum(perRow);
  if (reduction === 'mean') return mean(perRow);
  return x.ndim === 1 ? reshape(perRow, []) : reshape(perRow, [x.shape[0], ...x.shape.slice(2)]);
}
