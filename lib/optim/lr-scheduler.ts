/**
 * `ng.optim.lrScheduler`: learning-rate schedules, as PyTorch's `torch.optim.lr_scheduler`. Call
 * step() once per epoch, after the optimizer's steps.
 *
 * @module
 */
import { NodegradError } from '../errors.js';
import type { LrOptions, Optimizer } from './optimizer.js';

abstract class LRScheduler {
  /** The epochs stepped so far (PyTorch's last_epoch). */
  lastEpoch = 0;
  /** Each group's lr when the scheduler was built. */
  readonly baseLrs: number[];

  constructor(
    /** The optimizer whose groups' lr the scheduler sets. */
    protected readonly optimizer: Optimizer<LrOptions>,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr at `epoch` of a group that started at `baseLr`. */
  protected abstract lrAt(baseLr: number, epoch: number): number;

  /** Advances one epoch and sets each group's lr. */
  step(): void {
    this.lastEpoch += 1;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch);
    });
  }

  /** Each group's current lr (PyTorch's get_last_lr()). */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The scheduler's position, for a checkpoint. */
  stateDict(): {
    /** The epochs stepped so far. */
    lastEpoch: number;
    /** Each group's starting lr. */
    baseLrs: number[];
  } {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /** Restores lastEpoch from a stateDict() and sets each group's lr for it (from this scheduler's baseLrs). */
  loadStateDict(sd: {
    /** The epochs stepped so far. */
    lastEpoch: number;
  }): void {
    this.lastEpoch = sd.lastEpoch;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch);
    });
  }
}

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
    if (!Number.isInteger(options.stepSize) || options.stepSize < 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `StepLR: stepSize must be a positive integer, got ${options.stepSize}`,
      );
    }
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
  }

  protected lrAt(base: number, epoch: number): number {
    return base * this.gamma ** Math.floor(epoch / this.stepSize);
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
  }

  protected lrAt(base: number, epoch: number): number {
    return this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }
}
