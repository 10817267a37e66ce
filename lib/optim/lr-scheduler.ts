/** Learning-rate schedules: call step() once per epoch, after the optimizer's steps. */
import { NodegradError } from '../errors.js';
import type { Optimizer } from './optimizer.js';

abstract class LRScheduler {
  lastEpoch = 0;
  readonly baseLrs: number[];

  constructor(protected readonly optimizer: Optimizer<{ lr: number }>) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  protected abstract lrAt(baseLr: number, epoch: number): number;

  /** Advances one epoch and sets each group's lr. */
  step(): void {
    this.lastEpoch += 1;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch);
    });
  }

  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): { lastEpoch: number; baseLrs: number[] } {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  loadStateDict(sd: { lastEpoch: number }): void {
    this.lastEpoch = sd.lastEpoch;
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = this.lrAt(this.baseLrs[i], this.lastEpoch);
    });
  }
}

/** lr = base · gamma^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer<{ lr: number }>, options: { stepSize: number; gamma?: number }) {
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

/** lr = etaMin + (base − etaMin)·(1 + cos(π·epoch / tMax)) / 2. */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer<{ lr: number }>, options: { tMax: number; etaMin?: number }) {
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
