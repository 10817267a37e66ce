/** Adam (Kingma & Ba, 2015) and AdamW (decoupled weight decay, Loshchilov & Hutter, 2019). */
import { getBackend } from '../backend/index.js';
import type { FloatArray } from '../backend/types.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { denseArray } from '../ops/shape.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

type AdamInput = Partial<AdamOptions>;

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

/** new Adam(params, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, amsgrad }). */
export class Adam extends AdamBase {
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], options: AdamInput = {}) {
    super(params, options, false, 0);
  }
}

/** new AdamW(params, { ..., weightDecay = 0.01 }): the decay multiplies w by (1 − lr·λ) directly. */
export class AdamW extends AdamBase {
  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], options: AdamInput = {}) {
    super(params, options, true, 0.01);
  }
}
