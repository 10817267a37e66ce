/**
 * The lecture's general framework loss for scores F(x, ŷ) over C classes and a task loss L(y, ŷ):
 *
 *   loss_i = ε · ln Σ_ŷ exp((L(y_i, ŷ) + F(x_i, ŷ)) / ε) − F(x_i, y_i)
 *
 * computed with the log-sum-exp trick; ε = 0 is its limit, max_ŷ (L(y_i, ŷ) + F(x_i, ŷ)) − F(x_i, y_i)
 * (the structured hinge). L = 0, ε = 1 is cross-entropy (multinomial logistic regression); the 0/1
 * task loss with ε → 0 is the multiclass SVM; two classes give logistic regression and the binary
 * SVM. The C/2‖w‖² term is the optimizer's weightDecay: C. Its gradient, by autograd, is
 * Σ_ŷ (p_ŷ − δ_{ŷ, y}) ∂F/∂w with p = softmax((L + F) / ε).
 */
import { NodegradError, formatShape } from '../errors.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import { add, mul, sub } from './elementwise.js';
import { indexSelect } from './join.js';
import { checkReduction, type Reduction } from './losses.js';
import { logsumexp, max, mean, sum } from './reduce.js';
import { denseCopy, to } from './shape.js';

/** The task loss L(y, ŷ) of {@link frameworkLoss}: none, 0/1, or a [C, C] matrix. */
export type TaskLoss = 'none' | 'zeroOne' | Tensor;

/** Options of {@link frameworkLoss}. */
export interface FrameworkLossOptions {
  /** Temperature ε ≥ 0; 0 takes the max. Default 1. */
  epsilon?: number;
  /** L(y, ŷ): 'none' (0), 'zeroOne' ([y ≠ ŷ]) or a [C, C] matrix indexed [y, ŷ]. Default 'none'. */
  taskLoss?: TaskLoss;
  /** 'mean' (default), 'sum', or 'none' for the per-sample losses. */
  reduction?: Reduction;
}

/**
 * The general framework loss for scores F [N, C], int32 class targets y [N] and a task loss L:
 * ε·ln Σ_ŷ exp((L(y, ŷ) + F(x, ŷ)) / ε) − F(x, y) per sample (the max at ε = 0). L = 0 and ε = 1 give
 * cross-entropy; the 0/1 task loss with ε = 0 gives the multiclass SVM hinge. No PyTorch equivalent.
 */
export function frameworkLoss(scores: Tensor, target: Tensor, options: FrameworkLossOptions = {}): Tensor {
  const epsilon = options.epsilon ?? 1;
  const reduction = checkReduction('frameworkLoss', options.reduction ?? 'mean');
  if (!(epsilon >= 0) || !Number.isFinite(epsilon)) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `frameworkLoss: epsilon must be a finite number >= 0, got ${epsilon}`,
    );
  }
  if (scores.ndim !== 2) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `frameworkLoss: expected scores of shape [N, C], got ${formatShape(scores.shape)}`,
    );
  }
  const [N, C] = scores.shape;
  if (target.dtype !== 'int32' || target.ndim !== 1 || target.shape[0] !== N) {
    throw new NodegradError(
      'ERR_NODEGRAD_SHAPE',
      `frameworkLoss: expected int32 class-index target of shape [${N}], got ${target.dtype} ${formatShape(target.shape)}`,
    );
  }
  const F = scores.dtype === 'int32' ? to(scores, 'float32') : scores;
  const targets = denseCopy(target).storage.data;
  const onehot = zerosTensor([N, C], F.dtype === 'float64' ? 'float64' : 'float32');
  const o = onehot.storage.data;
  targets.forEach((t, i) => {
    if (t < 0 || t >= C)
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `frameworkLoss: target ${t} is out of range for ${C} classes`);
    o[i * C + t] = 1;
  });
  const taskLoss = options.taskLoss ?? 'none';
  let augmented = F;
  if (taskLoss === 'zeroOne') {
    augmented = add(F, sub(1, onehot));
  } else if (taskLoss !== 'none') {
    if (taskLoss.ndim !== 2 || taskLoss.shape[0] !== C || taskLoss.shape[1] !== C) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `frameworkLoss: expected a task-loss matrix of shape [${C}, ${C}], got ${formatShape(taskLoss.shape)}`,
      );
    }
    augmented = add(F, indexSelect(to(taskLoss, F.dtype), 0, target));
  }
  // ε · logsumexp(·/ε): a max smoothed by the temperature, the hard max at ε = 0.
  const smoothMax = epsilon === 0 ? max(augmented, 1) : mul(logsumexp(mul(augmented, 1 / epsilon), 1), epsilon);
  const perSample = sub(smoothMax, sum(mul(F, onehot), 1));
  if (reduction === 'mean') return mean(perSample);
  if (reduction === 'sum') return sum(perSample);
  return perSample;
}
