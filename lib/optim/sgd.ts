/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's rule). */
import { getBackend } from '../backend/index.js';
import type { FloatArray, SgdParams } from '../backend/types.js';
import { NodegradError } from '../errors.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { denseArray } from '../ops/shape.js';
import { checkNumber, Optimizer, type ParamGroupInput } from './optimizer.js';

/** lr, momentum, dampening, weightDecay (the lecture's C: the L2 term C/2‖w‖² as its gradient C·w), nesterov, maximize. */
export type SgdOptions = SgdParams;

/**
 * Stochastic gradient descent with momentum, as PyTorch's `torch.optim.SGD`:
 * d = g + λw; b = μb + (1 − τ)d (b = d on the first step); d = nesterov ? d + μb : b; w −= lr·d
 * (with `maximize`, g is negated).
 *
 * @example
 * ```ts
 * const model = new ng.nn.Linear(3, 1);
 * const optimizer = new ng.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const x = ng.randn([64, 3]);
 * const y = x.sum(1, true);
 * for (let step = 0; step < 100; step++) {
 *   optimizer.zeroGrad();
 *   ng.nn.functional.mseLoss(model.forward(x), y).backward();
 *   optimizer.step();
 * }
 * ```
 */
export class SGD extends Optimizer<SgdOptions> {
  /**
   * @param params - The tensors to optimize (`model.parameters()`), or parameter groups with their own options.
   * @param options - lr (required), momentum μ (default 0), dampening τ (default 0), weightDecay λ
   *   (default 0), nesterov (default false; needs momentum > 0 and dampening 0), maximize (default false).
   */
  constructor(params: Iterable<Tensor> | ParamGroupInput<SgdOptions>[], options: Partial<SgdOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options });
  }

  protected validate(o: SgdOptions): void {
    checkNumber('SGD', 'learning rate', o.lr, (v) => v >= 0, 'lr >= 0');
    checkNumber('SGD', 'momentum', o.momentum, (v) => v >= 0 && v < 1, 'momentum in [0, 1)');
    checkNumber('SGD', 'dampening', o.dampening, (v) => v >= 0 && v <= 1, 'dampening in [0, 1]');
    checkNumber('SGD', 'weightDecay', o.weightDecay, (v) => v >= 0, 'weightDecay >= 0');
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'SGD: nesterov momentum requires momentum > 0 and dampening 0');
    }
  }

  /** One SGD update of every parameter that has a gradient. */
  step(): void {
    const backend = getBackend();
    for (const [group, p, g, state] of this.paramsWithGrad()) {
      let buffer: Tensor | null = null;
      let first = false;
      if (group.momentum !== 0) {
        first = !state.momentum_buffer;
        if (first) state.momentum_buffer = zerosTensor(p.shape, p.dtype);
        buffer = state.momentum_buffer as Tensor;
      }
      const grad = denseArray(g);
      // The buffer is the optimizer's own dense tensor, so denseArray is a view the kernel writes through.
      const momentum = buffer ? denseArray(buffer) : null;
      writeInPlace('SGD.step', p, (param) => backend.sgdStep(param as FloatArray, grad, momentum, group, first));
    }
  }
}
