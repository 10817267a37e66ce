// Optimizers against PyTorch: 20 steps of SGD (momentum, dampening, Nesterov, weight decay), Adam
// (weight decay, AMSGrad) and AdamW on a small net from the same initial weights and data.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const { nn, optim } = ng;

class SmallNet extends nn.Module {
  fc1 = new nn.Linear(4, 6);
  fc2 = new nn.Linear(6, 3);

  forward(x: ng.Tensor): ng.Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh());
  }
}

const cases = goldenCases('optim.safetensors');
const data = cases.find((c) => c.name === 'data')!;
const initial = Object.fromEntries(
  Object.entries(data.t)
    .filter(([k]) => k.startsWith('init.'))
    .map(([k, v]) => [k.slice(5), v]),
);

function makeOptimizer(
  kind: string,
  params: ng.nn.Parameter[],
  o: Record<string, unknown>,
): ng.optim.Optimizer<{ lr: number }> {
  if (kind === 'SGD') return new optim.SGD(params, o as { lr: number });
  if (kind === 'Adam') return new optim.Adam(params, o);
  return new optim.AdamW(params, o);
}

describe('optimizer trajectories match PyTorch', () => {
  it.each(cases.filter((c) => c.kind !== 'data').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const net = new SmallNet();
    net.loadStateDict(initial);
    const opt = makeOptimizer(c.kind, net.parameters(), c.options);
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      opt.zeroGrad();
      const loss = ng.crossEntropy(net.forward(data.t.x), data.t.y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
    expectClose(losses, flat(c.t.losses), 1e-4, 1e-5);
    for (const [key, value] of Object.entries(net.stateDict())) {
      expectClose(flat(value), flat(c.t[`final.${key}`]), 1e-4, 1e-5);
    }
  });
});

describe('optimizer options, state and schedules', () => {
  const params = () => [new nn.Parameter(ng.ones([3]))];

  it('validates options with clear errors', () => {
    expectNodegradError(() => new optim.SGD(params(), { lr: -1 }), 'ERR_NODEGRAD_ARGUMENT', 'SGD', 'learning rate -1');
    expectNodegradError(
      () => new optim.SGD(params(), { lr: 0.1, momentum: 1 }),
      'ERR_NODEGRAD_ARGUMENT',
      'SGD',
      'momentum 1',
      '[0, 1)',
    );
    expectNodegradError(
      () => new optim.SGD(params(), { lr: 0.1, nesterov: true }),
      'ERR_NODEGRAD_ARGUMENT',
      'nesterov',
    );
    expectNodegradError(() => new optim.Adam(params(), { betas: [0.9, 1] }), 'ERR_NODEGRAD_ARGUMENT', 'Adam', 'beta2');
    expectNodegradError(() => new optim.AdamW([], {}), 'ERR_NODEGRAD_ARGUMENT', 'AdamW', 'empty parameter list');
  });

  it('parameter groups take their own options', () => {
    const a = new nn.Parameter(ng.ones([2]));
    const b = new nn.Parameter(ng.ones([2]));
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
    a.grad = ng.ones([2]);
    b.grad = ng.ones([2]);
    opt.step();
    expect(flat(a)).toEqual([0.9, 0.9].map(Math.fround));
    expect(flat(b)).toEqual([0, 0]);
  });

  it('stateDict / loadStateDict continue a run exactly', () => {
    const run = (split: boolean) => {
      const p = new nn.Parameter(ng.tensor([1, -2, 3]));
      let opt = new optim.Adam([p], { lr: 0.1 });
      for (let i = 0; i < 6; i++) {
        if (split && i === 3) {
          const saved = opt.stateDict();
          opt = new optim.Adam([p], { lr: 0.1 });
          opt.loadStateDict(saved);
        }
        opt.zeroGrad();
        p.mul(p).sum().backward();
        opt.step();
      }
      return flat(p);
    };
    expect(run(true)).toEqual(run(false));
  });

  it('StepLR and CosineAnnealingLR follow their formulas', () => {
    const opt = new optim.SGD(params(), { lr: 1 });
    const step = new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    const lrs: number[] = [];
    for (let e = 0; e < 5; e++) {
      step.step();
      lrs.push(step.getLastLr()[0]);
    }
    expect(lrs).toEqual([1, 0.5, 0.5, 0.25, 0.25]);
    const opt2 = new optim.SGD(params(), { lr: 0.1 });
    const cos = new optim.lrScheduler.CosineAnnealingLR(opt2, { tMax: 4, etaMin: 0.01 });
    const got: number[] = [];
    for (let e = 0; e < 4; e++) {
      cos.step();
      got.push(cos.getLastLr()[0]);
    }
    expectClose(
      got,
      [1, 2, 3, 4].map((e) => 0.01 + (0.09 * (1 + Math.cos((Math.PI * e) / 4))) / 2),
      1e-12,
      1e-15,
    );
  });

  it('zeroGrad releases gradient buffers; a kept reference throws instead of reading reused memory', () => {
    const p = new nn.Parameter(ng.ones([3]));
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.mul(2).sum().backward();
    const kept = p.grad!;
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    expectNodegradError(() => kept.data(), 'ERR_NODEGRAD_DISPOSED', 'disposed');
  });
});
