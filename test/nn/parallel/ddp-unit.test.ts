/**
 * DistributedDataParallel's bucketing and reducer in one process, with the process group replaced by
 * a recorder whose 'avg' halves the values (as if a second rank contributed zeros).
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as ng from '../../../lib/index.js';
import { expectClose, expectNodegradError } from '../../helpers.js';

const calls: { op: string; numel: number; fc1GradReady: boolean }[] = [];
const probe: { model: Net | null } = { model: null };

vi.mock('../../../lib/nn/parallel/comm.js', () => ({
  isInitialized: () => true,
  getRank: () => 0,
  getWorldSize: () => 2,
  broadcast: (t: ng.Tensor) => {
    calls.push({ op: 'broadcast', numel: t.numel, fc1GradReady: false });
  },
  allReduce: (t: ng.Tensor, options: { op: string; asyncOp?: boolean }) => {
    calls.push({ op: options.op, numel: t.numel, fc1GradReady: probe.model?.fc1.weight.grad != null });
    const values = t.storage.data;
    let done = false;
    const work = {
      wait: () => {
        if (!done && options.op === 'avg') for (let i = 0; i < values.length; i++) values[i] *= 0.5;
        done = true;
      },
      isCompleted: () => done,
      promise: () => Promise.resolve(),
    };
    if (options.asyncOp) return work;
    work.wait();
    return undefined;
  },
}));

const { nn } = ng;
const { DistributedDataParallel, assignBuckets } = nn.parallel;

class Net extends nn.Module {
  fc1 = new nn.Linear(4, 8);
  fc2 = new nn.Linear(8, 3);
  spare = new nn.Linear(3, 3);
  useSpare = false;
  forward(x: ng.Tensor): ng.Tensor {
    const h = this.fc2.forward(nn.functional.relu(this.fc1.forward(x)));
    return this.useSpare ? this.spare.forward(h) : h;
  }
}

function localGrads(model: Net, x: ng.Tensor): number[][] {
  const copy = new Net();
  copy.loadStateDict(model.stateDict());
  copy.useSpare = model.useSpare;
  copy.forward(x).pow(2).sum().backward();
  return copy.parameters().map((p) => [...(p.grad?.data() ?? new Float32Array(p.numel))]);
}

beforeEach(() => {
  calls.length = 0;
  probe.model = null;
});

describe('assignBuckets', () => {
  const f32 = (bytes: number) => ({ bytes, dtype: 'float32' });
  it('fills buckets in reverse registration order up to the cap; a larger parameter gets its own', () => {
    expect(assignBuckets([f32(40), f32(40), f32(40), f32(40)], 100)).toEqual([
      [3, 2],
      [1, 0],
    ]);
    expect(assignBuckets([f32(10), f32(500), f32(10), f32(10)], 100)).toEqual([[3, 2], [1], [0]]);
    expect(assignBuckets([f32(10), f32(10)], 1e9)).toEqual([[1, 0]]);
  });
  it('keeps one dtype per bucket', () => {
    expect(assignBuckets([f32(4), { bytes: 8, dtype: 'float64' }, f32(4)], 100)).toEqual([[2, 0], [1]]);
  });
  it('names a non-positive cap', () => {
    expectNodegradError(() => assignBuckets([f32(4)], 0), 'ERR_NODEGRAD_ARGUMENT', 'bucketCapMB');
  });
});

describe('DistributedDataParallel (recorded process group)', () => {
  const x = ng.randn([5, 4]);

  it('broadcasts parameters and buffers once at construction, then averages gradients in backward', () => {
    const model = new Net();
    const ddp = new DistributedDataParallel(model, { findUnusedParameters: true });
    expect(calls).toEqual([{ op: 'broadcast', numel: 4 * 8 + 8 + 8 * 3 + 3 + 3 * 3 + 3, fc1GradReady: false }]);
    expect(Object.keys(ddp.stateDict())[0]).toBe('module.fc1.weight');
    const expected = localGrads(model, x);
    ddp.forward(x).pow(2).sum().backward();
    model.parameters().forEach((p, i) => {
      expectClose(
        p.grad!.data(),
        expected[i].map((v) => v * 0.5),
      );
    });
  });

  it('overlap: the last layers’ bucket is reduced before backward reaches the first layer', () => {
    const model = new Net();
    probe.model = model;
    const ddp = new DistributedDataParallel(model, { bucketCapMB: 1e-6, findUnusedParameters: true });
    expect(ddp.bucketSizes).toEqual([1, 1, 1, 1, 1, 1]);
    calls.length = 0;
    ddp.forward(x).sum().backward();
    const reduces = calls.filter((c) => c.op === 'avg');
    expect(reduces.map((c) => c.numel)).toEqual([3, 9, 3, 24, 8, 32]);
    expect(reduces[0].fc1GradReady).toBe(false);
  });

  it('overlap: false reduces every bucket after backward', () => {
    const model = new Net();
    probe.model = model;
    const ddp = new DistributedDataParallel(model, { bucketCapMB: 1e-6, overlap: false, findUnusedParameters: true });
    calls.length = 0;
    ddp.forward(x).sum().backward();
    const reduces = calls.filter((c) => c.op === 'avg');
    expect(reduces).toHaveLength(6);
    expect(reduces.every((c) => c.fc1GradReady)).toBe(true);
  });

  it('an unused parameter is an error naming it, unless findUnusedParameters (then its gradient is zero)', () => {
    const model = new Net();
    const strict = new DistributedDataParallel(model);
    expectNodegradError(
      () => strict.forward(x).sum().backward(),
      'ERR_NODEGRAD_DISTRIBUTED',
      'DistributedDataParallel',
      'spare.weight',
      'findUnusedParameters',
    );
    const loose = new DistributedDataParallel(new Net(), { findUnusedParameters: true });
    loose.forward(x).sum().backward();
    expect([...loose.module.spare.weight.grad!.data()]).toEqual(new Array(9).fill(0));
  });

  it('noSync accumulates locally without communication; the next synced backward averages the sum', () => {
    const model = new Net();
    model.useSpare = true;
    const ddp = new DistributedDataParallel(model);
    const one = localGrads(model, x);
    calls.length = 0;
    ddp.noSync(() => ddp.forward(x).pow(2).sum().backward());
    expect(calls).toEqual([]);
    {
      using handle = ddp.noSync();
      expect(typeof handle.close).toBe('function');
      ddp.forward(x).pow(2).sum().backward();
    }
    expect(calls).toEqual([]);
    ddp.forward(x).pow(2).sum().backward();
    expect(calls.filter((c) => c.op === 'avg').length).toBeGreaterThan(0);
    model.parameters().forEach((p, i) => {
      expectClose(
        p.grad!.data(),
        one[i].map((v) => v * 3 * 0.5),
        1e-5,
        1e-5,
      );
    });
  });

  it('needs an initialized process group', async () => {
    vi.resetModules();
    vi.doMock('../../../lib/nn/parallel/comm.js', () => ({ isInitialized: () => false }));
    const fresh = await import('../../../lib/nn/parallel/distributed.js');
    expectNodegradError(
      () => new fresh.DistributedDataParallel(new Net()),
      'ERR_NODEGRAD_ARGUMENT',
      'initProcessGroup',
    );
  });
});
