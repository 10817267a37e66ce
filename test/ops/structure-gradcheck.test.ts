// Float64 gradchecks of the structure ops: one row per op (duplicate indices, negative dims,
// src larger than index, in-place forms on non-leaf tensors).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { randomTensor } from '../helpers.js';

const int = (data: ng.NestedArray): ng.Tensor => ng.tensor(data, { dtype: 'int32' });

/** Distinct values spaced apart, so sort/topk/clamp stay away from ties and kinks under eps. */
function spaced(shape: number[], seed: number): ng.Tensor {
  const n = shape.reduce((p, s) => p * s, 1);
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => ((a * 7919 + seed) % n) - ((b * 7919 + seed) % n),
  );
  return ng.tensor(new Float64Array(order.map((v) => v * 0.5 - n / 4)), {
    shape,
    dtype: 'float64',
    requiresGrad: true,
  });
}

type Row = [string, (...t: ng.Tensor[]) => ng.Tensor, ng.Tensor[]];

const rows: Row[] = [
  [
    'split',
    (x) =>
      ng.cat(
        x.split([1, 3, 0], -1).map((p, i) => p.mul(i + 1)),
        1,
      ),
    [randomTensor([2, 4], 1, 'float64', true)],
  ],
  [
    'chunk',
    (x) =>
      ng.cat(
        x.chunk(3, 0).map((p, i) => p.mul(i + 2)),
        0,
      ),
    [randomTensor([5, 2], 2, 'float64', true)],
  ],
  ['unbind', (x) => ng.stack(x.unbind(1).reverse(), 0), [randomTensor([2, 3], 3, 'float64', true)]],
  ['tril', (x) => x.tril(-1), [randomTensor([2, 3, 4], 4, 'float64', true)]],
  ['triu', (x) => x.triu(1), [randomTensor([4, 3], 5, 'float64', true)]],
  [
    'gather duplicates',
    (x) =>
      x.gather(
        -1,
        int([
          [0, 0, 2],
          [1, 1, 1],
        ]),
      ),
    [randomTensor([2, 3], 6, 'float64', true)],
  ],
  [
    'scatter src larger than index',
    (x, s) =>
      x.scatter(
        0,
        int([
          [1, 0],
          [0, 1],
        ]),
        s,
      ),
    [randomTensor([2, 3], 7, 'float64', true), randomTensor([3, 3], 8, 'float64', true)],
  ],
  ['scatter value', (x) => x.scatter(1, int([[2], [0]]), 3), [randomTensor([2, 3], 9, 'float64', true)]],
  [
    'scatterAdd duplicates',
    (x, s) => x.scatterAdd(1, int([[0, 0, 2, 0]]), s),
    [randomTensor([1, 3], 10, 'float64', true), randomTensor([2, 4], 11, 'float64', true)],
  ],
  [
    'indexAdd alpha',
    (x, s) => x.indexAdd(-2, int([2, 0, 2]), s, { alpha: 1.5 }),
    [randomTensor([3, 2], 12, 'float64', true), randomTensor([3, 2], 13, 'float64', true)],
  ],
  [
    'scatter_ on a non-leaf',
    (x, s) => x.mul(2).scatter_(0, int([[1, 0]]), s),
    [randomTensor([2, 2], 14, 'float64', true), randomTensor([1, 2], 15, 'float64', true)],
  ],
  [
    'scatterAdd_ on a non-leaf',
    (x, s) =>
      x.sub(0.5).scatterAdd_(
        0,
        int([
          [1, 1],
          [1, 0],
        ]),
        s,
      ),
    [randomTensor([2, 2], 16, 'float64', true), randomTensor([2, 2], 17, 'float64', true)],
  ],
  [
    'indexAdd_ on a non-leaf',
    (x, s) => x.add(1).indexAdd_(1, int([0, 0]), s, { alpha: -2 }),
    [randomTensor([2, 3], 18, 'float64', true), randomTensor([2, 2], 19, 'float64', true)],
  ],
  ['flip', (x) => x.flip([0, -1]), [randomTensor([2, 3, 2], 20, 'float64', true)]],
  ['roll', (x) => x.roll([1, -4], [0, 1]), [randomTensor([3, 3], 21, 'float64', true)]],
  ['roll flattened', (x) => x.roll(2), [randomTensor([2, 3], 22, 'float64', true)]],
  ['repeat', (x) => x.repeat(2, 1, 3), [randomTensor([2, 2], 23, 'float64', true)]],
  ['repeatInterleave', (x) => x.repeatInterleave([2, 0, 1], { dim: 1 }), [randomTensor([2, 3], 24, 'float64', true)]],
  ['sort', (x) => x.sort({ dim: 0, descending: true }).values, [spaced([4, 3], 1)]],
  ['topk', (x) => x.topk(2, { dim: -1, largest: false }).values, [spaced([3, 4], 2)]],
  [
    'clamp tensor bounds',
    (x, lo, hi) => ng.clamp(x, lo, hi),
    [
      spaced([2, 3], 3),
      ng.tensor([-1.2, 0.3, 0.6], { dtype: 'float64', requiresGrad: true }),
      ng.tensor([[1.3], [-0.2]], { dtype: 'float64', requiresGrad: true }),
    ],
  ],
  [
    'T',
    (x) => x.T.mul(ng.arange(0, 24, 1, { dtype: 'float64' }).reshape([4, 3, 2])),
    [randomTensor([2, 3, 4], 25, 'float64', true)],
  ],
  ['mT', (x) => x.mT.matmul(x), [randomTensor([2, 3, 2], 26, 'float64', true)]],
];

describe('structure ops gradcheck (float64)', () => {
  it.each(rows)('%s', (_name, fn, inputs) => {
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });
});
