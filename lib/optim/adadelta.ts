/** Adadelta (Zeiler, 2012). */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';
import { nextStep, roundingOf, stateArrays } from './state-arrays.js';

/** The options of Adadelta (PyTorch's keyword arguments in camelCase). */
export interface AdadeltaOptions {
  /** The factor that scales each delta. Default 1.0. */
  lr: number;
  /** The decay rate of the running averages of the squared gradient and squared delta. Default 0.9. */
  rho: number;
  /** Added inside both square roots for numerical stability. Default 1e-6. */
  eps: number;
  /** L2 penalty λ: adds λ·w to the gradient. Default 0. */
  weightDecay: number;
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean;
}

/**
 * Adadelta, as PyTorch's `torch.optim.Adadelta`: g = ∇ + λw; v = ρv + (1 − ρ)g²;
 * δ = √(u + ε) / √(v + ε) · g; u = ρu + (1 − ρ)δ²; w −= lr·δ. State per parameter: `step`,
 * `square_avg` (v), `acc_delta` (u).
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.Adadelta(model.parameters(), { lr: 1.0, rho: 0.9 });
 * ```
 */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 1.0), rho (default 0.9), eps (default 1e-6), weightDecay (default 0),
   *   maximize (default false).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdadeltaOptions>[], options: Partial<AdadeltaOptions> = {}) {
    super(params, { lr: 1.0, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...options });
  }

  protected validate(o: AdadeltaOptions): void {
    checkNumber('Adadelta', 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
    checkNumber('Adadelta', 'rho', o.rho, (v) => v >= 0 && v <= 1, 'rho in [0, 1]');
    checkNumber('Adadelta', 'epsilon', o.eps, (v) => v >= 0, 'eps >= 0');
    checkNumber('Adadelta', 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
  }

  /** One Adadelta update of every parameter that has a gradient. */
  step(): void {
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      const { lr, rho, eps, weightDecay, maximize } = group;
      nextStep(state);
      const [squareAvg, accDelta] = stateArrays(state, p, ['square_avg', 'acc_delta']);
      const grad = denseArray(g);
      writeInPlace('Adadelta.step', p, (values) => {
        const param = values as FloatArray;
        const round = roundingOf(param);
        for (let i = 0; i < param.length; i++) {
          let d = maximize ? -grad[i] : grad[i];
          if (weightDecay !== 0) d = round(d + weightDecay * param[i]);
          squareAvg[i] = round(rho * squareAvg[i]) + (1 - rho) * d * d;
          const std = round(Math.sqrt(round(squareAvg[i] + eps)));
          const delta = round(round(round(Math.sqrt(round(accDelta[i] + eps))) / std) * d);
          accDelta[i] = round(rho * accDelta[i]) + (1 - rho) * delta * delta;
          param[i] -= lr * delta;
        }
      });
    }
  }
}
