// Structure ops: errors (class, code, op name), views, in-place version bumps, T/mT/size, and the
// cases the golden table leaves out (int32 data, 0-d tensors, non-contiguous inputs).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

const int = (data: ng.NestedArray): ng.Tensor => ng.tensor(data, { dtype: 'int32' });
const x34 = (): ng.Tensor => ng.arange(12).reshape([3, 4]);

describe('errors name the op and the offending value', () => {
  it('rejects indices out of range, including negative ones', () => {
    expectNodegradError(
      () => x34().gather(1, int([[0, 4]])),
      'ERR_NODEGRAD_ARGUMENT',
      'gather',
      'index 4',
      'dim 1 of size 4',
    );
    expectNodegradError(() => x34().gather(0, int([[-1]])), 'ERR_NODEGRAD_ARGUMENT', 'gather', 'index -1');
    expectNodegradError(() => x34().scatter(0, int([[3]]), 1), 'ERR_NODEGRAD_ARGUMENT', 'scatter', 'index 3', 'size 3');
    expectNodegradError(
      () => x34().scatterAdd(1, int([[9]]), ng.ones([1, 1])),
      'ERR_NODEGRAD_ARGUMENT',
      'scatterAdd',
      'index 9',
    );
    expectNodegradError(
      () => x34().indexAdd(0, int([0, 3]), ng.ones([2, 4])),
      'ERR_NODEGRAD_ARGUMENT',
      'indexAdd',
      'index 3',
    );
  });

  it('rejects an index that is not int32', () => {
    expectNodegradError(() => x34().gather(0, ng.tensor([[0]])), 'ERR_NODEGRAD_DTYPE', 'gather', 'int32', 'float32');
    expectNodegradError(() => x34().scatter_(0, ng.tensor([[0]]), 1), 'ERR_NODEGRAD_DTYPE', 'scatter_', 'float32');
    expectNodegradError(() => x34().indexAdd(0, ng.tensor([0]), ng.ones([1, 4])), 'ERR_NODEGRAD_DTYPE', 'indexAdd');
  });

  it('rejects mismatched shapes and dtypes', () => {
    expectNodegradError(
      () => x34().gather(0, int([[0, 0, 0, 0, 0]])),
      'ERR_NODEGRAD_SHAPE',
      'gather',
      '[1, 5]',
      '[3, 4]',
    );
    expectNodegradError(() => x34().gather(0, int([0])), 'ERR_NODEGRAD_SHAPE', 'gather', 'same number of dims');
    expectNodegradError(
      () => x34().scatter(0, int([[0, 1]]), ng.ones([1, 1])),
      'ERR_NODEGRAD_SHAPE',
      'scatter',
      'src',
      '[1, 1]',
    );
    expectNodegradError(
      () => x34().scatter(0, int([[0]]), ng.ones([1, 1], { dtype: 'float64' })),
      'ERR_NODEGRAD_DTYPE',
      'scatter',
      'float64',
    );
    expectNodegradError(
      () => x34().indexAdd(1, int([0]), ng.ones([3, 2])),
      'ERR_NODEGRAD_SHAPE',
      'indexAdd',
      '[3, 2]',
      '[3, 1]',
    );
    expectNodegradError(
      () => x34().indexAdd(1, int([[0]]), ng.ones([3, 1])),
      'ERR_NODEGRAD_SHAPE',
      'indexAdd',
      '1-D index',
    );
  });

  it('rejects bad sizes, counts and ranks', () => {
    expectNodegradError(() => x34().split([1, 1], 0), 'ERR_NODEGRAD_ARGUMENT', 'split', '[1, 1]', 'adding up to 3');
    expectNodegradError(() => x34().split(0, 1), 'ERR_NODEGRAD_ARGUMENT', 'split', 'positive');
    expectNodegradError(() => x34().chunk(0), 'ERR_NODEGRAD_ARGUMENT', 'chunk', 'got 0');
    expectNodegradError(() => x34().unbind(2), 'ERR_NODEGRAD_DIM', 'unbind', 'dim 2');
    expectNodegradError(() => ng.arange(3).tril(), 'ERR_NODEGRAD_SHAPE', 'tril', 'at least 2 dims', '[3]');
    expectNodegradError(() => ng.arange(3).mT, 'ERR_NODEGRAD_SHAPE', 'mT', '[3]');
    expectNodegradError(() => x34().topk(5), 'ERR_NODEGRAD_ARGUMENT', 'topk', 'k 5', 'size 4');
    expectNodegradError(() => x34().sort({ dim: 2 }), 'ERR_NODEGRAD_DIM', 'sort', 'dim 2');
    expectNodegradError(() => x34().roll([1, 2], [0]), 'ERR_NODEGRAD_ARGUMENT', 'roll', '2 shifts for 1 dims');
    expectNodegradError(() => x34().flip([0, -2]), 'ERR_NODEGRAD_DIM', 'flip', 'twice');
    expectNodegradError(() => x34().repeat(2), 'ERR_NODEGRAD_ARGUMENT', 'repeat', 'at least 2', '[3, 4]');
    expectNodegradError(
      () => x34().repeatInterleave([1, 2], { dim: 0 }),
      'ERR_NODEGRAD_ARGUMENT',
      'repeatInterleave',
      '[1, 2]',
      '3',
    );
    expectNodegradError(() => x34().size(-3), 'ERR_NODEGRAD_DIM', 'size', 'dim -3');
    expectNodegradError(() => ng.clamp(x34(), ng.zeros([2])), 'ERR_NODEGRAD_SHAPE', 'clamp', '[3, 4]', '[2]');
  });
});

