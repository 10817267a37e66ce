// Float64 gradcheck of every input the new losses differentiate, and their argument errors (class,
// code, and a message naming the loss, the shapes and what was expected).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { randomTensor } from '../helpers.js';

const F = ng.nn.functional;
type Case = [name: string, shapes: number[][], fn: (...xs: ng.Tensor[]) => ng.Tensor];

const positive = (x: ng.Tensor) => x.abs().add(0.5);
const sign = (n: number, seed: number) => randomTensor([n], seed).gt(0).to('float64').mul(2).sub(1);
const labels = ng.tensor([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1], { shape: [3, 4], dtype: 'float64' });
const counts = ng.tensor([0, 1, 2, 5, 3, 0, 1, 7, 1, 1, 4, 3], { shape: [3, 4], dtype: 'float64' });
const ceTarget = ng.tensor([0, -1, 2, 3, 1, 4, -1, 2], { shape: [2, 2, 2], dtype: 'int32' });
const classWeight = ng.tensor([0.5, 1.2, 0.8, 2, 1], { dtype: 'float64' });

const cases: Case[] = [
  [
    'smoothL1Loss beta 0.5',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => F.smoothL1Loss(x.mul(2), t, { beta: 0.5 }),
  ],
  [
    'smoothL1Loss beta 1 none',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => F.smoothL1Loss(x.mul(2), t, { reduction: 'none' }),
  ],
  [
    'huberLoss delta 0.7 sum',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => F.huberLoss(x.mul(2), t, { delta: 0.7, reduction: 'sum' }),
  ],
  [
    'poissonNllLoss log input',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => F.poissonNllLoss(x, positive(t)),
  ],
  [
    'poissonNllLoss rate',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => F.poissonNllLoss(positive(x), positive(t), { logInput: false }),
  ],
  ['poissonNllLoss full', [[3, 4]], (x) => F.poissonNllLoss(x, counts, { full: true, reduction: 'none' })],
  [
    'gaussianNllLoss',
    [
      [3, 4],
      [3, 4],
      [3, 4],
    ],
    (x, t, v) => F.gaussianNllLoss(x, t, positive(v), { full: true }),
  ],
  ['gaussianNllLoss homoscedastic', [[3, 4], [3, 4], [3]], (x, t, v) => F.gaussianNllLoss(x, t, positive(v))],
  [
    'cosineEmbeddingLoss',
    [
      [4, 3],
      [4, 3],
    ],
    (a, b) => F.cosineEmbeddingLoss(a, b, ng.tensor([1, -1, -1, 1], { dtype: 'int32' }), { margin: -0.5 }),
  ],
  ['marginRankingLoss', [[6], [6], [6]], (a, b, y) => F.marginRankingLoss(a, b, y, { margin: 0.2, reduction: 'sum' })],
  ['marginRankingLoss ±1 target', [[6], [6]], (a, b) => F.marginRankingLoss(a, b, sign(6, 77), { margin: 0.5 })],
  [
    'tripletMarginLoss',
    [
      [4, 3],
      [4, 3],
      [4, 3],
    ],
    (a, p, n) => F.tripletMarginLoss(a, p, n, { margin: 2 }),
  ],
  [
    'tripletMarginLoss p 1 swap',
    [
      [4, 3],
      [4, 3],
      [4, 3],
    ],
    (a, p, n) => F.tripletMarginLoss(a, p, n, { p: 1, swap: true, margin: 3, reduction: 'none' }),
  ],
  [
    'tripletMarginLoss p 3',
    [
      [4, 3],
      [4, 3],
      [4, 3],
    ],
    (a, p, n) => F.tripletMarginLoss(a, p, n, { p: 3, margin: 2 }),
  ],
  [
    'multilabelSoftMarginLoss',
    [[3, 4], [4]],
    (x, w) => F.multilabelSoftMarginLoss(x.mul(3), labels, { weight: w, reduction: 'none' }),
  ],
  [
    'crossEntropy spatial ignore smoothing weight',
    [[2, 5, 2, 2]],
    (x) => F.crossEntropy(x, ceTarget, { ignoreIndex: -1, labelSmoothing: 0.2, weight: classWeight }),
  ],
  [
    'crossEntropy spatial probabilities',
    [
      [2, 5, 2],
      [2, 5, 2],
    ],
    (x, t) => F.crossEntropy(x, t.softmax(1), { labelSmoothing: 0.1, weight: classWeight, reduction: 'none' }),
  ],
];

