// The lr schedules against PyTorch 1.13 (tools/golden/make_optim2_goldens.py): every group's lr, and
// OneCycleLR's momentum, after construction and after each of 25+ steps, on a two-group optimizer.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';
import { expectClose, flat } from '../helpers.js';

const { optim } = ng;
const S = optim.lrScheduler;
type Scheduler = ng.optim.lrScheduler.LRScheduler | ng.optim.lrScheduler.ReduceLROnPlateau;
type Options = Record<string, unknown>;

const lambdas: Record<string, ng.optim.lrScheduler.LrLambda> = {
  exp095: (e) => 0.95 ** e,
  inverse: (e) => 1 / (e + 1),
  stairs: (e) => 0.9 ** Math.floor(e / 3),
};

function twoGroups(kind: string) {
  const groups = [
    { params: [ng.zeros([2])], lr: 0.1 },
    { params: [ng.zeros([3])], lr: 0.05 },
  ];
  return kind === 'SGD' ? new optim.SGD(groups, { lr: 0.1, momentum: 0.9 }) : new optim.Adam(groups, { lr: 0.1 });
}

function makeScheduler(kind: string, opt: ng.optim.Optimizer<{ lr: number }>, o: Options): Scheduler {
  switch (kind) {
    case 'LambdaLR': {
      const names = o.lrLambda as string | string[];
      return new S.LambdaLR(opt, { lrLambda: Array.isArray(names) ? names.map((n) => lambdas[n]) : lambdas[names] });
    }
    case 'SequentialLR': {
      const children = (o.schedulers as { kind: string; options: Options }[]).map(
        (c) => makeScheduler(c.kind, opt, c.options) as ng.optim.lrScheduler.LRScheduler,
      );
      return new S.SequentialLR(opt, { schedulers: children, milestones: o.milestones as number[] });
    }
    case 'OneCycleLR':
      return new S.OneCycleLR(opt, o as unknown as ng.optim.lrScheduler.OneCycleLROptions);
    case 'ReduceLROnPlateau':
      return new S.ReduceLROnPlateau(opt, o);
    case 'LinearLR':
      return new S.LinearLR(opt, o);
    case 'ExponentialLR':
      return new S.ExponentialLR(opt, o as { gamma: number });
    case 'MultiStepLR':
      return new S.MultiStepLR(opt, o as { milestones: number[] });
    case 'StepLR':
      return new S.StepLR(opt, o as { stepSize: number });
    case 'CosineAnnealingLR':
      return new S.CosineAnnealingLR(opt, o as { tMax: number });
  }
  throw new Error(`no scheduler ${kind}`);
}

const momentumOf = (g: { momentum?: number; betas?: [number, number] }) => g.betas?.[0] ?? g.momentum ?? NaN;

/** The lrs and momenta after construction and each step, flattened row by row as the golden stores them. */
function trajectory(c: GoldenCase) {
  const opt = twoGroups(c.options.optimizer as string);
  const scheduler = makeScheduler(c.kind, opt, c.options.options as Options);
  const metrics = flat(c.t.metrics);
  const lrs = [...scheduler.getLastLr()];
  const momenta = opt.paramGroups.map(momentumOf);
  for (let i = 0; i < c.t.lrs.shape[0] - 1; i++) {
    if (scheduler instanceof S.ReduceLROnPlateau) scheduler.step(metrics[i]);
    else scheduler.step();
    lrs.push(...scheduler.getLastLr());
    momenta.push(...opt.paramGroups.map(momentumOf));
  }
  return { lrs, momenta, opt, scheduler };
}

const cases = goldenCases('optim2_lr.safetensors');

describe('lr schedules match PyTorch', () => {
  it('covers every new schedule over 20+ steps', () => {
    const kinds = [
      'OneCycleLR',
      'LinearLR',
      'ExponentialLR',
      'MultiStepLR',
      'ReduceLROnPlateau',
      'LambdaLR',
      'SequentialLR',
    ];
    for (const kind of kinds)
      expect(
        cases.some((c) => c.kind === kind && c.t.lrs.shape[0] > 20),
        kind,
      ).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { lrs, momenta } = trajectory(c);
    expectClose(lrs, flat(c.t.lrs), 1e-12, 1e-15);
    expectClose(momenta, flat(c.t.momentum), 1e-12, 1e-15);
  });

  it.each(cases.filter((c) => c.kind !== 'ReduceLROnPlateau').map((c) => [c.name, c] as const))(
    '%s: loadStateDict at step 7 resumes the sequence',
    (_name, c) => {
      const { lrs } = trajectory(c);
      const opt = twoGroups(c.options.optimizer as string);
      const scheduler = makeScheduler(c.kind, opt, c.options.options as Options) as ng.optim.lrScheduler.LRScheduler;
      scheduler.loadStateDict({ lastEpoch: 7 });
      expectClose(scheduler.getLastLr(), lrs.slice(14, 16), 1e-12, 1e-15);
      scheduler.step();
      expectClose(scheduler.getLastLr(), lrs.slice(16, 18), 1e-12, 1e-15);
    },
  );
});
