/** Samplers: the item order a DataLoader visits, as PyTorch's `torch.utils.data.Sampler`. */
import { NodegradError } from '../errors.js';
import { getRank, getWorldSize, isInitialized } from '../distributed/index.js';
import { permutation, type Dataset } from './dataset.js';

/** An item order for a DataLoader: the dataset indices of one epoch, in the order to visit them. */
export interface Sampler extends Iterable<number> {
  /** How many indices one epoch yields. */
  readonly length: number;
}

/** Options of {@link DistributedSampler} (PyTorch's keyword arguments in camelCase). */
export interface DistributedSamplerOptions {
  /** The number of processes sharing the data. Default: the process group's world size. */
  numReplicas?: number;
  /** This process's rank in [0, numReplicas). Default: the process group's rank. */
  rank?: number;
  /** Shuffle with seed + epoch (the same order on every rank). Default true. */
  shuffle?: boolean;
  /** Seed of the shuffling; must be the same on every rank. Default 0. */
  seed?: number;
  /** Drop the tail so every rank gets the same number of items, instead of padding by wrapping. Default false. */
  dropLast?: boolean;
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `DistributedSampler: ${name} must be an integer >= ${min}, got ${value}`,
    );
  }
}

/**
 * Restricts a DataLoader to one rank's share of a dataset, as PyTorch's
 * `torch.utils.data.distributed.DistributedSampler`: every rank draws the same (seeded) order, pads it
 * by wrapping around to a multiple of numReplicas (or drops the tail with `dropLast`), and takes the
 * indices rank, rank + numReplicas, …. Call `setEpoch(e)` before each epoch so the order changes.
 * The shuffle is {@link permutation} with seed + epoch, the DataLoader's own generator, so orders
 * differ from PyTorch's numbers but follow the same rules.
 *
 * @example
 * ```ts
 * const ds = new ng.data.TensorDataset(ng.randn([10, 3]));
 * const sampler = new ng.data.DistributedSampler(ds, { numReplicas: 2, rank: 0 });
 * const loader = new ng.data.DataLoader(ds, { batchSize: 2, sampler });
 * sampler.setEpoch(0);
 * [...sampler].length; // 5
 * ```
 */
export class DistributedSampler implements Sampler {
  /** The number of processes sharing the data. */
  readonly numReplicas: number;
  /** This process's rank. */
  readonly rank: number;
  /** Whether each epoch is shuffled. */
  readonly shuffle: boolean;
  /** The seed of the shuffling. */
  readonly seed: number;
  /** Whether the tail is dropped instead of padded. */
  readonly dropLast: boolean;
  /** The epoch whose order the next iteration yields (set with setEpoch). */
  epoch = 0;

  /**
   * @param dataset - What to split: anything with a `length`.
   * @param options - numReplicas and rank (defaults: the initialized process group's world size and
   *   rank), shuffle (default true), seed (default 0), dropLast (default false).
   */
  constructor(
    readonly dataset: Pick<Dataset, 'length'>,
    options: DistributedSamplerOptions = {},
  ) {
    const group = isInitialized();
    const numReplicas = options.numReplicas ?? (group ? getWorldSize() : undefined);
    const rank = options.rank ?? (group ? getRank() : undefined);
    if (numReplicas === undefined || rank === undefined) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        'DistributedSampler: numReplicas and rank are required when no process group is initialized ' +
          '(call ng.distributed.initProcessGroup first, or pass them)',
      );
    }
    checkCount('numReplicas', numReplicas, 1);
    checkCount('rank', rank, 0);
    if (rank >= numReplicas) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `DistributedSampler: rank must be in [0, ${numReplicas - 1}] for numReplicas ${numReplicas}, got ${rank}`,
      );
    }
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast ?? false;
  }

  /** Items each rank gets per epoch (the same on every rank). */
  get length(): number {
    const n = this.dataset.length;
    if (this.dropLast && n % this.numReplicas !== 0) return Math.ceil((n - this.numReplicas) / this.numReplicas);
    return Math.ceil(n / this.numReplicas);
  }

  /** Items all ranks together visit per epoch: length · numReplicas. */
  get totalSize(): number {
    return this.length * this.numReplicas;
  }

  /** Sets the epoch whose shuffled order the next iteration yields, as PyTorch's set_epoch. */
  setEpoch(epoch: number): void {
    checkCount('epoch', epoch, 0);
    this.epoch = epoch;
  }

  /** This rank's indices for the current epoch. */
  indices(): number[] {
    const n = this.dataset.length;
    let order = this.shuffle ? permutation(n, this.seed + this.epoch) : Array.from({ length: n }, (_, i) => i);
    const total = this.totalSize;
    if (this.dropLast) order = order.slice(0, total);
    else if (n > 0) {
      // Pad by wrapping around (several times when the dataset is smaller than the padding).
      const padded = order.slice();
      while (padded.length < total) padded.push(...order.slice(0, total - padded.length));
      order = padded;
    }
    const mine: number[] = [];
    for (let i = this.rank; i < total; i += this.numReplicas) mine.push(order[i]);
    return mine;
  }

  /** Iterates {@link indices}: this rank's indices for the current epoch. */
  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
