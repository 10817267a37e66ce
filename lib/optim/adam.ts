/** Adam (Kingma & Ba, 2015) and AdamW (decoupled weight decay, Loshchilov & Hutter, 2019). */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { denseArray } from '../ops/shape.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';

/** The options of Adam and AdamW (PyTorch's keyword arguments in camelCase). */
export interface AdamOptions {
  /** The learning rate. Default 1e-3. */
  lr: number;
  /** The decay rates of the running averages of the gradient and of its square. Default [0.9, 0.999]. */
  betas: [number, number];
  /** Added to the denominator for numerical stability. Default 1e-8. */
  eps: number;
  /** Weight decay λ: Adam adds λ·w to the gradient, AdamW decays w directly. Default 0 (Adam), 0.01 (AdamW). */
  weightDecay: number;
  /** Use the maximum of past squared-gradient averages (AMSGrad). Default false. */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean;
}

/** What Adam's and AdamW's constructors take: any of AdamOptions, the rest defaulted. */
export type AdamInput = Partial<AdamOptions>;

class AdamBase extends Optimizer<AdamOptions> {
  constructor(
    params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[],
    options: AdamInput,
    private readonly decoupled: boolean,
    defaultWeightDecay: number,
  ) {
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: defaultWeightDecay,
      amsgrad: false,
      maximize: false,
      ...options,
    });
  }

  protected validate(o: AdamOptions): void {
    const name = this.constructor.name;
    checkNumber(name, 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
    checkNumber(name, 'epsilon', o.eps, (v) => v >= 0, 'eps >= 0');
    checkNumber(name, 'beta1', o.betas[0], (v) => v >= 0 && v < 1, 'betas[0] in [0, 1)');
    checkNumber(name, 'beta2', o.betas[1], (v) => v >= 0 && v < 1, 'betas[1] in [0, 1)');
    checkNumber(name, 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
  }

  /** One Adam update of every parameter that has a gradient. */
  step(): void {
    const backend = getBackend();
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      if (!('step' in state)) {
        state.step = 0;
        state.exp_avg = zerosTensor(p.shape, p.dtype);
        state.exp_avg_sq = zerosTensor(p.shape, p.dtype);
        if (group.amsgrad) state.max_exp_avg_sq = zerosTensor(p.shape, p.dtype);
      }
      state.step = (state.step as number) + 1;
      const step = state.step;
      // State tensors are the optimizer's own dense tensors, so denseArray is a view the kernel writes through.
      const data = (name: string) => denseArray(state[name] as Tensor);
      const grad = denseArray(g);
      const [expAvg, expAvgSq] = [data('exp_avg'), data('exp_avg_sq')];
      const maxExpAvgSq = group.amsgrad ? data('max_exp_avg_sq') : null;
      writeInPlace(this.constructor.name + '.step', p, (param) =>
        backend.adamStep(
          param as FloatArray,
          grad,
          expAvg,
          expAvgSq,
          maxExpAvgSq,
          {
            lr: group.lr,
            beta1: group.betas[0],
            beta2: group.betas[1],
            eps: group.eps,
            weightDecay: group.weightDecay,
            decoupled: this.decoupled,
            maximize: group.maximize,
          },
          step,
        ),
      );
    }
  }
}

/**
 * Adam (Kingma & Ba, 2015), as PyTorch's `torch.optim.Adam`: per-parameter steps scaled by running
 * averages of the gradient and of its square, with bias correction; weightDecay adds λ·w to the
 * gradient (L2 regularization).
 *
 * @example
 * ```ts
 * const model = new ng.nn.Linear(3, 1);
 * const optimizer = new ng.optim.Adam(model.parameters(), { lr: 1e-2 });
 * const x = ng.randn([64, 3]);
 * const y = x.sum(1, true);
 * for (let step = 0; step < 100; step++) {
 *   optimizer.zeroGrad();
 *   ng.nn.functional.mseLoss(model.forward(x), y).backward();
 *   optimizer.step();
 * }
 * ```
 */
export class Adam extends AdamBase {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (default 1e-3), betas (default [0.9, 0.999]), eps (default 1e-8), weightDecay
   *   (default 0), amsgrad (default false), maximize (default false).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], options: AdamInput = {}) {
    super(params, options, false, 0);
  }
}

/**
 * Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's `torch.optim.AdamW`:
 * each step multiplies w by (1 − lr·λ) instead of adding λ·w to the gradient.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.1 });
 * ```
 */
export class AdamW extends AdamBase {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - As Adam's, but weightDecay defaults to 0.01.
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], options: AdamInput = {}) {
    super(params, options, true, 0.01);
  }
}
