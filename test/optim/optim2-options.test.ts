// The new optimizers' and schedules' option checks, maximize, LBFGS's contract and
// ReduceLROnPlateau's checkpoint.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat } from '../helpers.js';

const { optim } = ng;
const S = optim.lrScheduler;
const params = () => [new ng.nn.Parameter(ng.tensor([1, -2, 3]))];

describe('bad options throw a NodegradError naming the optimizer and the option', () => {
  const cases: [string, () => unknown, ...string[]][] = [
    ['RMSprop lr', () => new optim.RMSprop(params(), { lr: -1 }), 'RMSprop', 'learning rate -1'],
    ['RMSprop alpha', () => new optim.RMSprop(params(), { alpha: -0.5 }), 'RMSprop', 'alpha -0.5'],
    ['RMSprop momentum', () => new optim.RMSprop(params(), { momentum: -1 }), 'RMSprop', 'momentum'],
    ['Adagrad lrDecay', () => new optim.Adagrad(params(), { lrDecay: -1 }), 'Adagrad', 'lrDecay'],
    [
      'Adagrad initialAccumulatorValue',
      () => new optim.Adagrad(params(), { initialAccumulatorValue: -1 }),
      'Adagrad',
      'initialAccumulatorValue',
    ],
    ['Adadelta rho', () => new optim.Adadelta(params(), { rho: 1.5 }), 'Adadelta', 'rho 1.5', '[0, 1]'],
    ['Adadelta weightDecay', () => new optim.Adadelta(params(), { weightDecay: -1 }), 'Adadelta', 'weightDecay'],
    ['Adamax beta1', () => new optim.Adamax(params(), { betas: [1, 0.999] }), 'Adamax', 'beta1 1', '[0, 1)'],
    ['NAdam beta2', () => new optim.NAdam(params(), { betas: [0.9, -0.1] }), 'NAdam', 'beta2'],
    ['NAdam momentumDecay', () => new optim.NAdam(params(), { momentumDecay: -1 }), 'NAdam', 'momentumDecay'],
    ['RAdam eps', () => new optim.RAdam(params(), { eps: -1 }), 'RAdam', 'epsilon'],
    ['LBFGS lr', () => new optim.LBFGS(params(), { lr: -1 }), 'LBFGS', 'learning rate'],
    ['LBFGS maxIter', () => new optim.LBFGS(params(), { maxIter: 0 }), 'LBFGS', 'maxIter 0'],
    ['LBFGS historySize', () => new optim.LBFGS(params(), { historySize: 2.5 }), 'LBFGS', 'historySize'],
    [
      'LBFGS lineSearchFn',
      () => new optim.LBFGS(params(), { lineSearchFn: 'backtracking' as 'strong_wolfe' }),
      'LBFGS',
      'lineSearchFn backtracking',
    ],
    [
      'LBFGS groups',
      () => new optim.LBFGS([{ params: params() }, { params: params() }]),
      'LBFGS',
      'one parameter group',
    ],
    ['empty list', () => new optim.NAdam([]), 'NAdam', 'empty parameter list'],
  ];
  it.each(cases)('%s', (_name, make, ...fragments) => {
    expectNodegradError(make, 'ERR_NODEGRAD_ARGUMENT', ...fragments);
  });

  it('LBFGS.step needs a closure', () => {
    const opt = new optim.LBFGS(params());
    expectNodegradError(() => opt.step(), 'ERR_NODEGRAD_ARGUMENT', 'LBFGS.step', 'closure');
  });
});

