/** Datasets and the DataLoader that batches them (iterable and async-iterable, seeded shuffling). */
import { NodegradError, formatShape } from '../errors.js';
import { indexSelect } from '../ops/join.js';
import { tensor } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Sampler } from './sampler.js';

/** Anything with a length whose items can be gathered in batches. */
export interface Dataset {
  /** The number of items. */
  readonly length: number;
  /** The tensors of the items at `indices`, each with a leading batch dim. */
  batch(indices: readonly number[]): Tensor[];
}

/**
 * Tensors sharing their first dim: item i is (t[i] for each tensor), as PyTorch's
 * `torch.utils.data.TensorDataset`.
 *
 * @example
 * ```ts
 * const ds = new ng.data.TensorDataset(ng.randn([100, 3]), ng.randint(0, 2, [100]));
 * const [x, y] = ds.batch([0, 1, 2]); // x [3, 3], y [3]
 * ```
 */
export class TensorDataset implements Dataset {
  /** The tensors, each with the items along dim 0. */
  readonly tensors: readonly Tensor[];

  /** @param tensors - One or more tensors with the same size of dim 0 (e.g. inputs and labels). */
  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'TensorDataset: expected at least one tensor');
    }
    const n = tensors[0].shape[0];
    for (const t of tensors) {
      if (t.ndim === 0 || t.shape[0] !== n) {
        throw new NodegradError(
          'ERR_NODEGRAD_SHAPE',
          `TensorDataset: every tensor needs the same first dim ${n}, got ${formatShape(t.shape)}`,
        );
      }
    }
    this.tensors = tensors;
  }

  /** The number of items: the tensors' first dim. */
  get length(): number {
    return this.tensors[0].shape[0];
  }

  /** Each tensor's rows at `indices`, copied and detached: [indices.length, ...]. */
  batch(indices: readonly number[]): Tensor[] {
    const index = tensor([...indices], { dtype: 'int32' });
    return this.tensors.map((t) => indexSelect(t.detach(), 0, index));
  }

  /** The items at `indices`, in that order, as a new dataset sharing nothing with this one. */
  subset(indices: readonly number[]): TensorDataset {
    return new TensorDataset(...this.batch(indices));
  }
}

/** Options of DataLoader (PyTorch's keyword arguments in camelCase). */
export interface DataLoaderOptions {
  /** Items per batch. Default 1. */
  batchSize?: number;
  /** Visit the items in a new seeded order each epoch (default false: in order). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. */
  dropLast?: boolean;
  /** Seed of the shuffling; epoch e uses seed + e, so a resumed run sees the same order. */
  seed?: number;
  /** Applied to each batch (augmentation, normalization). */
  transform?: (batch: Tensor[]) => Tensor[];
  /** Where the item order comes from (e.g. a DistributedSampler); excludes `shuffle`. */
  sampler?: Sampler;
}

/** Deterministic Fisher–Yates permutation from a 32-bit seed (independent of ng.manualSeed). */
export function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Batches a dataset, as PyTorch's `torch.utils.data.DataLoader`: each iteration is one epoch of
 * `Tensor[]` batches (one tensor per dataset tensor, with a leading batch dim), shuffled with a
 * seeded order when asked (epoch e uses seed + e, so a resumed run sees the same order). Iterate it
 * with `for...of`, or `for await...of` to let timers, signals and I/O run between batches.
 *
 * @example
 * ```ts
 * const { train } = ng.data.mnist();
 * const loader = new ng.data.DataLoader(train, { batchSize: 64, shuffle: true, seed: 1 });
 * for (const [images, labels] of loader) {
 *   // images [64, 1, 28, 28] (the last batch may be smaller), labels int32 [64]
 * }
 * ```
 */
export class DataLoader {
  /** Items per batch. */
  readonly batchSize: number;
  /** Epochs iterated so far; the next iteration shuffles with seed + epoch. */
  epoch = 0;

  /**
   * @param dataset - What to batch: a TensorDataset or any Dataset.
   * @param options - batchSize (default 1), shuffle (default false), dropLast (default false), seed
   *   (default 0), transform (applied to each batch), sampler (the item order, instead of shuffle).
   */
  constructor(
    readonly dataset: Dataset,
    readonly options: DataLoaderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `DataLoader: batchSize must be a positive integer, got ${this.batchSize}`,
      );
    }
    if (options.sampler && options.shuffle) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        'DataLoader: sampler option is mutually exclusive with shuffle; the sampler decides the order',
      );
    }
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.options.sampler?.length ?? this.dataset.length;
    return this.options.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The item order of epoch `epoch` (a sampler's own order when one is given: set its epoch yourself). */
  order(epoch: number): number[] {
    const n = this.dataset.length;
    if (this.options.sampler) return [...this.options.sampler];
    return this.options.shuffle
      ? permutation(n, (this.options.seed ?? 0) + epoch)
      : Array.from({ length: n }, (_, i) => i);
  }

  /** One epoch of batches; each iteration advances `epoch`. */
  *[Symbol.iterator](): Generator<Tensor[]> {
    const order = this.order(this.epoch++);
    for (let b = 0; b < this.length; b++) {
      const indices = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      const batch = this.dataset.batch(indices);
      yield this.options.transform ? this.options.transform(batch) : batch;
    }
  }

  /** One epoch of batches, yielding to the event loop between batches. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Tensor[]> {
    for (const batch of this) {
      yield batch;
      // Let timers, signals and I/O run between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
