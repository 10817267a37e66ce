/**
 * Regression and binary losses, NLL and KL divergence, composed from differentiable ops (their
 * gradients come from autograd), and the `reduction` option every loss shares. Each validates shapes.
 */
import { NodegradError, formatShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { uninitTensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/grad-mode.js';
import { record } from '../autograd/node.js';
import { abs, add, clamp, exp, log, mul, neg, relu, sigmoid, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { denseArray, denseCopy, reshape, to } from './shape.js';
import {
  applyReduction as reduce,
  checkReduction,
  floatTarget,
  sameShapes,
  type Reduction,
  type ReductionOptions,
} from './loss-utils.js';

export { checkReduction, type Reduction, type ReductionOptions } from './loss-utils.js';

/** Mean squared error: (input − target)². */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  sameShapes('mseLoss', input, target);
  const d = sub(input, floatTarget(input, target));
  const squared = mul(d, d);
  return releasedByBackward(reduce(squared, reduction), d, squared);
}

/**
 * Marks a loss's intermediates, which no caller can reach, for release once backward has run the
 * nodes that read them (autograd/ephemeral.ts) instead of when the collector runs; returns `out`.
 */
function releasedByBackward(out: Tensor, ...intermediates: Tensor[]): Tensor {
  for (const t of intermediates) {
    if (t.gradFn && t.storage !== out.storage && !t.storage.kept) t.storage.ephemeral = true;
  }
  return out;
}

/** Mean absolute error: |input − target|. */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const reduction = checkReduction('l1Loss', options.reduction ?? 'mean');
  sameShapes('l1Loss', input, target);
  return reduce(abs(sub(input, floatTarget(input, target))), reduction);
}

/** Options of {@link bceLoss}. */
export interface BceOptions extends ReductionOptions {
  /** Rescales each element's loss (broadcast to the input's shape). */
  weight?: Tensor | null;
}

/**
 * Binary cross-entropy on probabilities: −w·(y·log x + (1 − y)·log(1 − x)), each log clamped at
 * −100 as in PyTorch, so x = 0 or 1 gives a finite loss.
 */
export function bceLoss(input: Tensor, target: Tensor, options: BceOptions = {}): Tensor {
  const reduction = checkReduction('bceLoss', options.reduction ?? 'mean');
  sameShapes('bceLoss', input, target);
  const values = denseCopy(input).storage.data;
  for (const v of values) {
    if (!(v >= 0 && v <= 1)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `bceLoss: input values must be probabilities in [0, 1], got ${v}`,
      );
    }
  }
  const y = floatTarget(input, target);
  const logX = clamp(log(input), -100);
  const log1mX = clamp(log(sub(1, input)), -100);
  let loss = neg(add(mul(y, logX), mul(sub(1, y), log1mX)));
  if (options.weight) loss = mul(loss, options.weight);
  return reduce(loss, reduction);
}

/** Options of {@link bceWithLogits}. */
export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of positive examples, broadcast along the last dim (one per class). */
  posWeight?: Tensor | null;
}

/**
 * Sigmoid plus binary cross-entropy in the stable form
 * (1 − y)·x + (1 + (p − 1)·y)·(log(1 + e^−|x|) + max(−x, 0)): finite for logits of ±1000.
 */
export function bceWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const reduction = checkReduction('bceWithLogits', options.reduction ?? 'mean');
  sameShapes('bceWithLogits', input, target);
  const x = input.dtype === 'int32' ? to(input, 'float32') : input;
  const y = floatTarget(input, target);
  const posWeight = options.posWeight ? to(options.posWeight, x.dtype) : null;
  const weight = options.weight ? to(options.weight, x.dtype) : null;
  const logWeight = posWeight ? noGrad(() => add(mul(sub(posWeight, 1), y), 1)) : null;
  let loss = noGrad(() => {
    const softplusNeg = add(log(add(exp(neg(abs(x))), 1)), relu(neg(x)));
    const l = add(mul(sub(1, y), x), logWeight ? mul(logWeight, softplusNeg) : softplusNeg);
    return weight ? mul(l, weight) : l;
  });
  // One node with the analytic gradient (1 − y) − lw·σ(−x): smooth at x = 0, where the composed
  // |x| and max(−x, 0) would give a subgradient instead.
  loss = record(
    'bceWithLogits',
    loss,
    [x],
    (g) => {
      const s = sigmoid(neg(x));
      let d = sub(sub(1, y), logWeight ? mul(logWeight, s) : s);
      if (weight) d = mul(d, weight);
      return [mul(g, d)];
    },
    [x],
  );
  return reduce(loss, reduction);
}

