// nn.utils: clipGradNorm_ against PyTorch goldens (tools/golden/make_utils_goldens.py), and
// clipGradValue_, parametersToVector, vectorToParameters on views and across dtypes.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { expectClose, expectNodegradError, flat } from '../helpers.js';

const { utils } = ng.nn;

describe('clipGradNorm_ matches PyTorch', () => {
  it.each(goldenCases('utils.safetensors').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const count = c.options.count as number;
    const params = Array.from({ length: count }, (_, i) => {
      const p = ng.zerosLike(c.t[`grad${i}`], { requiresGrad: true });
      p.grad = c.t[`grad${i}`].clone();
      return p;
    });
    const normType = c.options.normType as number | 'inf';
    const total = utils.clipGradNorm_(params, c.options.maxNorm as number, { normType });
    const tol = params[0].dtype === 'float64' ? 1e-12 : 1e-5;
    expectClose([total], [c.t.total.item()], tol, tol);
    params.forEach((p, i) => expectClose(flat(p.grad!), flat(c.t[`clipped${i}`]), tol, tol));
  });
});

describe('clipGradNorm_', () => {
  it('skips parameters without a gradient, takes one tensor, returns 0 when there is none', () => {
    const a = ng.zeros([2], { requiresGrad: true });
    const b = ng.zeros([2], { requiresGrad: true });
    a.grad = ng.tensor([3, 4]);
    expect(utils.clipGradNorm_([a, b], 1)).toBeCloseTo(5, 6);
    expectClose(flat(a.grad), [0.6, 0.8], 1e-5);
    expect(b.grad).toBeNull();
    expect(utils.clipGradNorm_(b, 1)).toBe(0);
    a.grad = ng.tensor([-2, 1]);
    expect(utils.clipGradNorm_(a, 1, { normType: Infinity })).toBe(2);
    expect(flat(a.grad)).toEqual([Math.fround(-2 / (2 + 1e-6)), Math.fround(1 / (2 + 1e-6))]);
  });

  it('clips a gradient that is a transposed view, through its strides', () => {
    const p = ng.zeros([3, 2], { requiresGrad: true });
    const base = ng.tensor([
      [3, 0, 0],
      [0, 4, 0],
    ]);
    p.grad = base.t();
    utils.clipGradNorm_([p], 2.5);
    expectClose(flat(base), [1.5, 0, 0, 0, 2, 0], 1e-5);
  });

  it.each(['float32', 'float64'] as const)(
    'reads %s gradients in place at an offset in their storage, any length, leaving the rest untouched',
    (dtype) => {
      const base = ng.arange(1, 12, 1, { dtype });
      const p = ng.zeros([7], { dtype, requiresGrad: true });
      p.grad = base.narrow(0, 3, 7);
      const values = [4, 5, 6, 7, 8, 9, 10];
      const norm = Math.sqrt(values.reduce((a, v) => a + v * v, 0));
      expect(utils.clipGradNorm_([p], 2)).toBeCloseTo(norm, 5);
      const scale = 2 / (norm + 1e-6);
      expectClose(flat(base), [1, 2, 3, ...values.map((v) => v * scale), 11], 1e-6);
    },
  );

  it('non-finite norms: scaled by default, an error that names the fix on request', () => {
    const p = ng.zeros([2], { requiresGrad: true });
    p.grad = ng.tensor([NaN, 1]);
    expect(utils.clipGradNorm_([p], 1)).toBeNaN();
    expectNodegradError(
      () => utils.clipGradNorm_([p], 1, { errorIfNonfinite: true }),
      'ERR_NODEGRAD_ARGUMENT',
      'clipGradNorm_',
      'errorIfNonfinite: false',
    );
    expectNodegradError(
      () => utils.clipGradNorm_([p], 1, { normType: 0 }),
      'ERR_NODEGRAD_ARGUMENT',
      'clipGradNorm_',
      'normType',
    );
  });

  it('runs in a training step: the update uses the clipped gradient', () => {
    const w = ng.tensor([1, 1], { requiresGrad: true });
    const opt = new ng.optim.SGD([w], { lr: 1 });
    w.mul(ng.tensor([30, 40]))
      .sum()
      .backward();
    expect(utils.clipGradNorm_([w], 5)).toBeCloseTo(50, 4);
    opt.step();
    expectClose(flat(w), [1 - 3, 1 - 4], 1e-5);
  });
});

describe('clipGradValue_', () => {
  it('clamps each gradient element to [-c, c], NaN stays NaN', () => {
    const a = ng.zeros([4], { requiresGrad: true });
    a.grad = ng.tensor([-3, 0.2, 5, NaN]);
    const b = ng.zeros([1], { requiresGrad: true });
    utils.clipGradValue_([a, b], 1);
    const g = flat(a.grad);
    expect(g.slice(0, 3)).toEqual([-1, Math.fround(0.2), 1]);
    expect(g[3]).toBeNaN();
    expectNodegradError(() => utils.clipGradValue_([a], -1), 'ERR_NODEGRAD_ARGUMENT', 'clipGradValue_');
  });
});

describe('parametersToVector / vectorToParameters', () => {
  it('round-trips, writing views through their strides', () => {
    const a = ng.tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    const base = ng.zeros([3, 2], { dtype: 'float64' });
    const b = base.t(); // a [2, 3] view
    const vec = utils.parametersToVector([a, b]);
    expect(vec.shape).toEqual([10]);
    expect(flat(vec).slice(0, 4)).toEqual([1, 2, 3, 4]);
    utils.vectorToParameters(ng.arange(10, undefined, 1, { dtype: 'float64' }), [a, b]);
    expect(a.toArray()).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(b.toArray()).toEqual([
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(base.toArray()).toEqual([
      [4, 7],
      [5, 8],
      [6, 9],
    ]);
    expect(flat(utils.parametersToVector([a, b]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('parametersToVector is differentiable; vectorToParameters writes leaves without recording', () => {
    const w = ng.ones([2, 2], { requiresGrad: true, dtype: 'float64' });
    utils
      .parametersToVector([w])
      .mul(ng.tensor([1, 2, 3, 4], { dtype: 'float64' }))
      .sum()
      .backward();
    expect(flat(w.grad!)).toEqual([1, 2, 3, 4]);
    utils.vectorToParameters(ng.tensor([5, 6, 7, 8]), [w]);
    expect(flat(w)).toEqual([5, 6, 7, 8]);
    expect(w.isLeaf).toBe(true);
  });

  it('refuses a vector of the wrong size', () => {
    const w = ng.ones([2, 2]);
    expectNodegradError(
      () => utils.vectorToParameters(ng.zeros([3]), [w]),
      'ERR_NODEGRAD_SHAPE',
      'vectorToParameters',
      '4 elements',
    );
    expectNodegradError(() => utils.parametersToVector([]), 'ERR_NODEGRAD_ARGUMENT', 'parametersToVector');
  });
});