describe('views and in-place writes', () => {
  it('split, chunk and unbind return views of the same storage', () => {
    const x = x34();
    for (const piece of [...x.split(2, 1), ...x.chunk(2, 0), ...x.unbind(-1)]) expect(piece.storage).toBe(x.storage);
    expect(flat(x.unbind(1)[2])).toEqual([2, 6, 10]);
  });

  it('scatter_, scatterAdd_ and indexAdd_ write in place through a transposed view and bump the version', () => {
    const base = ng.zeros([2, 3]);
    const view = base.T; // [3, 2], not contiguous
    const version = base.storage.version;
    view.scatter_(0, int([[2, 0]]), 5);
    view.scatterAdd_(1, int([[1, 1]]), ng.ones([1, 2]));
    view.indexAdd_(0, int([1]), ng.full([1, 2], 3), { alpha: 2 });
    expect(base.storage.version).toBe(version + 3);
    expect(base.toArray()).toEqual([
      [0, 6, 5],
      [7, 6, 0],
    ]);
  });

  it('an in-place scatter after a save makes backward throw, naming the writer', () => {
    const x = ng.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.exp();
    const z = y.sum();
    y.scatter_(0, int([0]), 0);
    expectNodegradError(() => z.backward(), 'ERR_NODEGRAD_AUTOGRAD', 'scatter_', 'exp');
  });

  it('refuses to write into a leaf that requires grad, and lets src carry the gradient into a plain tensor', () => {
    const leaf = ng.zeros([3], { requiresGrad: true });
    expectNodegradError(() => leaf.scatter_(0, int([0]), 1), 'ERR_NODEGRAD_AUTOGRAD', 'scatter_', 'leaf');
    const target = ng.zeros([3]);
    const src = ng.tensor([4, 5], { requiresGrad: true });
    target.scatterAdd_(0, int([2, 2]), src);
    expect(target.requiresGrad).toBe(true);
    target
      .mul(ng.tensor([1, 2, 3]))
      .sum()
      .backward();
    expect(flat(src.grad!)).toEqual([3, 3]);
  });
});

describe('T, mT and size', () => {
  it('T reverses all dims, mT swaps the last two, both as views', () => {
    const x = ng.arange(24).reshape([2, 3, 4]);
    expect(x.T.shape).toEqual([4, 3, 2]);
    expect(flat(x.T)).toEqual(flat(x.permute([2, 1, 0])));
    expect(x.mT.shape).toEqual([2, 4, 3]);
    expect(flat(x.mT)).toEqual(flat(x.transpose(1, 2)));
    expect(x.T.storage).toBe(x.storage);
    const v = ng.arange(3);
    expect(v.T).toBe(v);
  });

  it('size gives the shape, or one dim counted from either end', () => {
    const x = ng.zeros([2, 5, 3]);
    expect(x.size()).toEqual([2, 5, 3]);
    expect(x.size(1)).toBe(5);
    expect(x.size(-1)).toBe(3);
  });
});

describe('int32, 0-d and non-contiguous inputs', () => {
  it('sorts int32 exactly above 2^24 and keeps ties stable', () => {
    const big = 16777217;
    const { values, indices } = int([big, big - 1, big, 3]).sort({ descending: true });
    expect(values.dtype).toBe('int32');
    expect(flat(values)).toEqual([big, big, big - 1, 3]);
    expect(flat(indices)).toEqual([0, 2, 1, 3]);
    expect(flat(int([3, 1, 2]).argsort())).toEqual([1, 2, 0]);
  });

  it('handles 0-d tensors in sort, topk and gather', () => {
    const s = ng.tensor(2.5);
    expect(s.sort().values.shape).toEqual([]);
    expect(s.sort().indices.item()).toBe(0);
    expect(s.topk(1).values.item()).toBe(2.5);
    expect(s.gather(0, int(0)).item()).toBe(2.5);
  });

  it('reads non-contiguous inputs and indices through their strides', () => {
    const x = ng.arange(12).reshape([4, 3]).T; // [3, 4]
    const index = int([
      [1, 0],
      [3, 2],
      [0, 0],
    ]).T; // [2, 3]
    expect(x.gather(1, index.T).toArray()).toEqual(x.contiguous().gather(1, index.T.contiguous()).toArray());
    expect(x.gather(1, index.T).toArray()).toEqual([
      [3, 0],
      [10, 7],
      [2, 2],
    ]);
    expect(x.flip(1).toArray()).toEqual([
      [9, 6, 3, 0],
      [10, 7, 4, 1],
      [11, 8, 5, 2],
    ]);
    expect(x.tril().toArray()).toEqual([
      [0, 0, 0, 0],
      [1, 4, 0, 0],
      [2, 5, 8, 0],
    ]);
  });

  it('scatterAdd and indexAdd accumulate duplicate indices in int32', () => {
    const out = ng.zeros([3], { dtype: 'int32' }).scatterAdd(0, int([1, 1, 2, 1]), int([1, 2, 3, 4]));
    expect(flat(out)).toEqual([0, 7, 3]);
    const added = ng.zeros([2, 2], { dtype: 'int32' }).indexAdd(
      1,
      int([0, 0]),
      int([
        [1, 2],
        [3, 4],
      ]),
      { alpha: 2 },
    );
    expect(added.toArray()).toEqual([
      [6, 0],
      [14, 0],
    ]);
  });

  it('topk with sorted: false still returns the k largest with NaN first', () => {
    const { values, indices } = ng.tensor([1, NaN, 3, 2]).topk(2, { sorted: false });
    expect(flat(values)).toEqual([NaN, 3]);
    expect(flat(indices)).toEqual([1, 2]);
  });

  it('clamp mixes a tensor bound with a number bound', () => {
    const out = ng.clamp(ng.tensor([-3, 0, 3]), ng.tensor([-1, 1, -1]), 2);
    expect(flat(out)).toEqual([-1, 1, 2]);
  });
});
