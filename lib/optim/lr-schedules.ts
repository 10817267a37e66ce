/** The closed-form schedules LinearLR, ExponentialLR, MultiStepLR and LambdaLR. */
import { NodegradError } from '../errors.js';
import { checkPositiveInteger, LRScheduler } from './lr-scheduler-base.js';
import type { LrOptions, Optimizer } from './optimizer.js';

/**
 * Scales the lr linearly from startFactor to endFactor over totalIters epochs, then holds it, as
 * PyTorch's `torch.optim.lr_scheduler.LinearLR` (a warmup, usually):
 * lr = base · (startFactor + (endFactor − startFactor) · min(epoch, totalIters) / totalIters).
 *
 * @example
 * ```ts
 * const warmup = new ng.optim.lrScheduler.LinearLR(optimizer, { startFactor: 0.1, totalIters: 5 });
 * ```
 */
export class LinearLR extends LRScheduler {
  /** The factor at epoch 0. */
  readonly startFactor: number;
  /** The factor from epoch totalIters on. */
  readonly endFactor: number;
  /** The epochs of the ramp. */
  readonly totalIters: number;

  /**
   * @param optimizer - The optimizer whose groups' lr to set.
   * @param options - startFactor (in [0, 1], default 1/3), endFactor (in [0, 1], default 1), totalIters
   *   (a positive integer, default 5).
   */
  constructor(
    optimizer: Optimizer<LrOptions>,
    options: { startFactor?: number; endFactor?: number; totalIters?: number } = {},
  ) {
    super(optimizer);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    for (const [name, value] of [
      ['startFactor', this.startFactor],
      ['endFactor', this.endFactor],
    ] as const) {
      if (!(value >= 0 && value <= 1)) {
        throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `LinearLR: ${name} must be in [0, 1], got ${value}`);
      }
    }
    checkPositiveInteger('LinearLR', 'totalIters', this.totalIters);
    this.apply(0);
  }

  protected apply(epoch: number): void {
    const ramp = Math.min(this.totalIters, epoch) / this.totalIters;
    this.setLrs((base) => base * (this.startFactor + (this.endFactor - this.startFactor) * ramp));
  }
}

/**
 * Multiplies the lr by gamma every epoch, as PyTorch's `torch.optim.lr_scheduler.ExponentialLR`:
 * lr = base · gamma^epoch.
 *
 * @example
 * ```ts
 * const scheduler = new ng.optim.lrScheduler.ExponentialLR(optimizer, { gamma: 0.95 });
 * ```
 */
export class ExponentialLR extends LRScheduler {
  /** The factor per epoch. */
  readonly gamma: number;

  /**
   * @param optimizer - The optimizer whose groups' lr to set.
   * @param options - gamma: the factor per epoch (required).
   */
  constructor(optimizer: Optimizer<LrOptions>, options: { gamma: number }) {
    super(optimizer);
    if (typeof options.gamma !== 'number' || !Number.isFinite(options.gamma)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `ExponentialLR: gamma must be a number, got ${options.gamma}`);
    }
    this.gamma = options.gamma;
    this.apply(0);
  }

  protected apply(epoch: number): void {
    this.setLrs((base) => base * this.gamma ** epoch);
  }
}

/**
 * Multiplies the lr by gamma at each milestone epoch, as PyTorch's
 * `torch.optim.lr_scheduler.MultiStepLR`: lr = base · gamma^(milestones ≤ epoch); a milestone listed
 * twice counts twice.
 *
 * @example
 * ```ts
 * const scheduler = new ng.optim.lrScheduler.MultiStepLR(optimizer, { milestones: [30, 80], gamma: 0.1 });
 * ```
 */
export class MultiStepLR extends LRScheduler {
  /** The epochs at which the lr decays, sorted. */
  readonly milestones: readonly number[];
  /** The factor of each decay. */
  readonly gamma: number;

  /**
   * @param optimizer - The optimizer whose groups' lr to set.
   * @param options - milestones: the epochs of the decays (integers); gamma: the factor (default 0.1).
   */
  constructor(optimizer: Optimizer<LrOptions>, options: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer);
    const bad = options.milestones.find((m) => !Number.isInteger(m));
    if (bad !== undefined) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `MultiStepLR: milestones must be integers, got ${bad}`);
    }
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.apply(0);
  }

  protected apply(epoch: number): void {
    const passed = this.milestones.filter((m) => m <= epoch).length;
    this.setLrs((base) => base * this.gamma ** passed);
  }
}

/** A factor of the base lr as a function of the epoch, as LambdaLR takes. */
export type LrLambda = (epoch: number) => number;

/**
 * Sets the lr to the base lr times a function of the epoch, as PyTorch's
 * `torch.optim.lr_scheduler.LambdaLR`: lr = base · lrLambda(epoch), with one function for every group
 * or one per group.
 *
 * @example
 * ```ts
 * const scheduler = new ng.optim.lrScheduler.LambdaLR(optimizer, { lrLambda: (epoch) => 0.95 ** epoch });
 * ```
 */
export class LambdaLR extends LRScheduler {
  /** Each group's function. */
  readonly lrLambdas: readonly LrLambda[];

  /**
   * @param optimizer - The optimizer whose groups' lr to set.
   * @param options - lrLambda: a function of the epoch, or a list with one per parameter group.
   */
  constructor(optimizer: Optimizer<LrOptions>, options: { lrLambda: LrLambda | readonly LrLambda[] }) {
    super(optimizer);
    const groups = optimizer.paramGroups.length;
    const { lrLambda } = options;
    if (typeof lrLambda === 'function') {
      this.lrLambdas = Array<LrLambda>(groups).fill(lrLambda);
    } else {
      if (lrLambda.length !== groups) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `LambdaLR: expected ${groups} lrLambda functions (one per group), got ${lrLambda.length}`,
        );
      }
      this.lrLambdas = [...lrLambda];
    }
    this.apply(0);
  }

  protected apply(epoch: number): void {
    this.setLrs((base, i) => base * this.lrLambdas[i](epoch));
  }
}
