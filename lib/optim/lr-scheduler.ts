/**
 * `ng.optim.lrScheduler`: learning-rate schedules, as PyTorch's `torch.optim.lr_scheduler`: StepLR,
 * MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR, LambdaLR, OneCycleLR, SequentialLR and
 * ReduceLROnPlateau. Call step() once per epoch (OneCycleLR: once per batch), after the optimizer's
 * steps; ReduceLROnPlateau's step takes the metric it watches.
 *
 * @module
 */
import { NodegradError } from '../errors.js';
import { checkPositiveInteger, LRScheduler } from './lr-scheduler-base.js';
import type { LrOptions, Optimizer } from './optimizer.js';

export { LRScheduler } from './lr-scheduler-base.js';
export { ExponentialLR, LambdaLR, LinearLR, MultiStepLR, type LrLambda } from './lr-schedules.js';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle-lr.js';
export { SequentialLR } from './sequential-lr.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';

/**
 * Multiplies the lr by gamma every stepSize epochs, as PyTorch's `torch.optim.lr_scheduler.StepLR`:
 * lr = base · gamma^⌊epoch / stepSize⌋.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.SGD(model.parameters(), { lr: 0.1 });
 * const scheduler = new ng.optim.lrScheduler.StepLR(optimizer, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 90; epoch++) {
 *   trainOneEpoch(model, optimizer);
 *   scheduler.step(); // lr 0.1 for epochs 0-29, 0.01 for 30-59, 0.001 for 60-89
 * }
 * ```
 */
export class StepLR extends LRScheduler {
  /** The epochs between two decays. */
  readonly stepSize: number;
  /** The factor of each decay. */
  readonly gamma: number;

  /**
   * @param optimizer - The optimizer whose groups' lr to set.
   * @param options - stepSize: epochs between decays (a positive integer); gamma: the factor (default 0.1).
   */
  constructor(optimizer: Optimizer<LrOptions>, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    checkPositiveInteger('StepLR', 'stepSize', options.stepSize);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.apply(0);
  }

  protected apply(epoch: number): void {
    this.setLrs((base) => base * this.gamma ** Math.floor(epoch / this.stepSize));
  }
}

/**
 * Anneals the lr along a half cosine from its base to etaMin over tMax epochs, as PyTorch's
 * `torch.optim.lr_scheduler.CosineAnnealingLR`: lr = etaMin + (base − etaMin)·(1 + cos(π·epoch / tMax)) / 2.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** The epochs of the half cosine. */
  readonly tMax: number;
  /** The lr at epoch tMax. */
  readonly etaMin: number;

  /**
   * @param optimizer - The optimizer whose groups' lr to set.
   * @param options - tMax: the epochs from base lr to etaMin (positive); etaMin: the lowest lr (default 0).
   */
  constructor(optimizer: Optimizer<LrOptions>, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    if (!(options.tMax > 0)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `CosineAnnealingLR: tMax must be positive, got ${options.tMax}`);
    }
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.apply(0);
  }

  protected apply(epoch: number): void {
    this.setLrs((base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2);
  }
}
