import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

describe('backward', () => {
  it('diamond: a tensor consumed twice gets the sum of both gradients', () => {
    const x = ng.tensor([1, 2, 3], { requiresGrad: true });
    const a = x.mul(2);
    const b = x.exp();
    a.add(b).sum().backward();
    expectClose(
      flat(x.grad!),
      [1, 2, 3].map((v) => 2 + Math.exp(v)),
    );
  });

  it('computes each node once even when its output feeds many consumers', () => {
    const x = ng.tensor([0.5, -1], { requiresGrad: true });
    const h = x.tanh();
    let calls = 0;
    const node = h.gradFn!;
    const original = node.apply.bind(node);
    node.apply = (g) => {
      calls++;
      return original(g);
    };
    h.mul(h).add(h).add(h.mul(3)).sum().backward();
    expect(calls).toBe(1);
    expectClose(
      flat(x.grad!),
      [0.5, -1].map((v) => (2 * Math.tanh(v) + 4) * (1 - Math.tanh(v) ** 2)),
      1e-5,
    );
  });

  it('accumulates into .grad across backward calls', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    x.mul(3).sum().backward();
    x.mul(3).sum().backward();
    expect(flat(x.grad!)).toEqual([6, 6]);
  });

  it('takes an explicit gradient for non-scalar outputs', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    x.mul(x).backward(ng.tensor([1, 10]));
    expect(flat(x.grad!)).toEqual([2, 40]);
  });

  it('refuses an implicit gradient for a non-scalar output', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    expectNodegradError(() => x.mul(2).backward(), 'ERR_NODEGRAD_AUTOGRAD', 'scalar outputs', '[2]');
  });

  it('refuses a gradient of the wrong shape', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    expectNodegradError(() => x.mul(2).backward(ng.tensor([1, 2, 3])), 'ERR_NODEGRAD_SHAPE', '[3]', '[2]');
  });

  it('refuses backward on a tensor that does not require grad', () => {
    expectNodegradError(() => ng.tensor([1]).backward(), 'ERR_NODEGRAD_AUTOGRAD', 'does not require grad');
  });

  it('frees the graph after backward; a second backward throws unless retainGraph', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(y.gradFn!.released).toBe(true);
    expectNodegradError(() => y.backward(), 'ERR_NODEGRAD_AUTOGRAD', 'second time', 'retainGraph');

    const z = x.exp().sum();
    x.grad = null;
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expectClose(
      flat(x.grad!),
      [1, 2].map((v) => 2 * Math.exp(v)),
    );
  });

  it('takes the options first when there is no gradient, and names a wrong first argument', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    const z = x.mul(x).sum();
    z.backward({ retainGraph: true });
    expect(z.gradFn!.released).toBe(false);
    z.backward();
    expect(z.gradFn!.released).toBe(true);
    expectClose(flat(x.grad!), [4, 8]);
    const w = x.mul(3).sum();
    expectNodegradError(() => w.backward(2 as unknown as ng.Tensor), 'ERR_NODEGRAD_ARGUMENT', 'backward', 'number');
    expectNodegradError(() => w.backward([1] as unknown as ng.Tensor), 'ERR_NODEGRAD_ARGUMENT', 'backward', 'array');
  });

  it('records nothing under noGrad, and enableGrad turns recording back on', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    const y = ng.noGrad(() => x.mul(2).exp());
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(ng.noGrad(() => ng.isGradEnabled())).toBe(false);
    const z = ng.noGrad(() => ng.enableGrad(() => x.mul(2)));
    expect(z.gradFn?.name).toBe('mul');
    expect(ng.isGradEnabled()).toBe(true);
  });

  it('restores the grad mode when the function throws', () => {
    expect(() =>
      ng.noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ng.isGradEnabled()).toBe(true);
  });

  it('detach() cuts the graph', () => {
    const x = ng.tensor([3], { requiresGrad: true });
    const y = x.mul(x.detach());
    y.backward();
    expect(flat(x.grad!)).toEqual([3]);
    expect(x.detach().requiresGrad).toBe(false);
  });

  it('only leaves get .grad; integer tensors cannot require grad', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    h.sum().backward();
    expect(h.grad).toBeNull();
    expectNodegradError(() => ng.tensor([1], { dtype: 'int32', requiresGrad: true }), 'ERR_NODEGRAD_DTYPE', 'int32');
  });

  it('throws when a tensor saved for backward was modified in place', () => {
    const x = ng.tensor([1, 2], { requiresGrad: true });
    const e = x.exp();
    const y = e.mul(e).sum();
    e.storage.version++; // what an in-place op does to its storage
    expectNodegradError(() => y.backward(), 'ERR_NODEGRAD_AUTOGRAD', 'modified in place', 'mul');
  });

  it('the gradient of a leaf is its own dense buffer, not a view of graph internals', () => {
    const x = ng.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    x.t().sum().backward();
    expect(x.grad!.isContiguous()).toBe(true);
    expect(x.grad!.storage).not.toBe(x.storage);
    expect(flat(x.grad!)).toEqual([1, 1, 1, 1]);
  });
});
