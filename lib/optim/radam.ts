/** RAdam, Adam with a rectified adaptive learning rate (Liu et al., 2020). */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkBetas, type BetaOptions } from './betas.js';
import { Optimizer, type ParamGroupInput } from './optimizer.js';
import { nextStep, roundingOf, stateArrays } from './state-arrays.js';

/** The options of RAdam (PyTorch's keyword arguments in camelCase): lr, betas, eps, weightDecay. */
export type RAdamOptions = BetaOptions;

/**
 * RAdam, as PyTorch's `torch.optim.RAdam`: g = ∇ + λw; m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²;
 * m̂ = m / (1 − β₁ᵗ); ρ∞ = 2 / (1 − β₂) − 1; ρₜ = ρ∞ − 2tβ₂ᵗ / (1 − β₂ᵗ). While ρₜ ≤ 5 the
 * variance estimate is too noisy and w −= lr·m̂ (momentum SGD); after, w −= lr·m̂·r·√(1 − β₂ᵗ) / (√v + ε)
 * with r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)). State per parameter: `step`, `exp_avg`, `exp_avg_sq`.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.RAdam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class RAdam extends Optimizer<RAdamOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 1e-3), betas (default [0.9, 0.999]), eps (default 1e-8), weightDecay (default 0).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<RAdamOptions>[], options: Partial<RAdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...options });
  }

  protected validate(o: RAdamOptions): void {
    checkBetas('RAdam', o);
  }

  /** One RAdam update of every parameter that has a gradient. */
  step(): void {
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      const { lr, eps, weightDecay } = group;
      const [beta1, beta2] = group.betas;
      const step = nextStep(state);
      const biasCorrection1 = 1 - beta1 ** step;
      const biasCorrection2 = 1 - beta2 ** step;
      const rhoInf = 2 / (1 - beta2) - 1;
      const rhoT = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
      const rect =
        rhoT > 5 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : null;
      const [expAvg, expAvgSq] = stateArrays(state, p, ['exp_avg', 'exp_avg_sq']);
      const grad = denseArray(g);
      writeInPlace('RAdam.step', p, (values) => {
        const param = values as FloatArray;
        const round = roundingOf(param);
        for (let i = 0; i < param.length; i++) {
          let d = grad[i];
          if (weightDecay !== 0) d = round(d + weightDecay * param[i]);
          expAvg[i] = round(beta1 * expAvg[i]) + (1 - beta1) * d;
          expAvgSq[i] = round(beta2 * expAvgSq[i]) + (1 - beta2) * d * d;
          const stepSize = round(round(expAvg[i] / biasCorrection1) * lr);
          if (rect === null) {
            param[i] -= stepSize;
          } else {
            const adaptiveLr = round(Math.sqrt(biasCorrection2) / round(round(Math.sqrt(expAvgSq[i])) + eps));
            param[i] -= round(round(stepSize * adaptiveLr) * rect);
          }
        }
      });
    }
  }
}