describe('bad schedule options throw a NodegradError naming the schedule and the option', () => {
  const sgd = () => new optim.SGD(params(), { lr: 0.1, momentum: 0.9 });
  const cases: [string, () => unknown, ...string[]][] = [
    ['LinearLR startFactor', () => new S.LinearLR(sgd(), { startFactor: 2 }), 'LinearLR', 'startFactor', '2'],
    ['LinearLR totalIters', () => new S.LinearLR(sgd(), { totalIters: 0 }), 'LinearLR', 'totalIters'],
    ['ExponentialLR gamma', () => new S.ExponentialLR(sgd(), { gamma: NaN }), 'ExponentialLR', 'gamma'],
    ['MultiStepLR milestones', () => new S.MultiStepLR(sgd(), { milestones: [2.5] }), 'MultiStepLR', 'milestones'],
    ['LambdaLR count', () => new S.LambdaLR(sgd(), { lrLambda: [() => 1, () => 1] }), 'LambdaLR', 'expected 1'],
    ['OneCycleLR steps', () => new S.OneCycleLR(sgd(), { maxLr: 0.1 }), 'OneCycleLR', 'totalSteps'],
    ['OneCycleLR epochs', () => new S.OneCycleLR(sgd(), { maxLr: 0.1, epochs: 0, stepsPerEpoch: 3 }), 'epochs'],
    ['OneCycleLR maxLr', () => new S.OneCycleLR(sgd(), { maxLr: [0.1, 0.2], totalSteps: 9 }), 'OneCycleLR', 'maxLr'],
    ['OneCycleLR pctStart', () => new S.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 9, pctStart: 2 }), 'pctStart'],
    [
      'OneCycleLR annealStrategy',
      () => new S.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 9, annealStrategy: 'step' as 'cos' }),
      'annealStrategy',
    ],
    [
      'OneCycleLR momentum',
      () => new S.OneCycleLR(new optim.Adagrad(params()), { maxLr: 1, totalSteps: 9 }),
      'OneCycleLR',
      'cycleMomentum',
      'Adagrad',
    ],
    [
      'SequentialLR milestones',
      () => {
        const opt = sgd();
        return new S.SequentialLR(opt, { schedulers: [new S.ExponentialLR(opt, { gamma: 0.9 })], milestones: [3] });
      },
      'SequentialLR',
      'milestone',
    ],
    [
      'SequentialLR optimizer',
      () => {
        const opt = sgd();
        const other = new S.ExponentialLR(sgd(), { gamma: 0.9 });
        return new S.SequentialLR(opt, { schedulers: [new S.LinearLR(opt), other], milestones: [3] });
      },
      'SequentialLR',
      'scheduler 1',
    ],
    ['ReduceLROnPlateau factor', () => new S.ReduceLROnPlateau(sgd(), { factor: 1 }), 'ReduceLROnPlateau', 'factor'],
    ['ReduceLROnPlateau mode', () => new S.ReduceLROnPlateau(sgd(), { mode: 'avg' as 'min' }), 'mode'],
    ['ReduceLROnPlateau minLr', () => new S.ReduceLROnPlateau(sgd(), { minLr: [0, 0] }), 'minLr'],
  ];
  it.each(cases)('%s', (_name, make, ...fragments) => {
    expectNodegradError(make, 'ERR_NODEGRAD_ARGUMENT', ...fragments);
  });

  it('OneCycleLR throws past totalSteps', () => {
    const scheduler = new S.OneCycleLR(new optim.SGD(params(), { lr: 0.1, momentum: 0.9 }), {
      maxLr: 0.1,
      totalSteps: 3,
    });
    for (let i = 0; i < 3; i++) scheduler.step();
    expectNodegradError(() => scheduler.step(), 'ERR_NODEGRAD_ARGUMENT', 'OneCycleLR', 'totalSteps 3');
  });
});

describe('maximize ascends: the trajectory of maximizing f is that of minimizing −f', () => {
  const make: Record<string, (ps: ng.Tensor[], maximize: boolean) => ng.optim.Optimizer<{ lr: number }>> = {
    RMSprop: (ps, maximize) => new optim.RMSprop(ps, { maximize, momentum: 0.5, centered: true }),
    Adagrad: (ps, maximize) => new optim.Adagrad(ps, { maximize, lr: 0.1 }),
    Adadelta: (ps, maximize) => new optim.Adadelta(ps, { maximize }),
    Adamax: (ps, maximize) => new optim.Adamax(ps, { maximize, weightDecay: 0.1 }),
  };
  it.each(Object.keys(make))('%s', (kind) => {
    const run = (maximize: boolean) => {
      const ps = params();
      const opt = make[kind](ps, maximize);
      for (let i = 0; i < 5; i++) {
        opt.zeroGrad();
        const f = ps[0].mul(ps[0]).sum().sub(ps[0].sum());
        (maximize ? f.neg() : f).backward();
        opt.step();
      }
      return flat(ps[0]);
    };
    const ascended = run(true);
    expect(ascended).toEqual(run(false));
    expect(ascended).not.toEqual([1, -2, 3]);
  });
});

describe('ReduceLROnPlateau state', () => {
  it('stateDict carries best, bad epochs and cooldown into a fresh scheduler', () => {
    const metrics = [1, 0.9, 0.95, 0.97, 0.96, 0.98, 0.99, 0.5, 0.6, 0.7];
    const run = (split: boolean) => {
      const opt = new optim.SGD(params(), { lr: 1 });
      let scheduler = new S.ReduceLROnPlateau(opt, { patience: 1, cooldown: 2, factor: 0.5 });
      const lrs: number[] = [];
      metrics.forEach((m, i) => {
        if (split && i === 4) {
          const saved = scheduler.stateDict();
          scheduler = new S.ReduceLROnPlateau(opt, { patience: 1, cooldown: 2, factor: 0.5 });
          scheduler.loadStateDict(saved);
        }
        scheduler.step(ng.tensor([m]));
        lrs.push(scheduler.getLastLr()[0]);
      });
      return lrs;
    };
    const lrs = run(false);
    expect(lrs).toEqual([1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25]);
    expect(run(true)).toEqual(lrs);
  });
});
