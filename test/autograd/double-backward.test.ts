import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, randomTensor } from '../helpers.js';

type Case = [name: string, shapes: number[][], fn: (...xs: ng.Tensor[]) => ng.Tensor];

const positive = (x: ng.Tensor) => x.abs().add(0.5);

// Second derivatives of every op a gradient penalty goes through, against float64 central
// differences of the first derivative (itself computed by autograd.grad with createGraph).
const cases: Case[] = [
  ['add broadcast', [[3, 4], [4]], (a, b) => a.add(b).pow(2)],
  [
    'sub',
    [
      [3, 4],
      [3, 1],
    ],
    (a, b) => a.sub(b).mul(a),
  ],
  [
    'mul',
    [
      [3, 4],
      [3, 4],
    ],
    (a, b) => a.mul(b).mul(a),
  ],
  [
    'div',
    [
      [3, 4],
      [3, 4],
    ],
    (a, b) => a.div(positive(b)),
  ],
  ['pow scalar', [[3, 4]], (a) => positive(a).pow(3.5)],
  ['pow tensor', [[3, 4], [4]], (a, b) => positive(a).pow(b)],
  ['exp', [[2, 3]], (a) => a.exp()],
  ['log', [[2, 3]], (a) => positive(a).log()],
  ['sqrt', [[2, 3]], (a) => positive(a).sqrt()],
  ['tanh', [[3, 5]], (a) => a.tanh()],
  ['sigmoid', [[3, 5]], (a) => a.sigmoid()],
  ['relu times input', [[3, 5]], (a) => a.relu().mul(a)],
  ['sum and mean', [[3, 4]], (a) => a.mul(a).sum(1).mean()],
  [
    'matmul',
    [
      [3, 4],
      [4, 2],
    ],
    (a, b) => a.matmul(b).tanh(),
  ],
  [
    'reshape view transpose',
    [[3, 4]],
    (a) =>
      a
        .reshape([2, 6])
        .t()
        .mul(a.view([6, 2]))
        .transpose(0, 1),
  ],
  ['linear', [[5, 3], [4, 3], [4]], (x, w, b) => ng.linear(x, w, b).sigmoid()],
  ['linear+relu', [[5, 3], [4, 3], [4]], (x, w, b) => ng.linear(x, w, b, { activation: 'relu' }).pow(2)],
  ['expand unsqueeze', [[3]], (a) => a.unsqueeze(0).expand([2, 3]).mul(a)],
  [
    'cat',
    [
      [2, 3],
      [1, 3],
    ],
    (a, b) => ng.cat([a, b], 0).pow(2),
  ],
  ['conv2d', [[2, 2, 5, 5], [3, 2, 3, 3], [3]], (x, w, b) => ng.conv2d(x, w, b).tanh()],
  [
    'conv2d stride padding dilation',
    [
      [1, 2, 6, 5],
      [2, 2, 2, 3],
    ],
    (x, w) => ng.conv2d(x, w, null, { stride: [2, 1], padding: 1, dilation: [1, 2] }).sigmoid(),
  ],
  [
    'conv2d groups',
    [
      [1, 4, 4, 4],
      [4, 2, 3, 3],
    ],
    (x, w) => ng.conv2d(x, w, null, { groups: 2, padding: 'same' }).pow(2),
  ],
  [
    'conv2d+relu',
    [[1, 2, 4, 4], [2, 2, 3, 3], [2]],
    (x, w, b) => ng.conv2d(x, w, b, { activation: 'relu' }).mul(x.sum()),
  ],
];

describe('gradgradcheck (float64)', () => {
  for (const [name, shapes, fn] of cases) {
    it(name, () => {
      const inputs = shapes.map((s, i) => randomTensor(s, 17 + 31 * i, 'float64', true));
      expect(ng.gradgradcheck(fn, inputs)).toBe(true);
    });
  }

  it('fails for a backward whose gradient is not differentiated through (a raw-kernel backward)', () => {
    const x = randomTensor([4], 3, 'float64', true);
    expect(() => ng.gradgradcheck((a) => ng.softmax(a, 0), [x])).toThrow(/double backward not supported for softmax/);
  });
});

describe('autograd.grad with createGraph', () => {
  it('differentiates x³ twice: 6x', () => {
    const x = ng.tensor([1, -2, 0.5], { dtype: 'float64', requiresGrad: true });
    const [g] = ng.autograd.grad(x.pow(3).sum(), x, { createGraph: true });
    expect(g!.requiresGrad).toBe(true);
    expectClose(g!.data(), [3, 12, 0.75], 1e-12);
    const [gg] = ng.autograd.grad(g!.sum(), x);
    expectClose(gg!.data(), [6, -12, 3], 1e-12);
    expect(x.grad).toBeNull();
  });

  it('without createGraph returns a gradient that does not require grad', () => {
    const x = ng.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    const [g] = ng.autograd.grad(x.tanh().sum(), x);
    expect(g!.requiresGrad).toBe(false);
  });

  it('names the op when differentiating a gradient that cannot be differentiated again', () => {
    const x = ng.tensor([[1, 2, 3]], { dtype: 'float64', requiresGrad: true });
    const [g] = ng.autograd.grad(
      ng
        .softmax(x, 1)
        .mul(ng.tensor([[1, 0, 0]], { dtype: 'float64' }))
        .sum(),
      x,
      { createGraph: true },
    );
    let error: unknown;
    try {
      g!.sum().backward();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ng.NodegradError);
    expect((error as ng.NodegradError).code).toBe('ERR_NODEGRAD_AUTOGRAD');
    expect((error as ng.NodegradError).message).toMatch(/double backward not supported for softmax/);
  });

  it('backward({ createGraph }) leaves a differentiable .grad', () => {
    const x = ng.tensor([0.3, -0.7], { dtype: 'float64', requiresGrad: true });
    x.tanh().sum().backward(undefined, { createGraph: true });
    const first = x.grad!;
    expect(first.requiresGrad).toBe(true);
    const [gg] = ng.autograd.grad(first.sum(), x);
    const t = [Math.tanh(0.3), Math.tanh(-0.7)];
    expectClose(
      gg!.data(),
      t.map((v) => -2 * v * (1 - v * v)),
      1e-12,
    );
  });
});
