// Index tensors are read in place (no copy) on the forward; a backward keeps its own copy, so writing
// into the index tensor after the forward does not change the gradient.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';

describe('index tensors written after the forward', () => {
  it('x.index(idx), ng.indexSelect and indexPut_ backpropagate through the indices they were given', () => {
    const idx = ng.tensor([2, 0, 2], { dtype: 'int32' });
    const x = ng.randn([4, 3], { requiresGrad: true });
    const picked = x.index(idx);
    const selected = ng.indexSelect(x, 0, idx);
    const target = ng.zeros([4, 3]);
    const v = ng.ones([3, 3], { requiresGrad: true });
    const put = target.indexPut([idx], v.mul(2));
    ng.noGrad(() => idx.fill_(1));
    picked.sum().add(selected.sum()).add(put.sum()).backward();
    // Rows 2 (twice) and 0 were picked by each of the two reads; row 1 never.
    expect(x.grad!.toArray()).toEqual([
      [2, 2, 2],
      [0, 0, 0],
      [4, 4, 4],
      [0, 0, 0],
    ]);
    // The value's gradient is the output gradient read at the original indices (PyTorch's rule: every
    // value row, duplicates included), times the 2 of v.mul(2); read at [1, 1, 1] it would be the same
    // sum, so check a row the index 1 never named stays zero in target's gradient path instead.
    expect(v.grad!.sum().item()).toBe(2 * 9);
    const t = ng.zeros([4, 3], { requiresGrad: true });
    const idx2 = ng.tensor([3], { dtype: 'int32' });
    const written = t.mul(1).indexPut([idx2], ng.ones([1, 3]));
    ng.noGrad(() => idx2.fill_(0));
    written.sum().backward();
    // Row 3 was overwritten (no gradient to t there); row 0 was not.
    expect(t.grad!.toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
      [0, 0, 0],
    ]);
  });

  it('a negative index is wrapped in a copy, leaving the index tensor as it was', () => {
    const idx = ng.tensor([-1, 0], { dtype: 'int32' });
    const x = ng.arange(0, 6).reshape([3, 2]);
    expect(x.index(idx).toArray()).toEqual([
      [4, 5],
      [0, 1],
    ]);
    expect(idx.toArray()).toEqual([-1, 0]);
  });
});
