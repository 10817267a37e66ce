import { assert, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

const { nn } = ng;

const ownForward = (m: object) => Object.getOwnPropertyDescriptor(m, 'forward');

describe('forward hooks', () => {
  it('a pre-hook may replace the arguments, a forward hook the output; remove() unhooks', () => {
    const lin = new nn.Linear(2, 1);
    const x = ng.tensor([[1, 2]]);
    const plain = flat(lin.forward(x));
    const doubled = flat(lin.forward(ng.tensor([[2, 4]])));
    const seen: number[][] = [];
    const pre = lin.registerForwardPreHook((_m, [input]) => [input.mul(2)]);
    const post = lin.registerForwardHook((m, [input], out) => {
      seen.push(flat(input));
      expect(m).toBe(lin);
      return out.add(100);
    });
    expect(flat(lin.forward(x))).toEqual(doubled.map((v) => Math.fround(v + 100)));
    expect(seen).toEqual([[2, 4]]);
    pre.remove();
    expect(flat(lin.forward(x))).toEqual(plain.map((v) => Math.fround(v + 100)));
    post.remove();
    post.remove();
    expect(flat(lin.forward(x))).toEqual(plain);
  });

  it('hooks returning nothing leave arguments and output alone; they run in order, prepend first', () => {
    const relu = new nn.ReLU();
    const order: string[] = [];
    relu.registerForwardHook(() => {
      order.push('b');
    });
    relu.registerForwardHook(
      () => {
        order.push('a');
      },
      { prepend: true },
    );
    relu.registerForwardPreHook(() => {
      order.push('pre');
    });
    expect(flat(relu.forward(ng.tensor([-1, 2])))).toEqual([0, 2]);
    expect(order).toEqual(['pre', 'a', 'b']);
  });

  it('a module without hooks keeps the prototype forward; the last remove() restores it', () => {
    const conv = new nn.Conv2d(1, 1, 1);
    expect(ownForward(conv)).toBeUndefined();
    const h1 = conv.registerForwardHook(() => undefined);
    const h2 = conv.registerForwardPreHook(() => undefined);
    expect(conv.forward === nn.Conv2d.prototype.forward).toBe(false);
    h1.remove();
    expect(ownForward(conv)).toBeDefined();
    h2.remove();
    expect(ownForward(conv)).toBeUndefined();
    expect(conv.forward === nn.Conv2d.prototype.forward).toBe(true);
    // The hook machinery adds no enumerable property: parameter discovery is unchanged.
    conv.registerForwardHook(() => undefined);
    expect(Object.keys(conv)).not.toContain('forward');
    expect(Object.keys(conv.stateDict())).toEqual(['weight', 'bias']);
  });

  it('a forward assigned to the instance is wrapped by the hooks, and comes back after remove()', () => {
    const lin = new nn.Linear(1, 1);
    const custom = (t: ng.Tensor) => t.mul(3);
    lin.forward = custom;
    const handle = lin.registerForwardHook((_m, _a, out) => out.add(1));
    expect(flat(lin.forward(ng.tensor([[2]])))).toEqual([7]);
    lin.forward = (t: ng.Tensor) => t.mul(5);
    expect(flat(lin.forward(ng.tensor([[2]])))).toEqual([11]);
    handle.remove();
    expect(flat(lin.forward(ng.tensor([[2]])))).toEqual([10]);
  });

  it('Sequential runs a hooked Conv2d or Linear, and a hooked ReLU, unfused through their hooks', () => {
    ng.manualSeed(2);
    const seq = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 2), new nn.ReLU());
    const x = ng.randn([4, 3]);
    const fused = seq.forward(x);
    expect(fused.gradFn?.name).toBe('linear+relu');
    const calls: string[] = [];
    const handles = [
      seq.at(0).registerForwardHook((_m, _a, out) => {
        calls.push('linear');
        return out.mul(0);
      }),
      seq.at(3).registerForwardPreHook(() => {
        calls.push('relu');
      }),
    ];
    const hooked = seq.forward(x);
    expect(calls).toEqual(['linear', 'relu']);
    expect(hooked.gradFn?.name).not.toBe('linear+relu');
    // The first Linear's output was zeroed by its hook: the rest sees relu(0) = 0.
    const bias = seq.at(2);
    assert(bias instanceof ng.nn.Linear);
    expect(flat(hooked)).toEqual(flat(ng.relu(bias.bias!.reshape([1, 2]).expand([4, 2]))));
    for (const h of handles) h.remove();
    expect(seq.forward(x).gradFn?.name).toBe('linear+relu');
    expect(flat(seq.forward(x))).toEqual(flat(fused));
  });

  it('a hooked in-place ReLU still runs its hooks when intermediates are released', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.Tanh(), new nn.ReLU({ inplace: true }));
    let calls = 0;
    seq.at(2).registerForwardHook(() => {
      calls++;
    });
    ng.inferenceMode(() => seq.forward(ng.ones([1, 2])));
    expect(calls).toBe(1);
  });

  it('backward flows through a hook-replaced output', () => {
    const lin = new nn.Linear(2, 2);
    lin.registerForwardHook((_m, _a, out) => out.mul(3));
    lin
      .forward(ng.ones([1, 2]))
      .sum()
      .backward();
    expect(flat(lin.bias!.grad!)).toEqual([3, 3]);
  });

  it('a pre-hook that returns something other than an argument array is refused by name', () => {
    const lin = new nn.Linear(2, 2);
    lin.registerForwardPreHook(((_m: unknown, [x]: [ng.Tensor]) => x) as unknown as () => undefined);
    expectNodegradError(
      () => lin.forward(ng.ones([1, 2])),
      'ERR_NODEGRAD_ARGUMENT',
      'forward pre-hook (Linear)',
      'argument array',
    );
  });

  it('models.summary uses hooks and leaves the model unhooked', () => {
    const model = new ng.models.LeNet5();
    const s = ng.models.summary(model, [1, 28, 28]);
    expect(s.rows.map((r) => r.type)).toContain('Conv2d');
    expect([...model.modules()].every((m) => ownForward(m) === undefined)).toBe(true);
  });
});
