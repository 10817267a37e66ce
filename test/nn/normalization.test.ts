// LayerNorm, RMSNorm, GroupNorm and InstanceNorm: PyTorch goldens (forward, input/weight/bias
// gradients) on both backends and dtypes, float64 gradchecks, native-vs-reference kernel parity,
// state-dict keys and reprs, and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend, FloatArray } from '../../lib/backend/types.js';
import { goldenCases } from '../fixtures.js';
import { expectClose, expectNodegradError, flat, randomArray, randomTensor } from '../helpers.js';
import { checkNormCase, type NormForward } from './norm-goldens.js';

const F = ng.nn.functional;
const opt = (c: { options: Record<string, unknown> }, key: string) => c.options[key] as number | undefined;

const forwards: Record<string, NormForward> = {
  layerNorm: (c, leaf, has) =>
    F.layerNorm(
      leaf('x'),
      c.options.normalizedShape as number[],
      has('weight') ? leaf('weight') : null,
      has('bias') ? leaf('bias') : null,
      opt(c, 'eps'),
    ),
  rmsNorm: (c, leaf, has) =>
    F.rmsNorm(leaf('x'), c.options.normalizedShape as number[], has('weight') ? leaf('weight') : null, opt(c, 'eps')),
  groupNorm: (c, leaf, has) =>
    F.groupNorm(
      leaf('x'),
      c.options.numGroups as number,
      has('weight') ? leaf('weight') : null,
      has('bias') ? leaf('bias') : null,
      opt(c, 'eps'),
    ),
  instanceNorm: (c, leaf, has) =>
    F.instanceNorm(leaf('x'), {
      weight: has('weight') ? leaf('weight') : null,
      bias: has('bias') ? leaf('bias') : null,
      eps: opt(c, 'eps'),
    }),
};

const all = goldenCases('norm.safetensors');
const cases = all.filter((c) => c.kind in forwards);
const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('normalization matches PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it('covers every kind with both shapes', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(Object.keys(forwards)));
    for (const kind of Object.keys(forwards)) {
      const shapes = cases.filter((c) => c.kind === kind).map((c) => c.t.x.shape.join('x'));
      expect(new Set(shapes)).toEqual(new Set(['2x3x5', '4x6x3x3']));
    }
  });

  it.each(cases.flatMap((c) => (['float64', 'float32'] as const).map((d) => [`${c.name} ${d}`, c, d] as const)))(
    '%s',
    (_n, c, dtype) => {
      checkNormCase(c, forwards[c.kind], dtype);
    },
  );

  it.each(all.filter((c) => c.kind === 'instanceNormModule').map((c) => [c.name, c] as const))(
    '%s: running statistics after a training step, then eval mode',
    (_n, c) => {
      const x = c.t.x;
      const layer =
        x.ndim === 3
          ? new ng.nn.InstanceNorm1d(x.shape[1], {
              momentum: 0.3,
              affine: true,
              trackRunningStats: true,
              dtype: 'float64',
            })
          : new ng.nn.InstanceNorm2d(x.shape[1], {
              momentum: 0.3,
              affine: true,
              trackRunningStats: true,
              dtype: 'float64',
            });
      expectClose(flat(layer.forward(x)), flat(c.t.out), 1e-9, 1e-10);
      expectClose(flat(layer.running_mean ?? ng.zeros([0])), flat(c.t.running_mean), 1e-9, 1e-10);
      expectClose(flat(layer.running_var ?? ng.zeros([0])), flat(c.t.running_var), 1e-9, 1e-10);
      expect(layer.num_batches_tracked?.item()).toBe(1);
      layer.eval();
      expectClose(flat(layer.forward(x)), flat(c.t.out_eval), 1e-9, 1e-10);
    },
  );
});

