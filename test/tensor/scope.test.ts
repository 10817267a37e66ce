// Memory scopes: ng.tidy / tidyAsync / keep, tensor.dispose() and `using`. Live counts come from
// ng.memory(), which scopes keep exact: a released storage is uncounted at once, no collector involved.
import '../deterministic-memory.js';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const live = (): number => ng.memory().liveTensors;
const liveBytes = (): number => ng.memory().liveBytes;

function mlp(): ng.nn.Sequential {
  ng.manualSeed(3);
  return new ng.nn.Sequential(new ng.nn.Linear(8, 16), new ng.nn.ReLU(), new ng.nn.Linear(16, 4));
}

describe('ng.tidy', () => {
  it('releases every intermediate and keeps what is returned', () => {
    const x = ng.randn([32, 64]);
    const before = live();
    const bytes = liveBytes();
    const y = ng.tidy(() => x.mul(2).add(1).exp().sum(1));
    expect(live()).toBe(before + 1);
    expect(liveBytes()).toBe(bytes + 32 * 4);
    const expected = x.mul(2).add(1).exp().sum(1);
    expectClose(flat(y), flat(expected));
  });

  it('a released intermediate used later throws a NodegradError naming the fix', () => {
    let leaked: ng.Tensor | null = null;
    ng.tidy(() => {
      leaked = ng.ones([300]).mul(3);
      return null;
    });
    expectNodegradError(() => (leaked as unknown as ng.Tensor).sum(), 'ERR_NODEGRAD_DISPOSED', 'ng.tidy', 'ng.keep');
  });

  it('keeps tensors inside returned arrays, objects, maps and sets, and the storage of returned views', () => {
    const before = live();
    const out = ng.tidy(() => {
      const base = ng.arange(0, 12).reshape([3, 4]);
      const scratch = base.mul(10);
      return {
        pair: [base.index(1), scratch.sum()],
        map: new Map([['t', ng.ones([2])]]),
        set: new Set([ng.zeros([1])]),
        n: 4,
      };
    });
    expect(live()).toBe(before + 4); // base (its view is returned), the sum, ones, zeros: scratch is gone
    expect(flat(out.pair[0])).toEqual([4, 5, 6, 7]);
    expect(out.pair[1].item()).toBe(660);
    expect(flat(out.map.get('t')!)).toEqual([1, 1]);
  });

  it('ng.keep lets a tensor outlive every enclosing scope', () => {
    let kept: ng.Tensor | null = null;
    ng.tidy(() => {
      ng.tidy(() => {
        kept = ng.keep(ng.full([3], 7));
      });
    });
    expect(flat(kept!)).toEqual([7, 7, 7]);
    const notATensor: unknown = { shape: [1] };
    expectNodegradError(() => ng.keep(notATensor as ng.Tensor), 'ERR_NODEGRAD_ARGUMENT', 'keep', 'Object');
  });

  it('nests: what an inner scope returns belongs to the outer one', () => {
    const before = live();
    let inner: ng.Tensor | null = null;
    const outer = ng.tidy(() => {
      inner = ng.tidy(() => ng.ones([4]).mul(2));
      expect(flat(inner)).toEqual([2, 2, 2, 2]);
      return ng.ones([1]);
    });
    expect(live()).toBe(before + 1);
    expect(outer.item()).toBe(1);
    expect(() => inner!.sum()).toThrow(/ng\.tidy/);
  });

  it('releases what it created when fn throws, and rethrows', () => {
    const before = live();
    expect(() =>
      ng.tidy(() => {
        ng.ones([100]).add(1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(live()).toBe(before);
  });

  it('refuses an async function and points to tidyAsync', () => {
    expectNodegradError(() => ng.tidy(() => Promise.resolve(1)), 'ERR_NODEGRAD_ARGUMENT', 'tidy', 'tidyAsync');
  });

  it('keeps what a returned loss needs for backward: gradients equal those of the untidied graph', () => {
    const model = mlp();
    const x = ng.randn([5, 8]);
    const target = ng.tensor([0, 1, 2, 3, 0], { dtype: 'int32' });
    const plain = ng.nn.functional.crossEntropy(model.forward(x), target);
    plain.backward();
    const expected = model.parameters().map((p) => flat(p.grad!));
    model.zeroGrad();
    const loss = ng.tidy(() => ng.nn.functional.crossEntropy(model.forward(x), target));
    loss.backward();
    model.parameters().forEach((p, i) => expectClose(flat(p.grad!), expected[i], 1e-6, 1e-7));
  });

  it('a training step inside tidy keeps parameters, gradients and optimizer state, and leaks nothing', () => {
    const run = (tidied: boolean, optimizer: 'sgd' | 'adam'): { losses: number[]; growth: number[] } => {
      const model = mlp();
      const opt =
        optimizer === 'sgd'
          ? new ng.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
          : new ng.optim.Adam(model.parameters(), { lr: 0.01 });
      ng.manualSeed(9);
      const x = ng.randn([16, 8]);
      const target = ng.randint(0, 4, [16]);
      const losses: number[] = [];
      const counts: number[] = [];
      const step = (): number => {
        opt.zeroGrad();
        const loss = ng.nn.functional.crossEntropy(model.forward(x), target);
        loss.backward();
        opt.step();
        return loss.item();
      };
      for (let i = 0; i < 6; i++) {
        losses.push(tidied ? ng.tidy(step) : step());
        counts.push(live());
      }
      return { losses, growth: counts.slice(2).map((c) => c - counts[1]) };
    };
    for (const optimizer of ['sgd', 'adam'] as const) {
      const plain = run(false, optimizer);
      const tidied = run(true, optimizer);
      expectClose(tidied.losses, plain.losses, 1e-6, 1e-7);
      expect(tidied.growth).toEqual([0, 0, 0, 0]);
    }
  });

  it('recycles into the pool: a loop of tidy calls holds its live bytes flat and reuses buffers', () => {
    const model = mlp();
    const x = ng.randn([512, 8]);
    ng.tidy(() => ng.noGrad(() => model.forward(x).sum()));
    const bytes = liveBytes();
    for (let i = 0; i < 50; i++) {
      ng.tidy(() => ng.noGrad(() => model.forward(x).sum().item()));
      expect(liveBytes()).toBe(bytes);
    }
    expect(ng.memory().pooledBytes).toBeGreaterThanOrEqual(512 * 16 * 4);
    const released = ng.releaseMemory();
    expect(released).toBeGreaterThanOrEqual(512 * 16 * 4);
    expect(ng.memory().pooledBytes).toBe(0);
  });
});

describe('ng.tidyAsync', () => {
  it('follows its function across awaits and keeps concurrent scopes apart', async () => {
    const before = live();
    const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));
    const work = (scale: number) =>
      ng.tidyAsync(async () => {
        const a = ng.ones([64]).mul(scale);
        await tick();
        const b = a.add(1);
        await tick();
        return b.sum();
      });
    const [s1, s2] = await Promise.all([work(1), work(2)]);
    expect(s1.item()).toBe(128);
    expect(s2.item()).toBe(192);
    expect(live()).toBe(before + 2);
  });

  it('releases what it created when the function rejects', async () => {
    const before = live();
    await expect(
      ng.tidyAsync(async () => {
        ng.ones([10]);
        await Promise.resolve();
        throw new Error('async boom');
      }),
    ).rejects.toThrow('async boom');
    expect(live()).toBe(before);
  });
});

describe('dispose and using', () => {
  it('tensor.dispose() uncounts at once and pools the buffer', () => {
    ng.releaseMemory();
    const t = ng.ones([1000]);
    const before = live();
    t.dispose();
    expect(live()).toBe(before - 1);
    expect(ng.memory().pooledBytes).toBe(4000);
    expectNodegradError(() => t.sum(), 'ERR_NODEGRAD_DISPOSED', 'dispose()');
  });

  it('`using` disposes at the end of the block', () => {
    let escaped: ng.Tensor = ng.zeros([1]);
    const before = live();
    {
      using t = ng.ones([10]);
      escaped = t;
      expect(live()).toBe(before + 1);
    }
    expect(live()).toBe(before);
    expect(() => escaped.sum()).toThrow(/disposed/);
  });
});
