// Optimizers on parameters that are views (narrow, transpose) of a larger tensor: the step must
// update the view exactly as it updates a dense copy of it, and leave the rest of the storage alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat, randomTensor } from '../helpers.js';

const { optim } = ng;

type MakeOptimizer = (params: ng.Tensor[]) => ng.optim.Optimizer<{ lr: number }>;

const optimizers: [string, MakeOptimizer][] = [
  ['SGD', (p) => new optim.SGD(p, { lr: 0.1 })],
  [
    'SGD momentum nesterov weightDecay',
    (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
  ],
  ['SGD momentum dampening', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.5, dampening: 0.3 })],
  ['Adam amsgrad weightDecay', (p) => new optim.Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.1 })],
  ['AdamW', (p) => new optim.AdamW(p, { lr: 0.05 })],
  ['RMSprop centered momentum', (p) => new optim.RMSprop(p, { momentum: 0.9, centered: true, weightDecay: 0.1 })],
  ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01 })],
  ['Adadelta', (p) => new optim.Adadelta(p, { weightDecay: 0.1 })],
  ['Adamax', (p) => new optim.Adamax(p, { lr: 0.05 })],
  ['NAdam', (p) => new optim.NAdam(p, { lr: 0.05 })],
  ['RAdam', (p) => new optim.RAdam(p, { lr: 0.05 })],
];

const views: [string, (base: ng.Tensor) => ng.Tensor][] = [
  ['narrow rows (contiguous, offset)', (b) => b.narrow(0, 1, 2)],
  ['narrow columns (strided)', (b) => b.narrow(1, 1, 3)],
  ['transpose', (b) => b.transpose(0, 1)],
  ['transposed narrow', (b) => b.narrow(1, 2, 2).transpose(0, 1)],
];

/** Three steps on loss = sum(w * c + w²/2); the gradient c + w changes every step. */
function train(p: ng.Tensor, make: MakeOptimizer): void {
  const opt = make([p]);
  const c = randomTensor([...p.shape], 7);
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    p.mul(c).add(p.mul(p).mul(0.5)).sum().backward();
    opt.step();
  }
}

const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('optimizers update view parameters (%s backend)', (_backend, backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  describe.each(optimizers)('%s', (_name, make) => {
    it.each(views)('%s', (_view, cut) => {
      const base = randomTensor([4, 5], 3);
      const before = flat(base);
      const p = cut(base);
      p.requiresGrad = true;
      const dense = cut(randomTensor([4, 5], 3)).clone();
      dense.requiresGrad = true;

      train(p, make);
      train(dense, make);

      expectClose(flat(p), flat(dense), 1e-12, 0);
      expect(flat(p)).not.toEqual(flat(cut(ng.tensor(before, { shape: [4, 5], dtype: 'float64' }))));
      // Every element of the base outside the view keeps its value.
      const inside = new Set(flat(cut(ng.arange(20, undefined, 1, { dtype: 'float64' }).reshape([4, 5]))));
      flat(base).forEach((v, i) => {
        if (!inside.has(i)) expect(v, `element ${i}`).toBe(before[i]);
      });
    });
  });

  const grads: [string, () => ng.Tensor][] = [
    ['contiguous with an offset', () => randomTensor([5, 2], 9).narrow(0, 2, 3)],
    ['strided', () => randomTensor([2, 4], 9).narrow(1, 1, 3).transpose(0, 1)],
  ];
  it.each(grads)('reads a gradient that is a view: %s', (_kind, makeGrad) => {
    const p = randomTensor([3, 2], 5, 'float64', true);
    const q = p.detach().clone();
    q.requiresGrad = true;
    p.grad = makeGrad();
    q.grad = p.grad.clone();
    new optim.SGD([p], { lr: 0.5 }).step();
    new optim.SGD([q], { lr: 0.5 }).step();
    expectClose(flat(p), flat(q), 1e-15, 0);
  });

  it('refuses a parameter whose elements share memory (expand)', () => {
    const p = ng.zeros([1, 3], { dtype: 'float64' }).expand([4, 3]);
    p.requiresGrad = true;
    p.grad = ng.ones([4, 3], { dtype: 'float64' });
    expectNodegradError(
      () => new optim.SGD([p], { lr: 0.1 }).step(),
      'ERR_NODEGRAD_ARGUMENT',
      'SGD.step',
      'share memory',
    );
  });
});
