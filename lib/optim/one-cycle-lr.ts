/** The 1cycle policy (Smith & Topin, 2017). */
import { NodegradError } from '../errors.js';
import { checkPositiveInteger, LRScheduler, perGroup } from './lr-scheduler-base.js';
import type { LrOptions, Optimizer } from './optimizer.js';

/** The options of OneCycleLR (PyTorch's keyword arguments in camelCase). */
export interface OneCycleLROptions {
  /** The peak lr, for every group or one per group. */
  maxLr: number | readonly number[];
  /** The steps of the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  /** With stepsPerEpoch, the steps of the cycle are epochs · stepsPerEpoch. */
  epochs?: number;
  /** With epochs, the steps of the cycle are epochs · stepsPerEpoch. */
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent raising the lr. Default 0.3. */
  pctStart?: number;
  /** How the lr moves within a phase: `'cos'` (default) or `'linear'`. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum (SGD's, RMSprop's `momentum`, or Adam-like `betas[0]`) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  /** The momentum at the peak lr, for every group or one per group. Default 0.85. */
  baseMomentum?: number | readonly number[];
  /** The momentum at the start and end, for every group or one per group. Default 0.95. */
  maxMomentum?: number | readonly number[];
  /** The starting lr is maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** The final lr is the starting lr / finalDivFactor. Default 1e4. */
  finalDivFactor?: number;
  /** Three phases (up, back down to the starting lr, then to the final lr) instead of two. Default false. */
  threePhase?: boolean;
}

interface Phase {
  end: number;
  lr: [number[], number[]];
  momentum: [number[], number[]];
}

/** A group's momentum fields, whichever its optimizer has. */
type MomentumGroup = LrOptions & { momentum?: number; betas?: [number, number] };

/**
 * The 1cycle learning-rate policy, as PyTorch's `torch.optim.lr_scheduler.OneCycleLR`: the lr rises
 * from maxLr / divFactor to maxLr over the first pctStart of totalSteps, then anneals to
 * maxLr / (divFactor · finalDivFactor) (with threePhase, back to the start first), while the momentum
 * moves the opposite way between maxMomentum and baseMomentum. Call step() after every batch.
 *
 * @example
 * ```ts
 * const optimizer = new ng.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
 * const scheduler = new ng.optim.lrScheduler.OneCycleLR(optimizer, { maxLr: 0.1, epochs: 10, stepsPerEpoch: 100 });
 * // after each batch's optimizer.step():
 * scheduler.step();
 * ```
 */
export class OneCycleLR extends LRScheduler {
  /** The steps of the cycle; stepping past it throws. */
  readonly totalSteps: number;
  /** Whether the momentum cycles too. */
  readonly cycleMomentum: boolean;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly useBeta1: boolean;

  /**
   * @param optimizer - The optimizer whose groups' lr (and momentum) to set.
   * @param options - maxLr (required), totalSteps or epochs and stepsPerEpoch, and the options of
   *   {@link OneCycleLROptions} with their defaults.
   */
  constructor(optimizer: Optimizer<LrOptions>, options: OneCycleLROptions) {
    const groups = optimizer.paramGroups.length;
    const maxLrs = perGroup('OneCycleLR', 'maxLr', options.maxLr, groups);
    const divFactor = options.divFactor ?? 25;
    super(
      optimizer,
      maxLrs.map((m) => m / divFactor),
    );
    this.totalSteps = OneCycleLR.totalStepsOf(options);
    const pctStart = options.pctStart ?? 0.3;
    if (!(pctStart >= 0 && pctStart <= 1)) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `OneCycleLR: pctStart must be in [0, 1], got ${pctStart}`);
    }
    const strategy = options.annealStrategy ?? 'cos';
    if ((strategy as string) !== 'cos' && (strategy as string) !== 'linear') {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${strategy}`,
      );
    }
    this.anneal =
      strategy === 'cos'
        ? (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
        : (start, end, pct) => (end - start) * pct + start;
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.useBeta1 = 'betas' in optimizer.defaults;
    if (this.cycleMomentum && !this.useBeta1 && !('momentum' in optimizer.defaults)) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `OneCycleLR: cycleMomentum needs an optimizer with momentum or betas, got ${optimizer.constructor.name}`,
      );
    }
    const initial = this.baseLrs;
    const min = initial.map((lr) => lr / (options.finalDivFactor ?? 1e4));
    const high = perGroup('OneCycleLR', 'maxMomentum', options.maxMomentum ?? 0.95, groups);
    const low = perGroup('OneCycleLR', 'baseMomentum', options.baseMomentum ?? 0.85, groups);
    const up = pctStart * this.totalSteps - 1;
    this.phases = options.threePhase
      ? [
          { end: up, lr: [initial, maxLrs], momentum: [high, low] },
          { end: 2 * pctStart * this.totalSteps - 2, lr: [maxLrs, initial], momentum: [low, high] },
          { end: this.totalSteps - 1, lr: [initial, min], momentum: [high, high] },
        ]
      : [
          { end: up, lr: [initial, maxLrs], momentum: [high, low] },
          { end: this.totalSteps - 1, lr: [maxLrs, min], momentum: [low, high] },
        ];
    this.apply(0);
  }

  private static totalStepsOf(o: OneCycleLROptions): number {
    if (o.totalSteps !== undefined) {
      checkPositiveInteger('OneCycleLR', 'totalSteps', o.totalSteps);
      return o.totalSteps;
    }
    if (o.epochs === undefined || o.stepsPerEpoch === undefined) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'OneCycleLR: give totalSteps, or epochs and stepsPerEpoch');
    }
    checkPositiveInteger('OneCycleLR', 'epochs', o.epochs);
    checkPositiveInteger('OneCycleLR', 'stepsPerEpoch', o.stepsPerEpoch);
    return o.epochs * o.stepsPerEpoch;
  }

  protected apply(step: number): void {
    if (step > this.totalSteps) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `OneCycleLR: tried to step ${step + 1} times; the cycle has totalSteps ${this.totalSteps}`,
      );
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      let start = 0;
      for (const [k, phase] of this.phases.entries()) {
        if (step <= phase.end || k === this.phases.length - 1) {
          const pct = (step - start) / (phase.end - start);
          g.lr = this.anneal(phase.lr[0][i], phase.lr[1][i], pct);
          if (this.cycleMomentum) this.setMomentum(g, this.anneal(phase.momentum[0][i], phase.momentum[1][i], pct));
          break;
        }
        start = phase.end;
      }
    });
  }

  private setMomentum(group: MomentumGroup, momentum: number): void {
    // A new betas array: the group's may be shared with the optimizer's defaults.
    if (this.useBeta1) group.betas = [momentum, group.betas?.[1] ?? 0.999];
    else group.momentum = momentum;
  }
}
