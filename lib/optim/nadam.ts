/** NAdam, Adam with Nesterov momentum (Dozat, 2016), with PyTorch's momentum-decay schedule. */
import type { FloatArray } from '../backend/types.js';
import { denseArray } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { checkBetas, type BetaOptions } from './betas.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';
import { nextStep, roundingOf, stateArrays } from './state-arrays.js';

/** The options of NAdam (PyTorch's keyword arguments in camelCase). */
export interface NAdamOptions extends BetaOptions {
  /** ψ in the momentum schedule μₜ = β₁(1 − 0.96^(tψ) / 2). Default 4e-3. */
  momentumDecay: number;
}

/**
 * NAdam, as PyTorch's `torch.optim.NAdam`: g = ∇ + λw; μₜ = β₁(1 − 0.96^(tψ) / 2); Πₜ = μ₁⋯μₜ;
 * m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²; d = √(v / (1 − β₂ᵗ)) + ε;
 * w −= lr·(1 − μₜ) / (1 − Πₜ) · g / d + lr·μₜ₊₁ / (1 − Πₜμₜμₜ₊₁) · m / d (torch 1.13's second
 * product, μₜ counted twice). State per parameter:
 * `step`, `mu_product` (Πₜ, kept in float32 as PyTorch's), `exp_avg`, `exp_avg_sq`.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.NAdam(model.parameters(), { lr: 2e-3 });
 * ```
 */
export class NAdam extends Optimizer<NAdamOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 2e-3), betas (default [0.9, 0.999]), eps (default 1e-8), weightDecay
   *   (default 0), momentumDecay (default 4e-3).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<NAdamOptions>[], options: Partial<NAdamOptions> = {}) {
    super(params, { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, ...options });
  }

  protected validate(o: NAdamOptions): void {
    checkBetas('NAdam', o);
    checkNumber('NAdam', 'momentumDecay', o.momentumDecay, (v) => v >= 0, 'momentumDecay >= 0');
  }

  /** One NAdam update of every parameter that has a gradient. */
  step(): void {
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      const { lr, eps, weightDecay, momentumDecay } = group;
      const [beta1, beta2] = group.betas;
      const step = nextStep(state);
      const biasCorrection2 = 1 - beta2 ** step;
      const mu = beta1 * (1 - 0.5 * 0.96 ** (step * momentumDecay));
      const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * momentumDecay));
      // PyTorch keeps the product in a float32 scalar tensor, whatever the parameters' dtype; torch
      // 1.13 takes the next product as Πₜ·μₜ·μₜ₊₁ (μₜ counted twice), and so do we, to match it.
      const muProduct = Math.fround(((state.mu_product as number | undefined) ?? 1) * mu);
      const muProductNext = Math.fround(Math.fround(muProduct * mu) * muNext);
      state.mu_product = muProduct;
      const gradScale = (lr * (1 - mu)) / (1 - muProduct);
      const avgScale = (lr * muNext) / (1 - muProductNext);
      const [expAvg, expAvgSq] = stateArrays(state, p, ['exp_avg', 'exp_avg_sq']);
      const grad = denseArray(g);
      writeInPlace('NAdam.step', p, (values) => {
        const param = values as FloatArray;
        const round = roundingOf(param);
        for (let i = 0; i < param.length; i++) {
          let d = grad[i];
          if (weightDecay !== 0) d = round(d + weightDecay * param[i]);
          expAvg[i] = round(beta1 * expAvg[i]) + (1 - beta1) * d;
          expAvgSq[i] = round(beta2 * expAvgSq[i]) + (1 - beta2) * d * d;
          const denom = round(round(Math.sqrt(round(expAvgSq[i] / biasCorrection2))) + eps);
          param[i] = round(param[i] - gradScale * (d / denom)) - avgScale * (expAvg[i] / denom);
        }
      });
    }
  }
}
