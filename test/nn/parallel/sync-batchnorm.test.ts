import { describe, expect, it } from 'vitest';
import * as ng from '../../../lib/index.js';
import { expectClose, expectNodegradError } from '../../helpers.js';

const { nn } = ng;

describe('SyncBatchNorm in one process', () => {
  it('equals BatchNorm2d: output, input and parameter gradients, running statistics', () => {
    ng.manualSeed(1);
    const x = ng.randn([4, 3, 5, 5], { dtype: 'float64' }).mul(2).add(1);
    const bn = new nn.BatchNorm2d(3, { dtype: 'float64' });
    const sync = new nn.SyncBatchNorm(3, { dtype: 'float64' });
    const w = ng.randn([4, 3, 5, 5], { dtype: 'float64' });
    const grads = [bn, sync].map((m) => {
      const xi = x.clone();
      xi.requiresGrad = true;
      const y = m.forward(xi);
      y.mul(w).sum().backward();
      return { y, dx: xi.grad!, dw: m.weight!.grad!, db: m.bias!.grad! };
    });
    expectClose(grads[1].y.data(), grads[0].y.data(), 1e-9);
    expectClose(grads[1].dx.data(), grads[0].dx.data(), 1e-9);
    expectClose(grads[1].dw.data(), grads[0].dw.data(), 1e-9);
    expectClose(grads[1].db.data(), grads[0].db.data(), 1e-9);
    expectClose(sync.running_mean!.data(), bn.running_mean!.data(), 1e-9);
    expectClose(sync.running_var!.data(), bn.running_var!.data(), 1e-9);
    expect(sync.num_batches_tracked!.item()).toBe(1);
    bn.eval();
    sync.eval();
    expectClose(sync.forward(x).data(), bn.forward(x).data(), 1e-9);
  });

  it('gradcheck of the composed training forward (float64)', () => {
    const sync = new nn.SyncBatchNorm(2, { dtype: 'float64' });
    const x = ng.randn([3, 2, 4], { dtype: 'float64', requiresGrad: true });
    expect(ng.gradcheck((t: ng.Tensor) => sync.forward(t), [x])).toBe(true);
  });

  it('convertSyncBatchnorm replaces BatchNorm layers, sharing their parameters and statistics', () => {
    const bn = new nn.BatchNorm2d(4);
    const model = new nn.Sequential(new nn.Conv2d(1, 4, 3), bn, new nn.ReLU());
    const list = new nn.ModuleList([new nn.BatchNorm1d(2)]);
    const before = model.stateDict();
    const converted = nn.SyncBatchNorm.convertSyncBatchnorm(model);
    expect(converted).toBe(model);
    const layer = model.at(1);
    if (!(layer instanceof nn.SyncBatchNorm)) throw new Error('expected a SyncBatchNorm');
    expect(layer.weight).toBe(bn.weight);
    expect(layer.running_var).toBe(bn.running_var);
    expect(Object.keys(model.stateDict())).toEqual(Object.keys(before));
    nn.SyncBatchNorm.convertSyncBatchnorm(list);
    expect(list.at(0)).toBeInstanceOf(nn.SyncBatchNorm);
    expect(nn.SyncBatchNorm.convertSyncBatchnorm(new nn.BatchNorm1d(2))).toBeInstanceOf(nn.SyncBatchNorm);
  });

  it('names a wrong input shape', () => {
    expectNodegradError(
      () => new nn.SyncBatchNorm(3).forward(ng.randn([2, 4, 5])),
      'ERR_NODEGRAD_SHAPE',
      'SyncBatchNorm',
      '[2, 4, 5]',
    );
  });
});
