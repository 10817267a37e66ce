// PReLU and GLU against PyTorch goldens with float64 gradchecks; Dropout1d, Dropout2d and
// AlphaDropout statistics (fraction dropped, whole-channel pattern, AlphaDropout's preserved mean
// and variance), seeded reproducibility, gradients and eval-mode identity.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { expectNodegradError, flat, randomTensor } from '../helpers.js';
import { checkNormCase, type NormForward } from './norm-goldens.js';

const F = ng.nn.functional;

const forwards: Record<string, NormForward> = {
  prelu: (_c, leaf) => F.prelu(leaf('x'), leaf('weight')),
  glu: (c, leaf) => F.glu(leaf('x'), c.options.dim as number),
};
const all = goldenCases('norm.safetensors');
const keys = new Map(
  all.filter((c) => c.kind === 'moduleKeys').map((c) => [c.options.label as string, c.options] as const),
);

describe('PReLU and GLU', () => {
  it.each(
    all
      .filter((c) => c.kind in forwards)
      .flatMap((c) => (['float64', 'float32'] as const).map((d) => [`${c.name} ${d}`, c, d] as const)),
  )('%s matches PyTorch', (_n, c, dtype) => {
    checkNormCase(c, forwards[c.kind], dtype);
  });

  it.each([
    ['prelu, one slope', (x: ng.Tensor, w: ng.Tensor) => F.prelu(x, w.index(ng.tensor([0]).to('int32')))],
    ['prelu, per channel', (x: ng.Tensor, w: ng.Tensor) => F.prelu(x, w)],
    ['glu over dim 1', (x: ng.Tensor) => F.glu(x, 1)],
  ] as const)('%s passes float64 gradcheck', (_n, fn) => {
    const inputs = [randomTensor([2, 4, 3], 1, 'float64', true), randomTensor([4], 2, 'float64', true)];
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });

  it.each([
    ['PReLU(6)', () => new ng.nn.PReLU({ numParameters: 6 })],
    ['GLU(1)', () => new ng.nn.GLU({ dim: 1 })],
    ['Dropout1d', () => new ng.nn.Dropout1d(0.2)],
    ['Dropout2d', () => new ng.nn.Dropout2d(0.3)],
    ['AlphaDropout', () => new ng.nn.AlphaDropout(0.1)],
  ] as const)('%s has PyTorch state-dict keys and repr', (label, make) => {
    const m = make();
    expect(Object.keys(m.stateDict())).toEqual(keys.get(label)?.keys);
    expect(m.toString()).toBe(keys.get(label)?.repr);
  });

  it('PReLU learns its slope, starting at init', () => {
    const layer = new ng.nn.PReLU({ init: 0.1, dtype: 'float64' });
    expect(flat(layer.weight)).toEqual([0.1]);
    layer
      .forward(ng.tensor([-2, 3], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(flat(layer.weight.grad ?? ng.zeros([1]))).toEqual([-2]);
  });

  it('errors name the op and the shapes', () => {
    expectNodegradError(() => F.glu(ng.zeros([2, 3])), 'ERR_NODEGRAD_SHAPE', 'glu', '[2, 3]');
    expectNodegradError(() => F.prelu(ng.zeros([2, 3]), ng.ones([2])), 'ERR_NODEGRAD_SHAPE', 'prelu', '[2]');
  });
});

describe('dropout variants', () => {
  const channelCases = [
    ['Dropout1d', (p: number) => new ng.nn.Dropout1d(p), [64, 32, 16], 16],
    ['Dropout2d', (p: number) => new ng.nn.Dropout2d(p), [32, 64, 3, 4], 12],
    ['Dropout2d unbatched', (p: number) => new ng.nn.Dropout2d(p), [2048, 3, 4], 12],
  ] as const;

  it.each(channelCases)(
    '%s zeroes whole channels with probability p and scales the rest',
    (_n, make, shape, spatial) => {
      ng.manualSeed(11);
      const p = 0.3;
      const out = flat(make(p).forward(ng.ones([...shape])));
      let dropped = 0;
      for (let c = 0; c < out.length / spatial; c++) {
        const channel = out.slice(c * spatial, (c + 1) * spatial);
        const v = channel[0];
        expect(channel.every((e) => e === v)).toBe(true);
        expect([0, Math.fround(1 / (1 - p))]).toContain(v);
        if (v === 0) dropped++;
      }
      expect(Math.abs(dropped / (out.length / spatial) - p)).toBeLessThan(0.04);
    },
  );

  it('AlphaDropout keeps zero mean and unit variance and drops a fraction p', () => {
    ng.manualSeed(3);
    const x = ng.randn([200000], { dtype: 'float64' });
    const p = 0.2;
    const out = flat(new ng.nn.AlphaDropout(p).forward(x));
    const mean = out.reduce((a, b) => a + b, 0) / out.length;
    const variance = out.reduce((a, b) => a + (b - mean) ** 2, 0) / out.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    // A dropped element takes a · α′ · (1 − p), the same value for all of them.
    const alpha = -1.7580993408473766;
    const a = 1 / Math.sqrt((alpha * alpha * p + 1) * (1 - p));
    const droppedValue = a * alpha * (1 - p);
    const dropped = out.filter((v) => Math.abs(v - droppedValue) < 1e-12).length / out.length;
    expect(Math.abs(dropped - p)).toBeLessThan(0.01);
  });

  it.each([
    ['dropout1d', (x: ng.Tensor) => F.dropout1d(x, 0.4)],
    ['dropout2d', (x: ng.Tensor) => F.dropout2d(x.reshape([2, 3, 2, 2]), 0.4)],
    ['alphaDropout', (x: ng.Tensor) => F.alphaDropout(x, 0.4)],
  ] as const)('%s: a seed reproduces the mask; float64 gradcheck with the mask fixed', (_n, fn) => {
    const x = randomTensor([2, 3, 4], 4, 'float64', true);
    ng.manualSeed(5);
    const first = flat(fn(x));
    ng.manualSeed(5);
    expect(flat(fn(x))).toEqual(first);
    expect(
      ng.gradcheck(
        (t) => {
          ng.manualSeed(5);
          return fn(t);
        },
        [x],
      ),
    ).toBe(true);
  });

  it.each([
    ['Dropout1d', new ng.nn.Dropout1d(0.5), [2, 3, 4]],
    ['Dropout2d', new ng.nn.Dropout2d(0.5), [2, 3, 4, 4]],
    ['AlphaDropout', new ng.nn.AlphaDropout(0.5), [5, 7]],
  ] as const)('%s is the identity in eval mode', (_n, layer, shape) => {
    const x = ng.randn([...shape]);
    layer.eval();
    expect(layer.forward(x)).toBe(x);
  });

  it('errors name the op and the value', () => {
    expectNodegradError(() => new ng.nn.Dropout2d(1.5), 'ERR_NODEGRAD_ARGUMENT', 'Dropout2d', '1.5');
    expectNodegradError(() => F.dropout2d(ng.zeros([2, 3])), 'ERR_NODEGRAD_SHAPE', 'dropout2d', '[2, 3]');
    expectNodegradError(() => F.alphaDropout(ng.zeros([2]), -0.1), 'ERR_NODEGRAD_ARGUMENT', 'alphaDropout', '-0.1');
  });
});
