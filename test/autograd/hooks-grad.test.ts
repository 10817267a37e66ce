import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose } from '../helpers.js';

const f64 = (values: number[], requiresGrad = true) => ng.tensor(values, { dtype: 'float64', requiresGrad });

function thrown(fn: () => unknown): ng.NodegradError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ng.NodegradError);
    return e as ng.NodegradError;
  }
  throw new Error('expected a throw');
}

describe('tensor hooks', () => {
  it('a leaf hook sees the summed gradient once, before it is accumulated, and may replace it', () => {
    const x = f64([1, 2]);
    const seen: number[][] = [];
    x.registerHook((g) => {
      seen.push([...g.data()]);
      return g.mul(10);
    });
    x.mul(2).add(x.mul(3)).sum().backward();
    expect(seen).toEqual([[5, 5]]);
    expectClose(x.grad!.data(), [50, 50]);
  });

  it('a gradient kept by a hook keeps its values after backward returns', () => {
    const x = f64([1, 2, 3]);
    const h = x.mul(2).exp();
    const kept: ng.Tensor[] = [];
    h.registerHook((g) => {
      kept.push(g);
    });
    h.mul(ng.tensor([1, 2, 3], { dtype: 'float64' }))
      .sum()
      .backward();
    x.mul(5).exp().mul(7).sum().backward();
    expectClose(kept[0].data(), [1, 2, 3]);
  });

  it('a non-leaf hook replaces the gradient that flows on', () => {
    const x = f64([1, 2, 3]);
    const h = x.mul(2);
    h.registerHook((g) => g.mul(ng.tensor([1, 0, -1], { dtype: 'float64' })));
    h.sum().backward();
    expectClose(x.grad!.data(), [2, 0, -2]);
  });

  it('hooks run in registration order, and remove() unregisters one', () => {
    const x = f64([1]);
    const order: string[] = [];
    const first = x.registerHook(() => {
      order.push('first');
    });
    x.registerHook((g) => {
      order.push('second');
      return g.add(1);
    });
    x.mul(3).sum().backward();
    expect(order).toEqual(['first', 'second']);
    expectClose(x.grad!.data(), [4]);
    first.remove();
    order.length = 0;
    x.grad = null;
    x.mul(3).sum().backward();
    expect(order).toEqual(['second']);
  });

  it('a hook on the tensor backward starts from runs on its seed', () => {
    const x = f64([1, 2]);
    const y = x.mul(x);
    const s = y.sum();
    s.registerHook((g) => g.mul(3));
    s.backward();
    expectClose(x.grad!.data(), [6, 12]);
  });

  it('a hook returning the wrong shape names registerHook and both shapes', () => {
    const x = f64([1, 2]);
    x.registerHook(() => ng.zeros([3], { dtype: 'float64' }));
    const e = thrown(() => x.mul(2).sum().backward());
    expect(e.code).toBe('ERR_NODEGRAD_SHAPE');
    expect(e.message).toMatch(/registerHook: hook returned a gradient of shape \[3\], expected \[2\]/);
  });

  it('refuses a tensor that does not require grad', () => {
    const e = thrown(() => ng.tensor([1]).registerHook(() => undefined));
    expect(e.code).toBe('ERR_NODEGRAD_AUTOGRAD');
    expect(e.message).toMatch(/^registerHook:/);
  });

  it('retainGrad fills .grad of a non-leaf with its summed gradient', () => {
    const x = f64([1, 2]);
    const h = x.mul(3);
    h.retainGrad();
    const k = x.mul(5);
    h.mul(h).add(h).add(k).sum().backward();
    expectClose(h.grad!.data(), [7, 13]);
    expect(k.grad).toBeNull();
  });
});

describe('autograd.grad', () => {
  it('returns gradients for each input without touching .grad', () => {
    const x = f64([1, 2]);
    const w = f64([3, -1]);
    const [gx, gw] = ng.autograd.grad(x.mul(w).sum(), [x, w]);
    expectClose(gx!.data(), [3, -1]);
    expectClose(gw!.data(), [1, 2]);
    expect(x.grad).toBeNull();
    expect(w.grad).toBeNull();
  });

  it('takes a non-leaf input, gradOutputs, and several outputs', () => {
    const x = f64([1, 2]);
    const h = x.mul(x);
    const a = h.mul(2);
    const b = h.sum();
    const [gh] = ng.autograd.grad([a, b], h, { gradOutputs: [f64([1, 10], false), null] });
    expectClose(gh!.data(), [3, 21]);
  });

  it('runs hooks but leaves .grad of leaves and retained non-leaves alone', () => {
    const x = f64([1, 2]);
    const h = x.mul(3);
    h.retainGrad();
    let calls = 0;
    h.registerHook(() => {
      calls++;
    });
    ng.autograd.grad(h.sum(), x);
    expect(calls).toBe(1);
    expect(h.grad).toBeNull();
    expect(x.grad).toBeNull();
  });

  it('allowUnused gives null; without it the unused input is named', () => {
    const x = f64([1]);
    const unused = f64([2]);
    expect(ng.autograd.grad(x.mul(2).sum(), [x, unused], { allowUnused: true })[1]).toBeNull();
    const e = thrown(() => ng.autograd.grad(x.mul(2).sum(), [x, unused]));
    expect(e.code).toBe('ERR_NODEGRAD_AUTOGRAD');
    expect(e.message).toMatch(/autograd\.grad: input 1 of shape \[1\] was not used/);
  });

  it('frees the graph unless retainGraph', () => {
    const x = f64([1, 2]);
    const y = x.exp().sum();
    ng.autograd.grad(y, x, { retainGraph: true });
    ng.autograd.grad(y, x);
    const e = thrown(() => ng.autograd.grad(y, x));
    expect(e.message).toMatch(/second time/);
  });

  it('checks outputs, inputs and gradOutputs', () => {
    const x = f64([1, 2]);
    expect(thrown(() => ng.autograd.grad(f64([1], false), x)).message).toMatch(
      /autograd\.grad: output 0 .* does not require grad/,
    );
    expect(thrown(() => ng.autograd.grad(x.sum(), f64([1], false))).message).toMatch(
      /autograd\.grad: input 0 .* does not require grad/,
    );
    expect(thrown(() => ng.autograd.grad(x.mul(2), x)).message).toMatch(
      /autograd\.grad: grad can be implicitly created only for scalar outputs/,
    );
    expect(thrown(() => ng.autograd.grad(x.mul(2), x, { gradOutputs: f64([1, 2, 3], false) })).code).toBe(
      'ERR_NODEGRAD_SHAPE',
    );
  });
});
