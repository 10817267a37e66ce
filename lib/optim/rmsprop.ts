/** RMSprop (Hinton's lecture 6e), with PyTorch's momentum and centered variants. */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';
import { nextStep, roundingOf, stateArrays } from './state-arrays.js';

/** The options of RMSprop (PyTorch's keyword arguments in camelCase). */
export interface RMSpropOptions {
  /** The learning rate. Default 1e-2. */
  lr: number;
  /** The decay rate of the running average of the squared gradient. Default 0.99. */
  alpha: number;
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps: number;
  /** L2 penalty λ: adds λ·w to the gradient. Default 0. */
  weightDecay: number;
  /** Momentum factor μ of the step buffer. Default 0. */
  momentum: number;
  /** Divide by the gradient's estimated variance instead of its uncentered second moment. Default false. */
  centered: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean;
}

/**
 * RMSprop, as PyTorch's `torch.optim.RMSprop`: g = ∇ + λw; v = αv + (1 − α)g²; with `centered`,
 * ḡ = αḡ + (1 − α)g and v̂ = v − ḡ², else v̂ = v; with momentum μ, b = μb + g / (√v̂ + ε) and
 * w −= lr·b, else w −= lr·g / (√v̂ + ε). State per parameter: `step`, `square_avg`, and
 * `momentum_buffer` (momentum > 0), `grad_avg` (centered).
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9, centered: true });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 1e-2), alpha (default 0.99), eps (default 1e-8), weightDecay (default 0),
   *   momentum (default 0), centered (default false), maximize (default false).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<RMSpropOptions>[], options: Partial<RMSpropOptions> = {}) {
    super(params, {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
      ...options,
    });
  }

  protected validate(o: RMSpropOptions): void {
    checkNumber('RMSprop', 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
    checkNumber('RMSprop', 'epsilon', o.eps, (v) => v >= 0, 'eps >= 0');
    checkNumber('RMSprop', 'momentum', o.momentum, (v) => v >= 0, 'momentum >= 0');
    checkNumber('RMSprop', 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
    checkNumber('RMSprop', 'alpha', o.alpha, (v) => v >= 0, 'alpha >= 0');
  }

  /** One RMSprop update of every parameter that has a gradient. */
  step(): void {
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
      nextStep(state);
      const [squareAvg] = stateArrays(state, p, ['square_avg']);
      const buffer = momentum > 0 ? stateArrays(state, p, ['momentum_buffer'])[0] : null;
      const gradAvg = centered ? stateArrays(state, p, ['grad_avg'])[0] : null;
      const grad = denseArray(g);
      writeInPlace('RMSprop.step', p, (values) => {
        const param = values as FloatArray;
        const round = roundingOf(param);
        for (let i = 0; i < param.length; i++) {
          let d = maximize ? -grad[i] : grad[i];
          if (weightDecay !== 0) d = round(d + weightDecay * param[i]);
          squareAvg[i] = round(alpha * squareAvg[i]) + (1 - alpha) * d * d;
          let variance = squareAvg[i];
          if (gradAvg) {
            gradAvg[i] = round(alpha * gradAvg[i]) + (1 - alpha) * d;
            variance = round(squareAvg[i] - gradAvg[i] * gradAvg[i]);
          }
          const avg = round(round(Math.sqrt(variance)) + eps);
          if (buffer) {
            buffer[i] = round(momentum * buffer[i]) + d / avg;
            param[i] -= lr * buffer[i];
          } else {
            param[i] -= (lr * d) / avg;
          }
        }
      });
    }
  }
}
