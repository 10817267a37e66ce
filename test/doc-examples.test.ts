// The @example blocks of the API reference (lib/ doc comments), run as written, with the values they claim.
import { expect, it } from 'vitest';
import * as ng from '../lib/index.js';

it('doc examples run', () => {
  const x0 = ng.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { requiresGrad: true },
  );
  const i0 = ng.tensor([0, 2, 1], { dtype: 'int32' });
  const y0 = ng.tensor(new Float32Array(6), { shape: [2, 3] });
  expect([x0.shape, i0.dtype, y0.shape]).toEqual([[2, 2], 'int32', [2, 3]]);
  const w0 = ng.zeros([3, 4], { requiresGrad: true });
  const counts = ng.zeros([10], { dtype: 'int32' });
  expect([w0.requiresGrad, counts.dtype]).toEqual([true, 'int32']);
  ng.manualSeed(0);
  const wr = ng.randn([784, 128], { requiresGrad: true });
  expect(wr.requiresGrad).toBe(true);
  // backward
  const w = ng.randn([3], { requiresGrad: true });
  const loss = w.mul(w).sum();
  ng.backward(loss);
  expect(w.grad?.toArray()).toEqual(w.mul(2).toArray());
  // grad
  const x = ng.tensor([1, 2, 3], { requiresGrad: true });
  const y = x.pow(3).sum();
  const [dx] = ng.autograd.grad(y, x, { createGraph: true }) as [ng.Tensor];
  const [d2x] = ng.autograd.grad(dx.sum(), x);
  expect(dx.toArray()).toEqual([3, 12, 27]);
  expect(d2x?.toArray()).toEqual([6, 12, 18]);
  // noGrad
  const lr = 0.1;
  const before = w.toArray() as number[];
  ng.noGrad(() => w.sub_(w.grad ?? 0, { alpha: lr }));
  (w.toArray() as number[]).forEach((v, i) => {
    expect(v).toBeCloseTo(before[i] * (1 - 2 * lr), 6);
  });
  // Function
  class Exp extends ng.autograd.Function {
    static forward(ctx: ng.autograd.FunctionCtx, x: ng.Tensor): ng.Tensor {
      const y = x.exp();
      ctx.saveForBackward(y);
      return y;
    }
    static backward(ctx: ng.autograd.FunctionCtx, g: ng.Tensor): ng.Tensor {
      const [y] = ctx.savedTensors as [ng.Tensor];
      return g.mul(y);
    }
  }
  const ye = Exp.apply(ng.randn([3], { requiresGrad: true }));
  expect(ye.requiresGrad).toBe(true);
  // checkpoint
  const input = ng.randn([2, 3], { requiresGrad: true });
  const h = ng.checkpoint((x) => x.tanh().mul(2), input);
  h.sum().backward();
  expect(input.grad).not.toBeNull();
  // gradcheck
  const xg = ng.randn([3, 4], { dtype: 'float64', requiresGrad: true });
  expect(ng.gradcheck((x) => x.tanh().mul(x).sum(1), [xg])).toBe(true);
  // gather
  const xx = ng.tensor([
    [1, 2],
    [3, 4],
  ]);
  expect(
    ng
      .gather(
        xx,
        1,
        ng.tensor(
          [
            [0, 0],
            [1, 0],
          ],
          { dtype: 'int32' },
        ),
      )
      .toArray(),
  ).toEqual([
    [1, 1],
    [4, 3],
  ]);
  // where
  const xw = ng.randn([5]);
  const yw = ng.where(xw.gt(0), xw, xw.mul(0.1));
  const mask = ng.tensor([true, false]);
  const masked = ng.where(mask, ng.tensor([1, 2]), -Infinity);
  expect([yw.shape, masked.toArray()]).toEqual([[5], [1, -Infinity]]);
  // matmul
  expect(ng.matmul(ng.randn([8, 3, 4]), ng.randn([4, 5])).shape).toEqual([8, 3, 5]);
  expect(ng.randn([3, 4]).matmul(ng.randn([4])).shape).toEqual([3]);
  // index
  const a = ng.arange(12).reshape([3, 4]);
  expect(a.index(0).toArray()).toEqual([0, 1, 2, 3]);
  expect(a.index(':', '1:3').toArray()).toEqual([
    [1, 2],
    [5, 6],
    [9, 10],
  ]);
  expect(a.index(ng.slice(null, null, 2), -1).toArray()).toEqual([3, 11]);
  expect(a.index([2, 0]).toArray()).toEqual([
    [8, 9, 10, 11],
    [0, 1, 2, 3],
  ]);
  expect(a.index(a.gt(5)).toArray()).toEqual([6, 7, 8, 9, 10, 11]);
  // indexPut_
  const z = ng.zeros([3, 4]);
  z.indexPut_([':', 0], 1);
  z.indexPut_([ng.tensor([0, 2], { dtype: 'int32' })], ng.ones([4]));
  z.indexPut_([ng.tensor([1, 1], { dtype: 'int32' }), 3], 5, { accumulate: true });
  expect(z.toArray()).toEqual([
    [1, 1, 1, 1],
    [1, 0, 0, 10],
    [1, 1, 1, 1],
  ]);
});