describe('normalization gradcheck (float64)', () => {
  const table: [string, (x: ng.Tensor, w: ng.Tensor, b: ng.Tensor) => ng.Tensor, number[], number[]][] = [
    ['layerNorm [2,3,5] over [5]', (x, w, b) => F.layerNorm(x, [5], w, b, 1e-3), [2, 3, 5], [5]],
    ['layerNorm [4,6,3,3] over [6,3,3]', (x, w, b) => F.layerNorm(x, [6, 3, 3], w, b), [4, 6, 3, 3], [6, 3, 3]],
    ['rmsNorm [2,3,5] over [3,5]', (x, w) => F.rmsNorm(x, [3, 5], w, 1e-3), [2, 3, 5], [3, 5]],
    ['rmsNorm [4,6,3,3] over [3]', (x, w) => F.rmsNorm(x, [3], w), [4, 6, 3, 3], [3]],
    ['groupNorm [4,6,3,3], 2 groups', (x, w, b) => F.groupNorm(x, 2, w, b, 1e-3), [4, 6, 3, 3], [6]],
    ['groupNorm [2,3,5], 3 groups', (x, w, b) => F.groupNorm(x, 3, w, b), [2, 3, 5], [3]],
    ['instanceNorm [2,3,5]', (x, w, b) => F.instanceNorm(x, { weight: w, bias: b }), [2, 3, 5], [3]],
    ['instanceNorm [4,6,3,3]', (x, w, b) => F.instanceNorm(x, { weight: w, bias: b, eps: 1e-3 }), [4, 6, 3, 3], [6]],
  ];
  it.each(table)('%s', (_n, fn, xShape, pShape) => {
    const inputs = [randomTensor(xShape, 1, 'float64', true), randomTensor(pShape, 2, 'float64', true)];
    inputs.push(randomTensor(pShape, 3, 'float64', true));
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });

  it('layerNorm without affine, and with only the input requiring grad', () => {
    expect(ng.gradcheck((x) => F.layerNorm(x, [5]), [randomTensor([2, 3, 5], 4, 'float64', true)])).toBe(true);
    const w = randomTensor([5], 5);
    expect(ng.gradcheck((x) => F.layerNorm(x, [5], w, w), [randomTensor([2, 3, 5], 6, 'float64', true)])).toBe(true);
  });
});

describe('layerNorm kernels: native against the reference', () => {
  const native = ng.backend.getBackend();
  const reference = ng.backend.referenceBackend;
  it.each([
    ['float32', false],
    ['float64', false],
    ['float32', true],
    ['float64', true],
  ] as const)('%s, rms %s: forward and backward agree with NaN-poisoned outputs', (kind, rms) => {
    const [rows, cols] = [37, 129];
    const array = (n: number, seed: number) => randomArray(n, seed, kind);
    const poisoned = (n: number): FloatArray =>
      (kind === 'float32' ? new Float32Array(n) : new Float64Array(n)).fill(NaN);
    const p = { rows, cols, eps: 1e-5, rms };
    const x = array(rows * cols, 1);
    const w = array(cols, 2);
    const b = array(cols, 3);
    const g = array(rows * cols, 4);
    const results = [native, reference].map((be) => {
      const out = poisoned(rows * cols);
      const mean = rms ? null : poisoned(rows);
      const rstd = poisoned(rows);
      be.layerNormForward(p, x, w, rms ? null : b, out, mean, rstd);
      const [gx, gw, gb] = [poisoned(rows * cols), poisoned(cols), poisoned(cols)];
      be.layerNormBackward(p, x, g, w, mean, rstd, gx, gw, gb);
      return [out, rstd, gx, gw, gb];
    });
    const tol = kind === 'float32' ? 1e-5 : 1e-11;
    results[0].forEach((a, i) => {
      expectClose(a, results[1][i], tol, tol);
    });
  });

  it('refuses bad buffers and parameters at the native boundary', () => {
    const x = new Float32Array(20);
    const p = { rows: 4, cols: 5, eps: 1e-5, rms: false };
    const refused = (fn: () => void, fragment: string) => {
      expect(fn).toThrow(expect.objectContaining({ code: 'ERR_NODEGRAD_NATIVE' }) as Error);
      expect(fn).toThrow(fragment);
    };
    refused(() => native.layerNormForward(p, new Float32Array(10), null, null, x, x, x), 'layerNormForward');
    refused(() => native.layerNormForward({ ...p, eps: -1 }, x, null, null, x, x, x), 'eps');
    refused(() => native.layerNormForward(p, x, null, null, x, null, x), 'mean');
    refused(() => native.layerNormForward(p, x, new Float64Array(5), null, x, x, x), 'weight');
    refused(() => native.layerNormBackward(p, x, x, null, x, new Float32Array(3), x, null, null), 'rstd');
  });
});

