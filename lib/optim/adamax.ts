/** Adamax, Adam with the infinity norm (Kingma & Ba, 2015, section 7). */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkBetas, type BetaOptions } from './betas.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';
import { nextStep, roundingOf, stateArrays } from './state-arrays.js';

/** The options of Adamax (PyTorch's keyword arguments in camelCase). */
export interface AdamaxOptions extends BetaOptions {
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean;
}

/**
 * Adamax, as PyTorch's `torch.optim.Adamax`: g = ∇ + λw; m = β₁m + (1 − β₁)g;
 * u = max(β₂u, |g| + ε); w −= lr / (1 − β₁ᵗ) · m / u. State per parameter: `step`, `exp_avg`,
 * `exp_inf`.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.Adamax(model.parameters(), { lr: 2e-3 });
 * ```
 */
export class Adamax extends Optimizer<AdamaxOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 2e-3), betas (default [0.9, 0.999]), eps (default 1e-8), weightDecay
   *   (default 0), maximize (default false).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamaxOptions>[], options: Partial<AdamaxOptions> = {}) {
    super(params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...options });
  }

  protected validate(o: AdamaxOptions): void {
    checkBetas('Adamax', o);
    checkNumber('Adamax', 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
  }

  /** One Adamax update of every parameter that has a gradient. */
  step(): void {
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      const { eps, weightDecay, maximize } = group;
      const [beta1, beta2] = group.betas;
      const clr = group.lr / (1 - beta1 ** nextStep(state));
      const [expAvg, expInf] = stateArrays(state, p, ['exp_avg', 'exp_inf']);
      const grad = denseArray(g);
      writeInPlace('Adamax.step', p, (values) => {
        const param = values as FloatArray;
        const round = roundingOf(param);
        for (let i = 0; i < param.length; i++) {
          let d = maximize ? -grad[i] : grad[i];
          if (weightDecay !== 0) d = round(d + weightDecay * param[i]);
          expAvg[i] = round(beta1 * expAvg[i]) + (1 - beta1) * d;
          expInf[i] = Math.max(round(beta2 * expInf[i]), round(Math.abs(d) + eps));
          param[i] -= clr * (expAvg[i] / expInf[i]);
        }
      });
    }
  }
}