/** Options of {@link nllLoss}. */
export interface NllLossOptions extends ReductionOptions {
  /** A rescaling weight per class, shape [C]; 'mean' divides by the summed weights of the targets. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing and are left out of the mean (default -100). */
  ignoreIndex?: number;
}

/** Negative log-likelihood of class-index targets given log-probabilities [N, C] (or [C]). */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const reduction = checkReduction('nllLoss', options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  const x = input.ndim === 1 ? input.reshape([1, -1]) : input;
  if (x.ndim !== 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `nllLoss: expected input of shape [N, C] or [C], got ${formatShape(input.shape)}`,
    );
  }
  const [N, C] = x.shape;
  const expected = input.ndim === 1 ? [] : [N];
  if (target.dtype !== 'int32' || target.ndim !== expected.length || (target.ndim === 1 && target.shape[0] !== N)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `nllLoss: expected int32 class-index target of shape ${formatShape(expected)}, got ${target.dtype} ${formatShape(target.shape)}`,
    );
  }
  const weights = options.weight ? denseCopy(to(options.weight, 'float64')).storage.data : null;
  if (options.weight && (options.weight.ndim !== 1 || options.weight.shape[0] !== C)) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `nllLoss: expected weight of shape [${C}], got ${formatShape(options.weight.shape)}`,
    );
  }
  // Row i is −w[y_i]·x[i, y_i], read alone: a NaN or −inf elsewhere in the row does not reach the
  // loss (as in PyTorch), where a product with a 0/1 selector would turn it into NaN.
  const xf = x.dtype === 'int32' ? to(x, 'float32') : x;
  const values = denseArray(xf);
  const selector = uninitTensor([N, C], xf.dtype);
  const s = selector.storage.data;
  s.fill(0);
  const rows = uninitTensor([N], xf.dtype);
  const r = rows.storage.data;
  const targets = denseCopy(target).storage.data;
  let denominator = 0;
  targets.forEach((t, i) => {
    r[i] = 0;
    if (t === ignoreIndex) return;
    if (t < 0 || t >= C) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `nllLoss: target ${t} is out of range for ${C} classes`);
    }
    const w = weights ? weights[t] : 1;
    s[i * C + t] = -w;
    r[i] = -w * values[i * C + t];
    denominator += w;
  });
  const perRow = record('nllLoss', rows, [xf], (g) => [mul(reshape(g, [N, 1]), selector)], [selector]);
  if (reduction === 'none') return input.ndim === 1 ? perRow.reshape([]) : perRow;
  const total = sum(perRow);
  return reduction === 'sum' ? total : mul(total, 1 / denominator);
}

/** Options of {@link klDiv}. */
export interface KlDivOptions {
  /** 'batchmean' divides the sum by the batch size (the mathematically correct KL mean). */
  reduction?: Reduction | 'batchmean';
  /** The target holds log-probabilities. */
  logTarget?: boolean;
}

/** KL(target ‖ exp(input)) pointwise: target·(log target − input), with 0·log 0 = 0. */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'batchmean') checkReduction('klDiv', reduction);
  sameShapes('klDiv', input, target);
  const t = floatTarget(input, target);
  const pointwise = options.logTarget
    ? mul(exp(t), sub(t, input))
    : mul(t, sub(log(clamp(t, t.dtype === 'float64' ? Number.MIN_VALUE : 1.2e-38)), input));
  if (reduction === 'batchmean') return mul(sum(pointwise), 1 / (input.ndim === 0 ? 1 : input.shape[0]));
  return reduce(pointwise, reduction);
}