describe('normalization layers', () => {
  const keys = new Map(
    all.filter((c) => c.kind === 'moduleKeys').map((c) => [c.options.label as string, c.options] as const),
  );
  const layers: [string, () => ng.nn.Module][] = [
    ['LayerNorm(5)', () => new ng.nn.LayerNorm(5)],
    ['LayerNorm([3, 5], noaffine, eps)', () => new ng.nn.LayerNorm([3, 5], { eps: 1e-3, elementwiseAffine: false })],
    ['GroupNorm(2, 6)', () => new ng.nn.GroupNorm(2, 6)],
    ['GroupNorm(3, 6, noaffine)', () => new ng.nn.GroupNorm(3, 6, { affine: false })],
    ['InstanceNorm1d(3)', () => new ng.nn.InstanceNorm1d(3)],
    ['InstanceNorm2d(6, affine, track)', () => new ng.nn.InstanceNorm2d(6, { affine: true, trackRunningStats: true })],
  ];
  it.each(layers)('%s has PyTorch state-dict keys and repr', (label, make) => {
    const golden = keys.get(label);
    expect(golden).toBeDefined();
    const m = make();
    expect(Object.keys(m.stateDict())).toEqual(golden?.keys);
    expect(m.toString()).toBe(golden?.repr);
  });

  it('the LayerNorm @example runs as written', () => {
    const { nn } = ng;
    const x = ng.randn([2, 7, 512]);
    const norm = new nn.LayerNorm(512, { eps: 1e-6 });
    const y = norm.forward(x); // x: [batch, seq, 512]
    expect(y.shape).toEqual([2, 7, 512]);
    expect(Math.abs(y.index(1, 3).mean().item())).toBeLessThan(1e-5);
  });

  it('LayerNorm without bias and RMSNorm keep only weight', () => {
    expect(Object.keys(new ng.nn.LayerNorm(4, { bias: false }).stateDict())).toEqual(['weight']);
    expect(Object.keys(new ng.nn.RMSNorm([2, 4]).stateDict())).toEqual(['weight']);
    expect(Object.keys(new ng.nn.RMSNorm(4, { elementwiseAffine: false }).stateDict())).toEqual([]);
  });

  it('RMSNorm defaults eps to the machine epsilon of the input dtype', () => {
    // A zero row: rsqrt(eps) · 0 stays 0, while a row of c has output c / sqrt(c² + eps).
    const c = 1e-4;
    for (const [dtype, eps] of [
      ['float32', 2 ** -23],
      ['float64', 2 ** -52],
    ] as const) {
      const y = new ng.nn.RMSNorm(3, { dtype }).forward(ng.full([1, 3], c, { dtype }));
      expectClose(
        flat(y),
        [0, 1, 2].map(() => c / Math.sqrt(c * c + eps)),
        dtype === 'float32' ? 1e-6 : 1e-14,
        0,
      );
    }
  });

  it('LayerNorm trains: weight and bias receive gradients', () => {
    const layer = new ng.nn.LayerNorm([3, 5], { dtype: 'float64' });
    layer
      .forward(randomTensor([2, 3, 5], 7))
      .mul(randomTensor([2, 3, 5], 8))
      .sum()
      .backward();
    expect(layer.weight?.grad?.shape).toEqual([3, 5]);
    expect(flat(layer.bias?.grad ?? ng.zeros([1])).some((v) => v !== 0)).toBe(true);
  });

  it('InstanceNorm accepts unbatched input', () => {
    const x = randomTensor([3, 7], 9);
    const layer = new ng.nn.InstanceNorm1d(3, { dtype: 'float64' });
    expectClose(flat(layer.forward(x)), flat(layer.forward(x.unsqueeze(0))), 1e-12, 1e-12);
  });

  it('errors name the op and the shapes', () => {
    expectNodegradError(() => F.layerNorm(ng.zeros([2, 4]), [5]), 'ERR_NODEGRAD_SHAPE', 'layerNorm', '[5]', '[2, 4]');
    expectNodegradError(
      () => F.layerNorm(ng.zeros([2, 5]), [5], ng.ones([4])),
      'ERR_NODEGRAD_SHAPE',
      'layerNorm',
      'weight',
      '[4]',
    );
    expectNodegradError(() => F.groupNorm(ng.zeros([2, 6, 3]), 4), 'ERR_NODEGRAD_ARGUMENT', 'groupNorm', '6', '4');
    expectNodegradError(() => new ng.nn.GroupNorm(4, 6), 'ERR_NODEGRAD_ARGUMENT', 'GroupNorm', 'numGroups 4');
    expectNodegradError(
      () => new ng.nn.GroupNorm(2, 6).forward(ng.zeros([2, 4, 3])),
      'ERR_NODEGRAD_SHAPE',
      'GroupNorm',
    );
    expectNodegradError(() => F.rmsNorm(ng.zeros([2, 5], { dtype: 'int32' }), [5]), 'ERR_NODEGRAD_DTYPE', 'rmsNorm');
    expectNodegradError(() => F.instanceNorm(ng.zeros([2, 3, 1])), 'ERR_NODEGRAD_SHAPE', 'instanceNorm', '[2, 3, 1]');
    expectNodegradError(
      () => new ng.nn.InstanceNorm2d(3).forward(ng.zeros([2, 3])),
      'ERR_NODEGRAD_SHAPE',
      'InstanceNorm2d',
    );
  });
});
