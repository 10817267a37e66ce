/**
 * Adadelta (Zeiler, 2012), standing in for torch.optim.Adadelta until nodegrad ships one: each
 * step scales the gradient by RMS(past updates) / RMS(past gradients), both running averages.
 */
import * as ng from 'nodegrad';

export interface AdadeltaOptions {
  lr: number;
  rho: number;
  eps: number;
}

export class Adadelta extends ng.optim.Optimizer<AdadeltaOptions> {
  constructor(params: Iterable<ng.Tensor>, options: Partial<AdadeltaOptions> = {}) {
    super(params, { lr: 1, rho: 0.9, eps: 1e-6, ...options });
  }

  protected validate(o: AdadeltaOptions): void {
    if (!(o.lr >= 0) || !(o.rho >= 0 && o.rho <= 1) || !(o.eps >= 0)) {
      throw new ng.NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `Adadelta: expected lr >= 0, rho in [0, 1] and eps >= 0, got lr = ${o.lr}, rho = ${o.rho}, eps = ${o.eps}`,
      );
    }
  }

  step(): void {
    ng.noGrad(() => {
      for (const [group, p, g, state] of this.paramsWithGrad()) {
        if (!('squareAvg' in state)) state.squareAvg = ng.zerosLike(p);
        if (!('accDelta' in state)) state.accDelta = ng.zerosLike(p);
        const squareAvg = state.squareAvg as ng.Tensor;
        const accDelta = state.accDelta as ng.Tensor;
        squareAvg.mul_(group.rho).add_(g.mul(g), { alpha: 1 - group.rho });
        const delta = accDelta.add(group.eps).sqrt().div(squareAvg.add(group.eps).sqrt()).mul(g);
        accDelta.mul_(group.rho).add_(delta.mul(delta), { alpha: 1 - group.rho });
        p.add_(delta, { alpha: -group.lr });
      }
    });
  }
}
