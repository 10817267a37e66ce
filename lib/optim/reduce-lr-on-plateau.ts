/** Decays the lr when a watched metric stops improving. */
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { perGroup } from './lr-scheduler-base.js';
import type { LrOptions, Optimizer } from './optimizer.js';

/** The options of ReduceLROnPlateau (PyTorch's keyword arguments in camelCase). */
export interface ReduceLROnPlateauOptions {
  /** `'min'` (default): lower metrics are better; `'max'`: higher are. */
  mode?: 'min' | 'max';
  /** The lr's factor on a plateau (< 1). Default 0.1. */
  factor?: number;
  /** The epochs without improvement tolerated before a decay. Default 10. */
  patience?: number;
  /** The least change that counts as an improvement. Default 1e-4. */
  threshold?: number;
  /** `'rel'` (default): better than best · (1 ∓ threshold); `'abs'`: better than best ∓ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** The epochs after a decay during which bad epochs are not counted. Default 0. */
  cooldown?: number;
  /** The lowest lr, for every group or one per group. Default 0. */
  minLr?: number | readonly number[];
  /** A decay smaller than this is skipped. Default 1e-8. */
  eps?: number;
}

/**
 * Multiplies the lr by factor once the metric has not improved for more than patience epochs, as
 * PyTorch's `torch.optim.lr_scheduler.ReduceLROnPlateau`. Unlike the other schedules, its step takes
 * the metric (a number or a one-element tensor).
 *
 * @example
 * ```ts
 * const scheduler = new ng.optim.lrScheduler.ReduceLROnPlateau(optimizer, { patience: 5, factor: 0.5 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   trainOneEpoch(model, optimizer);
 *   scheduler.step(validationLoss(model));
 * }
 * ```
 */
export class ReduceLROnPlateau {
  /** Whether lower or higher metrics are better. */
  readonly mode: 'min' | 'max';
  /** The lr's factor on a plateau. */
  readonly factor: number;
  /** The bad epochs tolerated. */
  readonly patience: number;
  /** The least change that counts as an improvement. */
  readonly threshold: number;
  /** Whether threshold is relative or absolute. */
  readonly thresholdMode: 'rel' | 'abs';
  /** The epochs after a decay that do not count. */
  readonly cooldown: number;
  /** Each group's lowest lr. */
  readonly minLrs: number[];
  /** The smallest decay applied. */
  readonly eps: number;
  /** The best metric so far. */
  best: number;
  /** The epochs since the metric last improved. */
  numBadEpochs = 0;
  /** The cooldown epochs left. */
  cooldownCounter = 0;
  /** The epochs stepped so far. */
  lastEpoch = 0;

  /**
   * @param optimizer - The optimizer whose groups' lr to decay.
   * @param options - See {@link ReduceLROnPlateauOptions} for each option and its default.
   */
  constructor(
    /** The optimizer whose groups' lr the scheduler decays. */
    readonly optimizer: Optimizer<LrOptions>,
    options: ReduceLROnPlateauOptions = {},
  ) {
    this.mode = options.mode ?? 'min';
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    const fail = (what: string) => {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `ReduceLROnPlateau: ${what}`);
    };
    if ((this.mode as string) !== 'min' && (this.mode as string) !== 'max') {
      fail(`mode must be 'min' or 'max', got ${this.mode}`);
    }
    if ((this.thresholdMode as string) !== 'rel' && (this.thresholdMode as string) !== 'abs') {
      fail(`thresholdMode must be 'rel' or 'abs', got ${this.thresholdMode}`);
    }
    if (!(this.factor < 1)) fail(`factor must be < 1, got ${this.factor}`);
    if (!(this.patience >= 0) || !(this.cooldown >= 0)) {
      fail(`patience and cooldown must be >= 0, got ${this.patience} and ${this.cooldown}`);
    }
    this.minLrs = perGroup('ReduceLROnPlateau', 'minLr', options.minLr ?? 0, optimizer.paramGroups.length);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records one epoch's metric and decays the lr if it has plateaued. */
  step(metric: number | Tensor): void {
    const current = typeof metric === 'number' ? metric : metric.item();
    this.lastEpoch += 1;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const lr = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - lr > this.eps) g.lr = lr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  private isBetter(value: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min')
      return this.thresholdMode === 'rel' ? value < best * (1 - threshold) : value < best - threshold;
    return this.thresholdMode === 'rel' ? value > best * (threshold + 1) : value > best + threshold;
  }

  /** Each group's current lr (PyTorch's get_last_lr()). */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The scheduler's counters, for a checkpoint. */
  stateDict(): {
    /** The best metric so far. */
    best: number;
    /** The epochs since the metric last improved. */
    numBadEpochs: number;
    /** The cooldown epochs left. */
    cooldownCounter: number;
    /** The epochs stepped so far. */
    lastEpoch: number;
  } {
    const { best, numBadEpochs, cooldownCounter, lastEpoch } = this;
    return { best, numBadEpochs, cooldownCounter, lastEpoch };
  }

  /** Restores the counters of a stateDict() (the groups' lr travels in the optimizer's stateDict). */
  loadStateDict(sd: ReturnType<ReduceLROnPlateau['stateDict']>): void {
    Object.assign(this, sd);
  }
}
