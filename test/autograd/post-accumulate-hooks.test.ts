import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

const f64 = (values: number[]) => ng.tensor(values, { dtype: 'float64', requiresGrad: true });

describe('post-accumulate-grad hooks', () => {
  it('run once per backward with the summed .grad, as soon as no later node adds to it', () => {
    const a = f64([1, 2]);
    const b = f64([3, 4]);
    const events: string[] = [];
    // a feeds two nodes; its hook must run only after both have delivered.
    a.registerPostAccumulateGradHook((t) => events.push(`a ${[...t.grad!.data()].join(',')}`));
    b.registerPostAccumulateGradHook((t) => events.push(`b ${[...t.grad!.data()].join(',')}`));
    const h = a.mul(2).add(a.mul(3)); // grad of a: 5
    const z = h.mul(b); // b is fed by the last node of the graph walk's first step
    z.sum().backward();
    expect(events).toContain('a 15,20');
    expect(events).toContain('b 5,10');
    expect(events).toHaveLength(2);
    // b's gradient is complete before a's nodes run: its hook fires first (overlap with backward).
    expect(events[0].startsWith('b')).toBe(true);
  });

  it('see accumulation across backward calls and stop after remove()', () => {
    const a = f64([1]);
    const seen: number[] = [];
    const handle = a.registerPostAccumulateGradHook((t) => seen.push(t.grad!.item()));
    a.mul(2).sum().backward();
    a.mul(2).sum().backward();
    handle.remove();
    a.mul(2).sum().backward();
    expect(seen).toEqual([2, 4]);
  });

  it('run for a leaf that also has a tensor hook, after the hook replaced the gradient', () => {
    const a = f64([1]);
    a.registerHook((g) => g.mul(10));
    let seen = 0;
    a.registerPostAccumulateGradHook((t) => (seen = t.grad!.item()));
    a.mul(3).sum().backward();
    expect(seen).toBe(30);
  });

  it('do not run for autograd.grad, which accumulates nothing', () => {
    const a = f64([1]);
    let calls = 0;
    a.registerPostAccumulateGradHook(() => calls++);
    ng.autograd.grad(a.mul(2).sum(), [a]);
    expect(calls).toBe(0);
  });

  it('are refused on non-leaf tensors', () => {
    const a = f64([1]);
    expectNodegradError(
      () => a.mul(2).registerPostAccumulateGradHook(() => undefined),
      'ERR_NODEGRAD_AUTOGRAD',
      'registerPostAccumulateGradHook',
    );
  });
});

describe('queueCallback', () => {
  it('runs queued callbacks after every gradient is accumulated, before backward returns', () => {
    const a = f64([1]);
    const b = f64([2]);
    const order: string[] = [];
    let queued = false;
    b.registerPostAccumulateGradHook(() => {
      order.push('b');
      if (!queued) {
        queued = true;
        ng.autograd.queueCallback(() => order.push(`end a.grad=${a.grad?.item()}`));
      }
    });
    a.registerPostAccumulateGradHook(() => order.push('a'));
    a.mul(b).mul(a).sum().backward();
    expect(order.slice(0, 2).sort()).toEqual(['a', 'b']);
    expect(order[2]).toBe('end a.grad=4');
  });

  it('throws outside a backward pass', () => {
    expectNodegradError(() => ng.autograd.queueCallback(() => undefined), 'ERR_NODEGRAD_AUTOGRAD', 'queueCallback');
  });
});
