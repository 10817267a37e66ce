import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

const { DistributedSampler, DataLoader, TensorDataset } = ng.data;
const sized = (length: number) => ({ length });

function shards(
  n: number,
  numReplicas: number,
  options: { shuffle?: boolean; dropLast?: boolean; seed?: number } = {},
) {
  return Array.from({ length: numReplicas }, (_, rank) => [
    ...new DistributedSampler(sized(n), { numReplicas, rank, ...options }),
  ]);
}

describe('DistributedSampler', () => {
  // Expected lists follow torch.utils.data.DistributedSampler's rules: pad by wrapping to a
  // multiple of numReplicas, then rank r takes positions r, r + numReplicas, ….
  it('without shuffling, rank r takes r::numReplicas of the order padded by wrapping', () => {
    expect(shards(10, 3, { shuffle: false })).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7, 0],
      [2, 5, 8, 1],
    ]);
    expect(shards(10, 2, { shuffle: false })).toEqual([
      [0, 2, 4, 6, 8],
      [1, 3, 5, 7, 9],
    ]);
  });

  it('pads several times over when the dataset is smaller than the padding', () => {
    expect(shards(2, 5, { shuffle: false })).toEqual([[0], [1], [0], [1], [0]]);
  });

  it('dropLast drops the tail so every rank gets floor(n / numReplicas) items', () => {
    expect(shards(10, 3, { shuffle: false, dropLast: true })).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5, 8],
    ]);
    const s = new DistributedSampler(sized(10), { numReplicas: 3, rank: 0, dropLast: true });
    expect(s.length).toBe(3);
    expect(s.totalSize).toBe(9);
  });

  it('shuffled shards are disjoint and together cover the dataset (plus wrapped padding)', () => {
    const parts = shards(103, 4, { seed: 7 });
    for (const p of parts) expect(p.length).toBe(26);
    const all = parts.flat();
    expect(new Set(all).size).toBe(103);
    expect(all.length).toBe(104);
    const evenParts = shards(100, 4, { seed: 7 });
    expect(new Set(evenParts.flat()).size).toBe(100);
    expect(evenParts.flat().length).toBe(100);
  });

  it('every rank draws the same order for an epoch; setEpoch changes it, the same seed repeats it', () => {
    const a = new DistributedSampler(sized(50), { numReplicas: 2, rank: 0, seed: 3 });
    const b = new DistributedSampler(sized(50), { numReplicas: 2, rank: 1, seed: 3 });
    const epoch0 = [...a];
    expect([...a]).toEqual(epoch0);
    expect(new Set([...epoch0, ...b]).size).toBe(50);
    a.setEpoch(1);
    b.setEpoch(1);
    const epoch1 = [...a];
    expect(epoch1).not.toEqual(epoch0);
    expect(new Set([...epoch1, ...b]).size).toBe(50);
    // Order of epoch e is the DataLoader's permutation with seed + epoch.
    const order = ng.data.permutation(50, 3 + 1);
    expect(epoch1).toEqual(order.filter((_, i) => i % 2 === 0));
  });

  it('drives a DataLoader: batches hold this rank’s indices only', () => {
    const ds = new TensorDataset(ng.arange(10, undefined, 1, { dtype: 'int32' }));
    const sampler = new DistributedSampler(ds, { numReplicas: 2, rank: 1, shuffle: false });
    const loader = new DataLoader(ds, { batchSize: 2, sampler });
    expect(loader.length).toBe(3);
    const seen = [...loader].map(([x]) => Array.from(x.storage.data));
    expect(seen).toEqual([[1, 3], [5, 7], [9]]);
  });

  it('names bad options', () => {
    expectNodegradError(
      () => new DistributedSampler(sized(4), { numReplicas: 2, rank: 2 }),
      'ERR_NODEGRAD_ARGUMENT',
      'DistributedSampler: rank',
    );
    expectNodegradError(
      () => new DistributedSampler(sized(4), { numReplicas: 0, rank: 0 }),
      'ERR_NODEGRAD_ARGUMENT',
      'numReplicas',
    );
    expectNodegradError(() => new DistributedSampler(sized(4)), 'ERR_NODEGRAD_ARGUMENT', 'initProcessGroup');
    const s = new DistributedSampler(sized(4), { numReplicas: 1, rank: 0 });
    expectNodegradError(
      () => new DataLoader(new TensorDataset(ng.zeros([4])), { sampler: s, shuffle: true }),
      'ERR_NODEGRAD_ARGUMENT',
      'DataLoader: sampler',
    );
  });
});
