/**
 * Robust regression and likelihood losses (smooth L1, Huber, Poisson and Gaussian NLL), composed from
 * differentiable ops: their gradients, including the target's and the variance's, come from autograd.
 */
import { record } from '../autograd/node.js';
import { noGrad } from '../autograd/grad-mode.js';
import { NodegradError, formatShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { gt, le } from './compare.js';
import { abs, add, clamp, div, exp, log, mul, sign, sub } from './elementwise.js';
import { where } from './masks.js';
import { min } from './reduce.js';
import { unsqueeze } from './shape.js';
import {
  applyReduction,
  checkReduction,
  floatTarget,
  floatTensor,
  sameShapes,
  type ReductionOptions,
} from './loss-utils.js';

/** Options of {@link smoothL1Loss}. */
export interface SmoothL1LossOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear, ≥ 0 (default 1; 0 gives the L1 loss). */
  beta?: number;
}

/** Options of {@link huberLoss}. */
export interface HuberLossOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear, > 0 (default 1). */
  delta?: number;
}

function checkThreshold(op: string, name: string, value: number, allowZero: boolean): void {
  if (!(allowZero ? value >= 0 : value > 0) || !Number.isFinite(value)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: ${name} must be ${allowZero ? 'non-negative' : 'positive'} and finite, got ${value}`,
    );
  }
}

/**
 * The quadratic-then-linear loss 0.5·m² + k·(|d| − m) with m = min(|d|, t): one composition with no
 * branch mask, whose gradient is d below t and k·sign(d) above, as PyTorch's.
 */
function quadraticThenLinear(input: Tensor, target: Tensor, threshold: number, quadraticScale: number, k: number) {
  const d = abs(sub(floatTensor(input), floatTarget(input, target)));
  const m = clamp(d, null, threshold);
  return add(mul(mul(m, m), 0.5 * quadraticScale), mul(sub(d, m), k));
}

/**
 * Smooth L1 loss: 0.5·d²/β where |d| < β, else |d| − 0.5·β, with d = input − target, as
 * `torch.nn.functional.smooth_l1_loss`. Shape: input and target of one shape; 'none' keeps it.
 * Options: beta (default 1; 0 is the L1 loss), reduction (default 'mean').
 * @example
 * ```ts
 * const loss = ng.nn.functional.smoothL1Loss(pred, target, { beta: 0.5 });
 * ```
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1LossOptions = {}): Tensor {
  const reduction = checkReduction('smoothL1Loss', options.reduction ?? 'mean');
  const beta = options.beta ?? 1;
  checkThreshold('smoothL1Loss', 'beta', beta, true);
  sameShapes('smoothL1Loss', input, target);
  if (beta === 0) {
    const [x, t] = [floatTensor(input), floatTarget(input, target)];
    // PyTorch's backward tests u <= −β first, u = input − target for the input and target − input
    // for the target: at β = 0 both gradients at u = 0 are −1 (abs's would be 0).
    const slope = (u: Tensor) => noGrad(() => where(le(u, 0), -1, sign(u)));
    const loss = record(
      'smoothL1Loss',
      noGrad(() => abs(sub(x, t))),
      [x, t],
      (g) => [mul(g, slope(sub(x, t))), mul(g, slope(sub(t, x)))],
      [x, t],
    );
    return applyReduction(loss, reduction);
  }
  return applyReduction(quadraticThenLinear(input, target, beta, 1 / beta, 1), reduction);
}

/**
 * Huber loss: 0.5·d² where |d| < δ, else δ·(|d| − 0.5·δ), with d = input − target (δ times the
 * smooth L1 loss with β = δ), as `torch.nn.functional.huber_loss`. Shape: input and target of one
 * shape. Options: delta (default 1), reduction (default 'mean').
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  const reduction = checkReduction('huberLoss', options.reduction ?? 'mean');
  const delta = options.delta ?? 1;
  checkThreshold('huberLoss', 'delta', delta, false);
  sameShapes('huberLoss', input, target);
  return applyReduction(quadraticThenLinear(input, target, delta, 1, delta), reduction);
}

/** Options of {@link poissonNllLoss}. */
export interface PoissonNllLossOptions extends ReductionOptions {
  /** The input is the log of the rate: loss exp(input) − target·input (default true). */
  logInput?: boolean;
  /** Adds Stirling's approximation of log(target!) where target > 1 (default false). */
  full?: boolean;
  /** Keeps log(input + eps) finite at a zero rate when logInput is false (default 1e-8). */
  eps?: number;
}

/**
 * Negative log-likelihood of Poisson-distributed targets, as `torch.nn.functional.poisson_nll_loss`:
 * exp(input) − target·input with logInput (default), else input − target·log(input + eps); with
 * `full`, target·log(target) − target + 0.5·log(2π·target) is added where target > 1. Shape: input
 * and target of one shape. Differentiable in both.
 */
export function poissonNllLoss(input: Tensor, target: Tensor, options: PoissonNllLossOptions = {}): Tensor {
  const reduction = checkReduction('poissonNllLoss', options.reduction ?? 'mean');
  sameShapes('poissonNllLoss', input, target);
  const x = floatTensor(input);
  const t = floatTarget(input, target);
  let loss = (options.logInput ?? true) ? sub(exp(x), mul(t, x)) : sub(x, mul(t, log(add(x, options.eps ?? 1e-8))));
  if (options.full) {
    const stirling = add(sub(mul(t, log(t)), t), mul(log(mul(t, 2 * Math.PI)), 0.5));
    loss = add(loss, where(gt(t, 1), stirling, 0));
  }
  return applyReduction(loss, reduction);
}

/** Options of {@link gaussianNllLoss}. */
export interface GaussianNllLossOptions extends ReductionOptions {
  /** Adds the constant 0.5·log(2π) (default false). */
  full?: boolean;
  /** The variance is clamped to at least eps, for stability (default 1e-6). */
  eps?: number;
}

/** `variance` shaped to broadcast against `input`: its own shape, or input's without (or with 1 as) the last dim. */
function varianceFor(input: Tensor, variance: Tensor): Tensor {
  const sameAs = (shape: readonly number[]) =>
    shape.length === variance.ndim && shape.every((s, i) => s === variance.shape[i]);
  if (sameAs(input.shape)) return variance;
  const leading = input.shape.slice(0, -1);
  if (input.ndim > 0 && sameAs(leading)) return unsqueeze(variance, -1);
  if (input.ndim > 0 && sameAs([...leading, 1])) return variance;
  throw new NodegradError(
    'ERR_NODEGRAD_SHAPE',
    `gaussianNllLoss: expected var of shape ${formatShape(input.shape)}, ${formatShape(leading)} or ` +
      `${formatShape([...leading, 1])} for input ${formatShape(input.shape)}, got ${formatShape(variance.shape)}`,
  );
}

/**
 * Negative log-likelihood of targets under Gaussians of mean `input` and variance `variance`, as
 * `torch.nn.functional.gaussian_nll_loss`: 0.5·(log(max(var, eps)) + (input − target)² / max(var, eps)),
 * plus 0.5·log(2π) with `full`. Shape: input and target of one shape; var of that shape (one variance
 * per element), or of it without the last dim or with last dim 1 (one variance per row). var must be
 * non-negative. Differentiable in input, target and var; the clamp passes var's gradient through
 * unchanged, as PyTorch's (which clamps a copy under no_grad).
 */
export function gaussianNllLoss(
  input: Tensor,
  target: Tensor,
  variance: Tensor,
  options: GaussianNllLossOptions = {},
): Tensor {
  const reduction = checkReduction('gaussianNllLoss', options.reduction ?? 'mean');
  sameShapes('gaussianNllLoss', input, target);
  const x = floatTensor(input);
  const v = floatTarget(input, varianceFor(input, variance));
  const smallest = v.numel === 0 ? 0 : noGrad(() => min(v).item());
  if (smallest < 0) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `gaussianNllLoss: var must be non-negative, got ${smallest}`);
  }
  const eps = options.eps ?? 1e-6;
  const clamped = record(
    'gaussianNllLoss',
    noGrad(() => clamp(v, eps)),
    [v],
    (g) => [g],
  );
  const d = sub(x, floatTarget(input, target));
  let loss = mul(add(log(clamped), div(mul(d, d), clamped)), 0.5);
  if (options.full) loss = add(loss, 0.5 * Math.log(2 * Math.PI));
  return applyReduction(loss, reduction);
}
