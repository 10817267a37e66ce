// In-place writes into views (initializers, in-place activations, loadStateDict, running
// statistics) change exactly the view's elements, on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError, flat, randomTensor } from '../helpers.js';

const { nn } = ng;

/** Storage indices a view of a [4, 5] tensor covers. */
function covered(cut: (t: ng.Tensor) => ng.Tensor): Set<number> {
  return new Set(flat(cut(ng.arange(20, undefined, 1, { dtype: 'float64' }).reshape([4, 5]))));
}

/** Asserts that `base` kept its `before` values everywhere outside the view. */
function expectOutsideUntouched(base: ng.Tensor, before: number[], cut: (t: ng.Tensor) => ng.Tensor): void {
  const inside = covered(cut);
  flat(base).forEach((v, i) => {
    if (!inside.has(i)) expect(v, `element ${i}`).toBe(before[i]);
  });
}

const views: [string, (t: ng.Tensor) => ng.Tensor][] = [
  ['narrow rows', (t) => t.narrow(0, 1, 2)],
  ['narrow columns', (t) => t.narrow(1, 1, 3)],
  ['transposed narrow', (t) => t.narrow(1, 2, 2).transpose(0, 1)],
];

const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('in-place writes into views (%s backend)', (_backend, backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it.each(views)('init fills only the view: %s', (_name, cut) => {
    const base = randomTensor([4, 5], 1);
    const before = flat(base);
    const view = cut(base);
    nn.init.constant_(view, 7);
    expect(flat(view).every((v) => v === 7)).toBe(true);
    expectOutsideUntouched(base, before, cut);
    nn.init.normal_(view);
    expect(flat(view).every((v) => v !== 7)).toBe(true);
    expectOutsideUntouched(base, before, cut);
  });

  it.each(views)('relu_ changes only the view: %s', (_name, cut) => {
    const base = randomTensor([4, 5], 2);
    const before = flat(base);
    const expected = flat(cut(base)).map((v) => Math.max(v, 0));
    const view = cut(base);
    const version = base.storage.version;
    ng.relu_(view);
    expect(flat(view)).toEqual(expected);
    expect(base.storage.version).toBeGreaterThan(version);
    expectOutsideUntouched(base, before, cut);
  });

  it('relu_ refuses a view whose elements share memory, naming the op', () => {
    const x = ng.tensor([[-1, 2, -3]]).expand([4, 3]);
    expectNodegradError(() => ng.relu_(x), 'ERR_NODEGRAD_ARGUMENT', 'relu_', 'share memory', 'clone()');
  });

  it('loadStateDict writes into a parameter that is a view', () => {
    const base = randomTensor([4, 5], 3);
    const before = flat(base);
    const layer = new nn.Linear(3, 2, { dtype: 'float64' });
    const cut = (t: ng.Tensor): ng.Tensor => t.narrow(1, 1, 3).narrow(0, 0, 2);
    layer.weight = new nn.Parameter(cut(base));
    const weight = randomTensor([2, 3], 4);
    layer.loadStateDict({ weight, bias: ng.zeros([2], { dtype: 'float64' }) });
    expect(flat(layer.weight)).toEqual(flat(weight));
    expectOutsideUntouched(base, before, cut);
  });

  it('batchNorm updates running statistics that are views', () => {
    const stats = ng.tensor(
      [
        [9, 0, 9],
        [9, 1, 9],
      ],
      { dtype: 'float64' },
    );
    const runningMean = stats.narrow(0, 0, 1).narrow(1, 1, 1).reshape([1]);
    const runningVar = stats.narrow(0, 1, 1).narrow(1, 1, 1).reshape([1]);
    const x = ng.tensor([[1], [3]], { dtype: 'float64' });
    ng.batchNorm(x, { runningMean, runningVar, training: true, momentum: 0.5 });
    // mean 2 and unbiased variance 2 enter with weight 0.5.
    expect(flat(stats)).toEqual([9, 1, 9, 9, 1.5, 9]);
  });
});
