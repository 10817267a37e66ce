/** The base of the epoch-indexed learning-rate schedules in `ng.optim.lrScheduler`, and their checks. */
import { NodegradError } from '../errors.js';
import type { LrOptions, Optimizer } from './optimizer.js';

// PyTorch's param_group['initial_lr']: the lr a group had when its first scheduler was built, so a
// later scheduler on the same optimizer (SequentialLR's children) starts from the same base.
const recordedInitialLrs = new WeakMap<object, number>();

/**
 * The base of the learning-rate schedules, as PyTorch's `torch.optim.lr_scheduler.LRScheduler`
 * (`_LRScheduler` in torch 1.13): each group's lr is a function of its base lr and the epoch count,
 * set at construction (epoch 0) and by every step(). A subclass implements apply(epoch), usually
 * with setLrs, and calls `this.apply(0)` at the end of its constructor.
 */
export abstract class LRScheduler {
  /** The epochs stepped so far (PyTorch's last_epoch). */
  lastEpoch = 0;
  /** Each group's lr before any scheduler changed it (PyTorch's base_lrs, from `initial_lr`). */
  readonly baseLrs: number[];

  /**
   * @param optimizer - The optimizer whose groups' lr the scheduler sets.
   * @param initialLrs - Each group's base lr, replacing the one recorded by an earlier scheduler (OneCycleLR's).
   */
  constructor(
    /** The optimizer whose groups' lr the scheduler sets. */
    readonly optimizer: Optimizer<LrOptions>,
    initialLrs?: number[],
  ) {
    this.baseLrs = optimizer.paramGroups.map((g, i) => {
      const lr = initialLrs?.[i] ?? recordedInitialLrs.get(g) ?? g.lr;
      recordedInitialLrs.set(g, lr);
      return lr;
    });
  }

  /** Sets each group's lr (and, for some schedules, momentum) for `epoch`. */
  protected abstract apply(epoch: number): void;

  /** Sets group i's lr to `lrAt(baseLrs[i], i)`. */
  protected setLrs(lrAt: (baseLr: number, group: number) => number): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lrAt(this.baseLrs[i], i);
    });
  }

  /** Advances one epoch (or step, for OneCycleLR) and sets each group's lr. */
  step(): void {
    this.lastEpoch += 1;
    this.apply(this.lastEpoch);
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
    this.apply(this.lastEpoch);
  }
}

/** `value` once per group: a list must have one entry per group, a number is repeated. */
export function perGroup(op: string, name: string, value: number | readonly number[], groups: number): number[] {
  if (typeof value === 'number') return Array<number>(groups).fill(value);
  if (value.length !== groups) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: expected ${groups} values for ${name}, got ${value.length}`,
    );
  }
  return [...value];
}

/** Throws a NodegradError naming `op` and the option unless `value` is a positive integer. */
export function checkPositiveInteger(op: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `${op}: ${name} must be a positive integer, got ${value}`);
  }
}
