/** Schedules run one after another. */
import { NodegradError } from '../errors.js';
import { LRScheduler } from './lr-scheduler-base.js';
import type { LrOptions, Optimizer } from './optimizer.js';

/**
 * Runs schedulers one after another, as PyTorch's `torch.optim.lr_scheduler.SequentialLR`: scheduler
 * k takes over at epoch milestones[k − 1], restarted from its own epoch 0 (so from the groups'
 * initial lr), e.g. a LinearLR warmup then CosineAnnealingLR. The schedulers must share the optimizer.
 *
 * @example
 * ```ts
 * const { LinearLR, CosineAnnealingLR, SequentialLR } = ng.optim.lrScheduler;
 * const warmup = new LinearLR(optimizer, { startFactor: 0.1, totalIters: 5 });
 * const decay = new CosineAnnealingLR(optimizer, { tMax: 95 });
 * const scheduler = new SequentialLR(optimizer, { schedulers: [warmup, decay], milestones: [5] });
 * ```
 */
export class SequentialLR extends LRScheduler {
  /** The schedulers, in the order they run. */
  readonly schedulers: readonly LRScheduler[];
  /** The epochs at which each scheduler after the first takes over, ascending. */
  readonly milestones: readonly number[];

  /**
   * @param optimizer - The optimizer all the schedulers set.
   * @param options - schedulers: the schedules in order; milestones: one epoch fewer than schedulers.
   */
  constructor(
    optimizer: Optimizer<LrOptions>,
    options: { schedulers: readonly LRScheduler[]; milestones: readonly number[] },
  ) {
    super(optimizer);
    const { schedulers, milestones } = options;
    const other = schedulers.findIndex((s) => s.optimizer !== optimizer);
    if (other >= 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `SequentialLR: expected every scheduler to set this optimizer; scheduler ${other} sets another`,
      );
    }
    if (schedulers.length === 0 || milestones.length !== schedulers.length - 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `SequentialLR: expected one milestone fewer than schedulers, got ${schedulers.length} schedulers and ${milestones.length} milestones`,
      );
    }
    if (milestones.some((m, i) => !Number.isInteger(m) || (i > 0 && m < milestones[i - 1]))) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `SequentialLR: milestones must be ascending integers, got [${milestones.join(', ')}]`,
      );
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.apply(0);
  }

  /** Hands `epoch` to the scheduler whose turn it is, at its own epoch count. */
  protected apply(epoch: number): void {
    const index = this.milestones.filter((m) => m <= epoch).length;
    const start = index > 0 ? this.milestones[index - 1] : 0;
    this.schedulers[index].loadStateDict({ lastEpoch: epoch - start });
  }
}