describe('gradcheck (float64)', () => {
  it.each(cases)('%s', (_name, shapes, fn) => {
    const inputs = shapes.map((shape, i) => randomTensor(shape, 101 + 17 * i, 'float64', true));
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });
});

describe('argument errors name the loss, the shapes and what was expected', () => {
  const x = randomTensor([3, 4], 1);
  function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
    let caught: unknown;
    try {
      fn();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ng.NodegradError);
    expect((caught as ng.NodegradError).code).toBe(code);
    for (const f of fragments) expect((caught as Error).message).toContain(f);
  }

  it('regression losses', () => {
    expectError(
      () => F.smoothL1Loss(x, randomTensor([4, 3], 2)),
      'ERR_NODEGRAD_SHAPE',
      'smoothL1Loss',
      '[4, 3]',
      '[3, 4]',
    );
    expectError(() => F.smoothL1Loss(x, x, { beta: -1 }), 'ERR_NODEGRAD_ARGUMENT', 'smoothL1Loss', 'beta', '-1');
    expectError(() => F.huberLoss(x, x, { delta: 0 }), 'ERR_NODEGRAD_ARGUMENT', 'huberLoss', 'delta', 'positive');
    expectError(() => new ng.nn.HuberLoss().forward(x, randomTensor([3], 2)), 'ERR_NODEGRAD_SHAPE', 'huberLoss');
    expectError(() => F.poissonNllLoss(x, randomTensor([3], 2)), 'ERR_NODEGRAD_SHAPE', 'poissonNllLoss', '[3]');
    expectError(
      () => F.gaussianNllLoss(x, x, randomTensor([4], 3).abs()),
      'ERR_NODEGRAD_SHAPE',
      'gaussianNllLoss',
      'expected var of shape [3, 4], [3] or [3, 1]',
      'got [4]',
    );
    expectError(() => F.gaussianNllLoss(x, x, x), 'ERR_NODEGRAD_ARGUMENT', 'gaussianNllLoss', 'non-negative');
    expectError(
      () => F.smoothL1Loss(x, x, { reduction: 'avg' as 'mean' }),
      'ERR_NODEGRAD_ARGUMENT',
      'smoothL1Loss',
      "'avg'",
    );
  });

  it('embedding and ranking losses', () => {
    const y = ng.tensor([1, -1, 1], { dtype: 'int32' });
    expectError(
      () => F.cosineEmbeddingLoss(x, x, ng.tensor([1, -1], { dtype: 'int32' })),
      'ERR_NODEGRAD_SHAPE',
      'cosineEmbeddingLoss',
      'target [N]',
      '[3, 4]',
      '[2]',
    );
    expectError(() => F.cosineEmbeddingLoss(x, randomTensor([3, 5], 2), y), 'ERR_NODEGRAD_SHAPE', '[3, 4], [3, 5]');
    expectError(
      () => new ng.nn.MarginRankingLoss().forward(randomTensor([3], 1), randomTensor([4], 2), y),
      'ERR_NODEGRAD_SHAPE',
      'marginRankingLoss',
      'of one shape',
      '[3], [4], [3]',
    );
    expectError(() => F.tripletMarginLoss(x, x, randomTensor([3, 5], 2)), 'ERR_NODEGRAD_SHAPE', 'tripletMarginLoss');
    expectError(
      () => F.tripletMarginLoss(x, x, x, { p: 0 }),
      'ERR_NODEGRAD_ARGUMENT',
      'tripletMarginLoss',
      'p must be',
    );
    expectError(
      () => F.multilabelSoftMarginLoss(ng.tensor(1), ng.tensor(1)),
      'ERR_NODEGRAD_SHAPE',
      'multilabelSoftMarginLoss',
      '[N, C]',
    );
  });

  it('crossEntropy: float class labels, wrong spatial targets, ignoreIndex with probabilities', () => {
    const logits = randomTensor([2, 5, 3], 4);
    expectError(
      () => F.crossEntropy(logits, ng.zeros([2, 3])),
      'ERR_NODEGRAD_DTYPE',
      'crossEntropy',
      'class labels must be int32',
      '[2, 3]',
    );
    expectError(
      () => F.crossEntropy(logits, ng.zeros([2, 4], { dtype: 'int32' })),
      'ERR_NODEGRAD_SHAPE',
      'crossEntropy',
      'expected class-index target of shape [2, 3]',
      'got [2, 4]',
    );
    expectError(
      () => F.crossEntropy(logits, logits.softmax(1), { ignoreIndex: 0 }),
      'ERR_NODEGRAD_ARGUMENT',
      'crossEntropy',
      'ignoreIndex 0',
      'probability targets',
    );
  });
});
