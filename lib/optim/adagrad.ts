/** Adagrad (Duchi, Hazan & Singer, 2011). */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';
import { nextStep, roundingOf, stateArrays } from './state-arrays.js';

/** The options of Adagrad (PyTorch's keyword arguments in camelCase). */
export interface AdagradOptions {
  /** The learning rate. Default 1e-2. */
  lr: number;
  /** The decay of the learning rate with the step count: lr / (1 + (step − 1)·lrDecay). Default 0. */
  lrDecay: number;
  /** L2 penalty λ: adds λ·w to the gradient. Default 0. */
  weightDecay: number;
  /** The starting value of the sum of squared gradients. Default 0. */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability. Default 1e-10. */
  eps: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean;
}

/**
 * Adagrad, as PyTorch's `torch.optim.Adagrad`: g = ∇ + λw; s += g²;
 * w −= lr / (1 + (t − 1)·lrDecay) · g / (√s + ε). State per parameter: `step`, `sum`.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.Adagrad(model.parameters(), { lr: 0.1, lrDecay: 1e-3 });
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 1e-2), lrDecay (default 0), weightDecay (default 0),
   *   initialAccumulatorValue (default 0), eps (default 1e-10), maximize (default false).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdagradOptions>[], options: Partial<AdagradOptions> = {}) {
    super(params, {
      lr: 1e-2,
      lrDecay: 0,
      weightDecay: 0,
      initialAccumulatorValue: 0,
      eps: 1e-10,
      maximize: false,
      ...options,
    });
  }

  protected validate(o: AdagradOptions): void {
    checkNumber('Adagrad', 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
    checkNumber('Adagrad', 'lrDecay', o.lrDecay, (v) => v >= 0, 'lrDecay >= 0');
    checkNumber('Adagrad', 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
    checkNumber('Adagrad', 'initialAccumulatorValue', o.initialAccumulatorValue, (v) => v >= 0, '>= 0');
    checkNumber('Adagrad', 'epsilon', o.eps, (v) => v >= 0, 'eps >= 0');
  }

  /** One Adagrad update of every parameter that has a gradient. */
  step(): void {
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      const { weightDecay, eps, maximize } = group;
      const [sum] = stateArrays(state, p, ['sum'], group.initialAccumulatorValue);
      const clr = group.lr / (1 + (nextStep(state) - 1) * group.lrDecay);
      const grad = denseArray(g);
      writeInPlace('Adagrad.step', p, (values) => {
        const param = values as FloatArray;
        const round = roundingOf(param);
        for (let i = 0; i < param.length; i++) {
          let d = maximize ? -grad[i] : grad[i];
          if (weightDecay !== 0) d = round(d + weightDecay * param[i]);
          sum[i] += d * d;
          param[i] -= clr * (d / round(round(Math.sqrt(sum[i])) + eps));
        }
      });
    }
  }
}
