// Reductions of 0-d and empty tensors, with PyTorch's answers: a reduction is always a new
// tensor; an empty sum is 0, an empty mean NaN, an empty logsumexp -inf; max/min/argmax refuse
// an empty dim but reduce a non-empty dim of an empty tensor to an empty result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('0-d and empty reductions (%s backend)', (_backend, backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it('sum of a 0-d tensor is a new tensor and chains to the leaf: x.sum().sum().backward()', () => {
    const x = ng.tensor(3, { requiresGrad: true });
    const s = x.sum();
    expect(s).not.toBe(x);
    expect(x.gradFn).toBeNull();
    s.sum().mul(2).backward();
    expect(x.grad?.item()).toBe(2);
  });

  it('mean, logsumexp and sum with keepDim of a 0-d tensor chain to the leaf', () => {
    const x = ng.tensor(0.5, { dtype: 'float64', requiresGrad: true });
    x.mean().logsumexp().sum(undefined, true).backward();
    expect(x.grad?.item()).toBe(1);
  });

  it('sum of a 0-d int32 tensor gives a new int32 tensor', () => {
    const x = ng.tensor(4, { dtype: 'int32' });
    const s = x.sum();
    expect(s.dtype).toBe('int32');
    expect(s.item()).toBe(4);
  });

  it('sum of an empty tensor is 0, over all dims and per dim', () => {
    const z = ng.zeros([3, 0]);
    expect(z.sum().item()).toBe(0);
    expect(z.sum().shape).toEqual([]);
    expect(z.sum(1).toArray()).toEqual([0, 0, 0]);
    expect(z.sum(1, true).shape).toEqual([3, 1]);
    expect(z.sum(0).shape).toEqual([0]);
  });

  it('mean of an empty tensor is NaN; logsumexp is -inf', () => {
    const z = ng.zeros([3, 0]);
    expect(z.mean().item()).toBeNaN();
    expect(flat(z.mean(1)).every(Number.isNaN)).toBe(true);
    expect(z.mean(1).shape).toEqual([3]);
    expect(z.mean(0).shape).toEqual([0]);
    expect(ng.zeros([0]).logsumexp(0).item()).toBe(-Infinity);
  });

  it('backward through an empty sum gives an empty gradient', () => {
    const z = ng.zeros([3, 0], { requiresGrad: true });
    z.sum().backward();
    expect(z.grad?.shape).toEqual([3, 0]);
  });

  it('max/min/argmax refuse an empty dim or an empty tensor without a dim, naming the op', () => {
    const z = ng.zeros([3, 0]);
    expectNodegradError(() => z.max(1), 'ERR_NODEGRAD_SHAPE', 'max:', 'dim 1 of size 0', '[3, 0]');
    expectNodegradError(() => z.min(-1), 'ERR_NODEGRAD_SHAPE', 'min:', 'dim 1 of size 0');
    expectNodegradError(() => z.argmax(1), 'ERR_NODEGRAD_SHAPE', 'argmax:', 'dim 1 of size 0');
    expectNodegradError(() => z.max(), 'ERR_NODEGRAD_SHAPE', 'max:', 'empty tensor of shape [3, 0]');
    expectNodegradError(() => z.argmax(), 'ERR_NODEGRAD_SHAPE', 'argmax:', 'empty tensor');
  });

  it('max over a non-empty dim of an empty tensor is empty', () => {
    const z = ng.zeros([3, 0]);
    expect(z.max(0).shape).toEqual([0]);
    expect(z.argmin(0, true).shape).toEqual([1, 0]);
  });
});
