// The pool workers' forward plans: a shape's kernels recorded once and replayed. A replay must equal
// the plain forward; other shapes get plans of their own; a weight written in place re-records; a
// forward that reads values runs plain; kernel and forward errors reach the caller and the plans
// keep working.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { ForwardPlans, type ServedModel } from '../../lib/serve/plan.js';
import { expectNodegradError } from './helpers.js';

const nativeLoaded = ng.backend.getBackend().name === 'native';

const plain = (model: ng.nn.Module, x: ng.Tensor) =>
  ng.inferenceMode(() => (model as ServedModel).forward(x) as ng.Tensor);

/** plans.forward of x, as a tensor. */
function planned(plans: ForwardPlans, x: ng.Tensor): ng.Tensor {
  const { data, shape } = plans.forward([x.data()], x.shape);
  return ng.tensor(data, { shape });
}

describe.runIf(nativeLoaded)('serve: forward plans (native backend)', () => {
  it('records a shape seen twice and replays it with results equal to the plain forward', () => {
    ng.manualSeed(3);
    const model = ng.models.lenet5().eval();
    const plans = new ForwardPlans(model);
    for (let i = 0; i < 4; i++) {
      const x = ng.randn([3, 1, 28, 28]);
      expect(planned(plans, x).toArray()).toEqual(plain(model, x).toArray());
    }
    expect(plans.counts).toEqual({ recorded: 1, replayed: 2 });
    expect(plans.size).toBe(1);
  });

  it('concatenates the parts of a batch, also into a replayed plan', () => {
    ng.manualSeed(7);
    const model = ng.models.lenet5().eval();
    const plans = new ForwardPlans(model);
    for (let i = 0; i < 3; i++) {
      const [a, b] = [ng.randn([1, 1, 28, 28]), ng.randn([2, 1, 28, 28])];
      const { data, shape } = plans.forward([a.data(), b.data()], [3, 1, 28, 28]);
      expect(ng.tensor(data, { shape }).toArray()).toEqual(plain(model, ng.cat([a, b])).toArray());
    }
    expect(plans.counts).toEqual({ recorded: 1, replayed: 1 });
  });

  it('keeps a plan per input shape, dropping the least recently used past the limit', () => {
    ng.manualSeed(4);
    const model = ng.models.lenet5().eval();
    const plans = new ForwardPlans(model, { shapes: 2, bytes: 1 << 30 });
    for (const batch of [1, 2, 1, 2, 5, 5, 1, 2, 5]) {
      const x = ng.randn([batch, 1, 28, 28]);
      const y = planned(plans, x);
      expect(y.shape).toEqual([batch, 10]);
      expect(y.toArray()).toEqual(plain(model, x).toArray());
    }
    expect(plans.size).toBe(2);
    // 1, 2 and 5 recorded on their second sight, then each again after the two others pushed it out.
    expect(plans.counts.recorded).toBe(6);
    plans.clear();
    expect(plans.size).toBe(0);
  });

  it('drops the least recently used plans past a byte budget, keeping the one just used', () => {
    ng.manualSeed(8);
    const model = ng.models.lenet5().eval();
    const one = new ForwardPlans(model);
    const x8 = ng.randn([8, 1, 28, 28]);
    planned(one, x8);
    planned(one, x8);
    // LeNet-5 at batch 8: input 25 KB, conv1 150 KB, its pool and relu, conv2 ... at least 200 KB, under 2 MB.
    expect(one.bytes).toBeGreaterThan(200_000);
    expect(one.bytes).toBeLessThan(2_000_000);
    const plans = new ForwardPlans(model, { shapes: 16, bytes: one.bytes + 1000 });
    for (const batch of [8, 8, 2, 2]) planned(plans, ng.randn([batch, 1, 28, 28]));
    expect(plans.size).toBe(1); // the batch-2 plan pushed the batch-8 one out
    const big = new ForwardPlans(model, { shapes: 16, bytes: 1 });
    for (let i = 0; i < 3; i++) {
      const x = ng.randn([8, 1, 28, 28]);
      expect(planned(big, x).toArray()).toEqual(plain(model, x).toArray());
    }
    expect(big.size).toBe(1);
    expect(big.counts).toEqual({ recorded: 1, replayed: 1 });
  });

  it('records again when a weight is written in place, and after clear() when a parameter was replaced', () => {
    ng.manualSeed(5);
    const model = ng.models.lenet5().eval();
    const plans = new ForwardPlans(model);
    const x = ng.randn([2, 1, 28, 28]);
    planned(plans, x);
    planned(plans, x);
    expect(plans.counts.recorded).toBe(1);
    const conv = model.features.at(0);
    if (!(conv instanceof ng.nn.Conv2d)) throw new Error('LeNet-5 starts with a Conv2d');
    ng.noGrad(() => conv.weight.mul_(0.5));
    expect(planned(plans, x).toArray()).toEqual(plain(model, x).toArray());
    expect(plans.counts.recorded).toBe(2);
    const last = model.classifier.at(5);
    if (!(last instanceof ng.nn.Linear)) throw new Error('LeNet-5 ends with a Linear');
    const stale = planned(plans, x).toArray();
    last.weight = new ng.nn.Parameter(ng.randn([10, 84]));
    // A replaced parameter is not seen (the rule: clear() after replacing one); then it records anew.
    expect(planned(plans, x).toArray()).toEqual(stale);
    plans.clear();
    planned(plans, x);
    expect(planned(plans, x).toArray()).toEqual(plain(model, x).toArray());
    expect(plans.counts.recorded).toBe(3);
  });

  it('runs a forward that reads values in TypeScript plainly', () => {
    class Gate extends ng.nn.Module {
      forward(x: ng.Tensor): ng.Tensor {
        return x.sum().item() > 0 ? x.mul(2) : x;
      }
    }
    const plans = new ForwardPlans(new Gate());
    for (let i = 0; i < 3; i++) {
      const x = ng.tensor([1, 2, 3, 4], { shape: [2, 2] });
      expect(planned(plans, x).toArray()).toEqual([
        [2, 4],
        [6, 8],
      ]);
    }
    expect(plans.counts).toEqual({ recorded: 0, replayed: 0 });
    expect(plans.size).toBe(0);
  });

  it("throws a replayed kernel's error and a recording forward's error, then keeps serving", () => {
    ng.manualSeed(6);
    const embedding = new ng.nn.Embedding(5, 3);
    const plans = new ForwardPlans(embedding);
    const ids = (values: number[]) => ng.tensor(values, { shape: [2], dtype: 'int32' });
    planned(plans, ids([0, 1]));
    expect(planned(plans, ids([1, 2])).toArray()).toEqual(plain(embedding, ids([1, 2])).toArray());
    expect(planned(plans, ids([4, 3])).toArray()).toEqual(plain(embedding, ids([4, 3])).toArray());
    expect(plans.counts).toEqual({ recorded: 1, replayed: 1 });
    // The index is checked by the replayed kernel, not by TypeScript (which would have baked [1, 2] in).
    let thrown: unknown;
    try {
      plans.forward([new Int32Array([1, 9])], [2]);
    } catch (error) {
      thrown = error;
    }
    expectNodegradError(thrown, 'ERR_NODEGRAD_NATIVE', /indexSelect: index 9 is out of range/);
    expect(planned(plans, ids([2, 0])).toArray()).toEqual(plain(embedding, ids([2, 0])).toArray());
    expect(plans.counts).toEqual({ recorded: 1, replayed: 3 });

    const model = ng.models.lenet5().eval();
    const lenetPlans = new ForwardPlans(model);
    const wrong = ng.randn([1, 3, 28, 28]);
    for (let i = 0; i < 2; i++) {
      try {
        lenetPlans.forward([wrong.data()], wrong.shape);
        thrown = null;
      } catch (error) {
        thrown = error;
      }
      expectNodegradError(thrown, 'ERR_NODEGRAD_SHAPE', /conv2d/);
    }
    const x = ng.randn([1, 1, 28, 28]);
    expect(planned(lenetPlans, x).toArray()).toEqual(plain(model, x).toArray());
  });
});
