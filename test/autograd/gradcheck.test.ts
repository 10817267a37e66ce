import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { record } from '../../lib/autograd/node.js';
import { randomTensor } from '../helpers.js';

type Case = [name: string, shapes: number[][], fn: (...xs: ng.Tensor[]) => ng.Tensor];

/** Positive inputs for ops whose domain needs them (log, sqrt, pow with a tensor exponent). */
const positive = (x: ng.Tensor) => x.abs().add(0.5);

// One row per differentiable op: shapes include size-1 dims, broadcasting and transposed
// (non-contiguous) inputs. Every row runs through float64 central differences.
const cases: Case[] = [
  [
    'add',
    [
      [3, 4],
      [3, 4],
    ],
    (a, b) => a.add(b),
  ],
  ['add broadcast row', [[3, 4], [4]], (a, b) => a.add(b)],
  [
    'add broadcast both',
    [
      [3, 1],
      [1, 4],
    ],
    (a, b) => a.add(b),
  ],
  ['add scalar', [[2, 3]], (a) => a.add(2.5)],
  [
    'sub broadcast',
    [
      [2, 3, 4],
      [3, 1],
    ],
    (a, b) => a.sub(b),
  ],
  [
    'mul broadcast',
    [
      [4, 1, 3],
      [2, 1],
    ],
    (a, b) => a.mul(b),
  ],
  [
    'mul transposed',
    [
      [3, 4],
      [4, 3],
    ],
    (a, b) => a.t().mul(b),
  ],
  [
    'div',
    [
      [3, 4],
      [3, 4],
    ],
    (a, b) => a.div(positive(b)),
  ],
  [
    'div broadcast transposed',
    [
      [4, 3],
      [4, 1],
    ],
    (a, b) => a.t().div(positive(b).t()),
  ],
  ['pow scalar', [[3, 4]], (a) => positive(a).pow(2.5)],
  ['pow tensor', [[3, 4], [4]], (a, b) => positive(a).pow(b)],
  ['neg', [[5]], (a) => a.neg()],
  ['exp', [[2, 3]], (a) => a.exp()],
  ['log', [[2, 3]], (a) => positive(a).log()],
  ['sqrt', [[2, 3]], (a) => positive(a).sqrt()],
  ['abs', [[2, 3]], (a) => a.abs()],
  ['clamp', [[4, 4]], (a) => a.clamp(-0.5, 0.4)],
  ['clamp min only', [[4, 4]], (a) => a.clamp(0.1)],
  ['relu', [[3, 5]], (a) => a.relu()],
  ['relu transposed', [[3, 5]], (a) => a.t().relu()],
  ['sigmoid', [[3, 5]], (a) => a.sigmoid()],
  ['tanh', [[3, 5]], (a) => a.tanh()],
  ['sum all', [[3, 4]], (a) => a.sum()],
  ['sum dim', [[3, 4, 2]], (a) => a.sum(1)],
  ['sum dims keepDim', [[3, 4, 2]], (a) => a.sum([0, 2], true)],
  ['sum transposed', [[3, 4]], (a) => a.t().sum(1)],
  ['mean all', [[3, 4]], (a) => a.mean()],
  ['mean dim', [[3, 4]], (a) => a.mean(-1, true)],
  ['max all', [[3, 4]], (a) => a.max()],
  ['max dim', [[3, 4, 2]], (a) => a.max(1)],
  ['min dim keepDim', [[3, 4]], (a) => a.min(0, true)],
  ['max transposed', [[3, 4]], (a) => a.t().max(1)],
  ['logsumexp dim', [[3, 4]], (a) => a.logsumexp(1)],
  ['logsumexp all', [[3, 4]], (a) => a.logsumexp()],
  ['logsumexp large values', [[2, 3]], (a) => a.mul(300).logsumexp(1)],
  [
    'matmul 2-D',
    [
      [3, 4],
      [4, 5],
    ],
    (a, b) => a.matmul(b),
  ],
  [
    'matmul transposed A',
    [
      [4, 3],
      [4, 5],
    ],
    (a, b) => a.t().matmul(b),
  ],
  [
    'matmul transposed B',
    [
      [3, 4],
      [5, 4],
    ],
    (a, b) => a.matmul(b.t()),
  ],
  [
    'matmul both transposed',
    [
      [4, 3],
      [5, 4],
    ],
    (a, b) => a.t().matmul(b.t()),
  ],
  ['matmul vector-vector', [[4], [4]], (a, b) => a.matmul(b)],
  ['matmul matrix-vector', [[3, 4], [4]], (a, b) => a.matmul(b)],
  ['matmul vector-matrix', [[4], [4, 2]], (a, b) => a.matmul(b)],
  [
    'matmul batched',
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
    (a, b) => a.matmul(b),
  ],
  [
    'matmul batched broadcast B',
    [
      [2, 3, 4],
      [4, 5],
    ],
    (a, b) => a.matmul(b),
  ],
  [
    'matmul batched broadcast A',
    [
      [3, 4],
      [2, 4, 5],
    ],
    (a, b) => a.matmul(b),
  ],
  [
    'matmul batched transposed',
    [
      [2, 4, 3],
      [2, 4, 5],
    ],
    (a, b) => a.transpose(1, 2).matmul(b),
  ],
  [
    'matmul batch dims broadcast',
    [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    (a, b) => a.matmul(b),
  ],
  ['reshape', [[3, 4]], (a) => a.reshape([2, -1]).mul(ng.arange(6, undefined, 1, { dtype: 'float64' }))],
  [
    'reshape transposed',
    [[3, 4]],
    (a) =>
      a
        .t()
        .reshape([12])
        .mul(ng.arange(12, undefined, 1, { dtype: 'float64' })),
  ],
  ['view', [[3, 4]], (a) => a.view([4, 3]).exp()],
  ['transpose', [[2, 3, 4]], (a) => a.transpose(0, 2).exp()],
  [
    'permute',
    [[2, 3, 4]],
    (a) => a.permute([2, 0, 1]).mul(ng.arange(4, undefined, 1, { dtype: 'float64' }).reshape([4, 1, 1])),
  ],
  ['flatten', [[2, 3, 4]], (a) => a.flatten(1).exp()],
  ['squeeze', [[3, 1, 2]], (a) => a.squeeze(1).exp()],
  ['squeeze all', [[1, 3, 1]], (a) => a.squeeze().exp()],
  ['unsqueeze', [[3, 2]], (a) => a.unsqueeze(1).exp()],
  [
    'expand',
    [[3, 1]],
    (a) => a.expand([2, 3, 4]).mul(ng.arange(24, undefined, 1, { dtype: 'float64' }).reshape([2, 3, 4])),
  ],
  ['narrow', [[5, 3]], (a) => a.narrow(0, 1, 3).exp()],
  ['narrow transposed', [[5, 3]], (a) => a.t().narrow(1, 2, 2).exp()],
  [
    'cat',
    [
      [2, 3],
      [4, 3],
    ],
    (a, b) => ng.cat([a, b], 0).exp(),
  ],
  [
    'cat dim 1 transposed',
    [
      [3, 2],
      [3, 4],
    ],
    (a, b) => ng.cat([a.t().t(), b], 1).exp(),
  ],
  [
    'stack',
    [
      [2, 3],
      [2, 3],
    ],
    (a, b) => ng.stack([a, b], 1).exp(),
  ],
  ['indexSelect with repeats', [[4, 3]], (a) => a.indexSelect(0, [3, 0, 3, 1]).exp()],
  ['indexSelect dim 1', [[2, 5]], (a) => a.indexSelect(1, [4, 2]).exp()],
  ['contiguous', [[3, 4]], (a) => a.t().contiguous().exp()],
  ['to float32 and back', [[3]], (a) => a.mul(2).to('float32').to('float64')],
  ['composite: softmax-like', [[3, 4]], (a) => a.sub(a.logsumexp(1, true)).exp()],
  ['linear', [[5, 3], [4, 3], [4]], (x, w, b) => ng.linear(x, w, b)],
  ['linear fused relu', [[5, 3], [4, 3], [4]], (x, w, b) => ng.linear(x, w, b, { activation: 'relu' })],
  [
    'linear 3-D input, no bias',
    [
      [2, 5, 3],
      [4, 3],
    ],
    (x, w) => ng.linear(x, w),
  ],
  [
    'linear transposed input and weight',
    [
      [3, 5],
      [3, 4],
    ],
    (x, w) => ng.linear(x.t(), w.t()),
  ],
  ['conv2d', [[2, 3, 7, 6], [4, 3, 3, 3], [4]], (x, w, b) => ng.conv2d(x, w, b)],
  [
    'conv2d stride padding',
    [[2, 3, 7, 6], [4, 3, 3, 2], [4]],
    (x, w, b) => ng.conv2d(x, w, b, { stride: [2, 1], padding: [1, 2] }),
  ],
  [
    'conv2d dilation',
    [
      [1, 2, 8, 8],
      [3, 2, 3, 3],
    ],
    (x, w) => ng.conv2d(x, w, null, { dilation: 2, padding: 1 }),
  ],
  ['conv2d groups', [[2, 4, 5, 5], [6, 2, 3, 3], [6]], (x, w, b) => ng.conv2d(x, w, b, { groups: 2 })],
  ['conv2d 1x1', [[2, 5, 4, 3], [3, 5, 1, 1], [3]], (x, w, b) => ng.conv2d(x, w, b)],
  [
    'conv2d same even kernel',
    [
      [1, 2, 5, 5],
      [2, 2, 2, 4],
    ],
    (x, w) => ng.conv2d(x, w, null, { padding: 'same' }),
  ],
  [
    'conv2d fused relu',
    [[2, 3, 6, 6], [4, 3, 3, 3], [4]],
    (x, w, b) => ng.conv2d(x, w, b, { padding: 1, activation: 'relu' }),
  ],
  [
    'conv2d unbatched transposed input',
    [
      [3, 6, 5],
      [2, 3, 3, 3],
    ],
    (x, w) => ng.conv2d(x.transpose(1, 2), w),
  ],
  ['maxPool2d', [[2, 3, 6, 6]], (x) => ng.maxPool2d(x, 2)],
  [
    'maxPool2d stride padding dilation ceil',
    [[1, 2, 9, 8]],
    (x) => ng.maxPool2d(x, 3, { stride: 2, padding: 1, dilation: [1, 2], ceilMode: true }),
  ],
  ['avgPool2d', [[2, 3, 6, 6]], (x) => ng.avgPool2d(x, 2)],
  [
    'avgPool2d pad ceil exclude pad',
    [[1, 2, 7, 7]],
    (x) => ng.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
  ],
  ['avgPool2d divisor override', [[1, 2, 6, 6]], (x) => ng.avgPool2d(x, [2, 3], { divisorOverride: 5 })],
  ['adaptiveAvgPool2d', [[2, 3, 7, 5]], (x) => ng.adaptiveAvgPool2d(x, [3, 2])],
  ['softmax', [[3, 5]], (x) => ng.softmax(x, 1)],
  ['softmax middle dim', [[2, 4, 3]], (x) => ng.softmax(x, 1)],
  ['logSoftmax', [[3, 5]], (x) => ng.logSoftmax(x, -1)],
  ['logSoftmax transposed', [[5, 3]], (x) => ng.logSoftmax(x.t(), 0)],
  ['crossEntropy mean', [[4, 5]], (x) => ng.crossEntropy(x, ng.tensor([0, 4, 2, 2], { dtype: 'int32' }))],
  [
    'crossEntropy weight ignore smoothing',
    [[4, 5]],
    (x) =>
      ng.crossEntropy(x, ng.tensor([0, 4, -100, 2], { dtype: 'int32' }), {
        weight: ng.tensor([0.5, 1, 2, 1, 0.25], { dtype: 'float64' }),
        labelSmoothing: 0.2,
      }),
  ],
  [
    'crossEntropy none, spatial',
    [[2, 3, 2, 2]],
    (x) =>
      ng.crossEntropy(
        x,
        ng.tensor(
          [
            [
              [0, 1],
              [2, 0],
            ],
            [
              [1, 1],
              [2, 2],
            ],
          ],
          { dtype: 'int32' },
        ),
        { reduction: 'none' },
      ),
  ],
  [
    'dropout (seeded mask)',
    [[4, 5]],
    (x) => {
      ng.manualSeed(3);
      return ng.dropout(x, 0.3);
    },
  ],
  [
    'batchNorm training',
    [[4, 3, 2, 2], [3], [3]],
    (x, w, b) => ng.batchNorm(x, { weight: w, bias: b, training: true }),
  ],
  [
    'batchNorm eval',
    [[4, 3], [3]],
    (x, w) =>
      ng.batchNorm(x, {
        weight: w,
        training: false,
        runningMean: ng.tensor([0.1, -0.2, 0.3], { dtype: 'float64' }),
        runningVar: ng.tensor([1.5, 0.5, 2], { dtype: 'float64' }),
      }),
  ],
  ['relu_ on a non-leaf', [[3, 4]], (x) => ng.relu_(x.mul(1))],
  ['sigmoid_ on a non-leaf', [[3, 4]], (x) => ng.sigmoid_(x.add(0))],
  ['tanh_ on a non-leaf', [[3, 4]], (x) => ng.tanh_(x.mul(2))],
  [
    'mseLoss',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => ng.mseLoss(x, t),
  ],
  [
    'l1Loss none',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => ng.l1Loss(x, t, { reduction: 'none' }),
  ],
  [
    'bceLoss',
    [[3, 4]],
    (x) =>
      ng.bceLoss(
        x.sigmoid(),
        ng.tensor(
          [
            [1, 0, 1, 0],
            [0, 0, 1, 1],
            [1, 1, 0, 0],
          ],
          { dtype: 'float64' },
        ),
      ),
  ],
  [
    'bceWithLogits posWeight',
    [[3, 4]],
    (x) =>
      ng.bceWithLogits(
        x,
        ng.tensor(
          [
            [1, 0, 1, 0],
            [0, 0, 1, 1],
            [1, 1, 0, 0],
          ],
          { dtype: 'float64' },
        ),
        { posWeight: ng.tensor([1, 2, 0.5, 3], { dtype: 'float64' }) },
      ),
  ],
  ['nllLoss', [[4, 5]], (x) => ng.nllLoss(ng.logSoftmax(x, 1), ng.tensor([0, 4, 2, 2], { dtype: 'int32' }))],
  [
    'klDiv batchmean',
    [[3, 4]],
    (x) =>
      ng.klDiv(
        ng.logSoftmax(x, 1),
        ng.tensor(
          [
            [0.2, 0.3, 0.5, 0],
            [0.25, 0.25, 0.25, 0.25],
            [0.7, 0.1, 0.1, 0.1],
          ],
          { dtype: 'float64' },
        ),
        { reduction: 'batchmean' },
      ),
  ],
  [
    'frameworkLoss eps 0.5 zeroOne',
    [[4, 5]],
    (x) => ng.frameworkLoss(x, ng.tensor([0, 4, 2, 2], { dtype: 'int32' }), { epsilon: 0.5, taskLoss: 'zeroOne' }),
  ],
  [
    'frameworkLoss eps 0 (max)',
    [[4, 5]],
    (x) => ng.frameworkLoss(x, ng.tensor([0, 4, 2, 2], { dtype: 'int32' }), { epsilon: 0, taskLoss: 'zeroOne' }),
  ],
  [
    'crossEntropy probability targets',
    [
      [3, 4],
      [3, 4],
    ],
    (x, t) => ng.crossEntropy(x, ng.softmax(t, 1), { labelSmoothing: 0.1 }),
  ],
  ['composite: diamond reuse', [[3]], (a) => a.mul(a).add(a.exp()).mul(a.tanh())],
];

const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('gradcheck over every differentiable op (%s backend)', (_backend, backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it.each(cases)('%s', (_name, shapes, fn) => {
    const inputs = shapes.map((s, i) => randomTensor(s, 17 + i * 101, 'float64', true));
    // The float32 round-trip row rounds to float32 by design (~1e-7 relative): a larger step, so the
    // rounding moves the difference quotient by ~1e-5 only, and a tolerance above that.
    const options = _name.startsWith('to float32') ? { eps: 1e-2, atol: 1e-4, rtol: 1e-4 } : {};
    expect(ng.gradcheck(fn, inputs, options)).toBe(true);
  });
});

/** fn with its true gradient scaled by `scale`: what a backward off by a constant factor computes. */
function withScaledBackward(fn: (x: ng.Tensor) => ng.Tensor, scale: number): (x: ng.Tensor) => ng.Tensor {
  return (x) => {
    const out = ng.noGrad(() => fn(x));
    return record('scaled', out, [x], (g) => {
      const input = x.detach();
      input.requiresGrad = true;
      ng.enableGrad(() => fn(input)).backward(g);
      return [input.grad!.mul(scale)];
    });
  };
}

const scaledCases: [name: string, shape: number[], fn: (x: ng.Tensor) => ng.Tensor][] = [
  ['logsumexp dim', [3, 4], (a) => a.logsumexp(1)],
  ['logsumexp all', [3, 4], (a) => a.logsumexp()],
  ['exp', [2, 3], (a) => a.exp()],
  ['softmax', [3, 5], (a) => ng.softmax(a, 1)],
  ['conv2d', [2, 3, 5, 5], (a) => ng.conv2d(a, ng.ones([2, 3, 3, 3], { dtype: 'float64' }).mul(0.1))],
];

describe('gradcheck itself', () => {
  it.each(scaledCases)('fails a %s backward scaled by 1.001 or 0.999, passes it unscaled', (_name, shape, fn) => {
    const x = randomTensor(shape, 7, 'float64', true);
    expect(ng.gradcheck(withScaledBackward(fn, 1), [x])).toBe(true);
    for (const scale of [1.001, 0.999]) {
      expect(() => ng.gradcheck(withScaledBackward(fn, scale), [x])).toThrow(/gradcheck: \d+ gradient element/);
    }
  });

  it('reports a wrong gradient', () => {
    const x = randomTensor([3], 5, 'float64', true);
    // detach() hides the dependency from autograd, so analytic and numerical gradients differ.
    const wrong = (a: ng.Tensor) => a.mul(a.detach());
    expect(() => ng.gradcheck(wrong, [x])).toThrow(/gradcheck: \d+ gradient element/);
  });

  it('refuses float32 inputs', () => {
    const x = randomTensor([3], 5, 'float32', true);
    expect(() => ng.gradcheck((a) => a.exp(), [x])).toThrow(/float64/);
  });
});
