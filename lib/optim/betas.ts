/** The options Adamax, NAdam and RAdam share with Adam, and their checks. */
import { checkNumber } from './optimizer.js';

/** lr, betas, eps and weightDecay, as Adam's (PyTorch's keyword arguments in camelCase). */
export interface BetaOptions {
  /** The learning rate. */
  lr: number;
  /** The decay rates of the running averages of the gradient and of its square (or norm). Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps: number;
  /** L2 penalty λ: adds λ·w to the gradient. Default 0. */
  weightDecay: number;
}

/** Throws a NodegradError naming `op` unless lr, eps and weightDecay are >= 0 and each beta in [0, 1). */
export function checkBetas(op: string, o: BetaOptions): void {
  checkNumber(op, 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
  checkNumber(op, 'epsilon', o.eps, (v) => v >= 0, 'eps >= 0');
  checkNumber(op, 'beta1', o.betas[0], (v) => v >= 0 && v < 1, 'betas[0] in [0, 1)');
  checkNumber(op, 'beta2', o.betas[1], (v) => v >= 0 && v < 1, 'betas[1] in [0, 1)');
  checkNumber(op, 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
}
