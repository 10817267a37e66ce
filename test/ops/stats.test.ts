// var/std, norm, prod, amax/amin/aminmax, int32 sums and the scans (cumsum, cumprod,
// logcumsumexp): PyTorch goldens on both backends, float64 gradchecks, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend } from '../../lib/backend/types.js';
import { expectNodegradError, randomTensor } from '../helpers.js';
import { goldenCases } from '../fixtures.js';
import { checkMathCase, type Forward } from './math-goldens.js';

type Dim = number | number[] | undefined;
const order = (p: unknown): ng.NormOrder | undefined =>
  p === 'inf' ? Infinity : p === '-inf' ? -Infinity : (p as ng.NormOrder | undefined);

const forwards: Record<string, Forward> = {
  var: (o, leaf) =>
    leaf('x').var(o.dim as Dim, { correction: o.correction as number | undefined, keepDim: o.keepDim as boolean }),
  std: (o, leaf) =>
    ng.std(leaf('x'), o.dim as Dim, { correction: o.correction as number | undefined, keepDim: o.keepDim as boolean }),
  norm: (o, leaf) => leaf('x').norm(order(o.p), o.dim as Dim, { keepDim: o.keepDim as boolean }),
  prod: (o, leaf) => leaf('x').prod(o.dim as number | undefined, { keepDim: o.keepDim as boolean }),
  sum: (o, leaf) => leaf('x').sum(o.dim as Dim, o.keepDim as boolean),
  amax: (o, leaf) => leaf('x').amax(o.dim as Dim, o.keepDim as boolean),
  amin: (o, leaf) => ng.amin(leaf('x'), o.dim as Dim, o.keepDim as boolean),
  aminmax: (o, leaf) => {
    const { min, max } = leaf('x').aminmax({ dim: o.dim as number | undefined });
    return [min, max];
  },
  cumsum: (o, leaf) => leaf('x').cumsum(o.dim as number),
  cumprod: (o, leaf) => ng.cumprod(leaf('x'), o.dim as number),
  logcumsumexp: (o, leaf) => leaf('x').logcumsumexp(o.dim as number),
};

const cases = goldenCases('math.safetensors').filter((c) => c.kind in forwards);
const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('reductions and scans match PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it('covers every kind', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(Object.keys(forwards)));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => checkMathCase(c, forwards));
});

/** Distinct values spaced apart, so amax/amin and |x| stay away from ties and kinks under eps. */
function spaced(shape: number[], seed: number): ng.Tensor {
  const n = shape.reduce((p, s) => p * s, 1);
  const values = Array.from({ length: n }, (_, i) => ((i * 7 + seed) % n) * 0.37 - n * 0.15 + 0.05);
  return ng.tensor(new Float64Array(values), { shape, dtype: 'float64', requiresGrad: true });
}

const withZeros = (): ng.Tensor =>
  ng.tensor(
    [
      [1.5, 0, 2, -3],
      [0, 2, 0, 4],
      [2, -0.5, 4, 1.25],
    ],
    { dtype: 'float64', requiresGrad: true },
  );

type Row = [string, (...t: ng.Tensor[]) => ng.Tensor, ng.Tensor[]];
const rows: Row[] = [
  ['var dims list', (x) => x.var([0, -1], { keepDim: true }), [randomTensor([2, 3, 2], 1, 'float64', true)]],
  ['var correction 0', (x) => ng.var(x, 1, { correction: 0 }), [randomTensor([3, 4], 2, 'float64', true)]],
  ['std', (x) => x.std(-1), [randomTensor([3, 4], 3, 'float64', true)]],
  ['std all', (x) => x.std(), [randomTensor([2, 3], 4, 'float64', true)]],
  ...([2, 1, 3, 0.5, 1.5, -1, 0, Infinity, -Infinity, 'fro'] as const).map((p): Row => [
    `norm p=${String(p)}`,
    (x) => x.norm(p, 1),
    [spaced([3, 4], 5)],
  ]),
  ['norm keepDim', (x) => x.norm(2, [0, 2], { keepDim: true }), [randomTensor([2, 2, 3], 6, 'float64', true)]],
  ['prod all', (x) => x.prod(), [randomTensor([2, 3], 7, 'float64', true)]],
  ['prod dim with zeros', (x) => x.prod(1), [withZeros()]],
  ['prod dim 0 keepDim with zeros', (x) => x.prod(0, { keepDim: true }), [withZeros()]],
  ['amax', (x) => x.amax([0, 1]), [spaced([2, 3, 2], 8)]],
  ['amin keepDim', (x) => x.amin(-1, true), [spaced([3, 4], 9)]],
  ['cumsum', (x) => x.cumsum(-1), [randomTensor([3, 4], 10, 'float64', true)]],
  ['cumsum dim 0', (x) => ng.cumsum(x, 0), [randomTensor([3, 2, 2], 11, 'float64', true)]],
  ['cumprod', (x) => x.cumprod(1), [randomTensor([3, 4], 12, 'float64', true)]],
  ['cumprod with zeros', (x) => x.cumprod(1), [withZeros()]],
  ['logcumsumexp', (x) => x.logcumsumexp(0), [randomTensor([4, 3], 13, 'float64', true)]],
];

describe('reductions and scans gradcheck (float64)', () => {
  it.each(rows)('%s', (_name, fn, inputs) => {
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });
});

describe('int32 reductions stay integer', () => {
  const int = (data: ng.NestedArray): ng.Tensor => ng.tensor(data, { dtype: 'int32' });

  it('sum, prod, cumsum, cumprod, amax of int32 give exact int32 results past 2^24', () => {
    const big = int([16777217, 1, 3]);
    expect(big.sum().dtype).toBe('int32');
    expect(big.sum().item()).toBe(16777221);
    expect(big.cumsum(0).toArray()).toEqual([16777217, 16777218, 16777221]);
    expect(int([4097, 4097]).prod().item()).toBe(16785409);
    expect(int([4097, 4097]).cumprod(0).toArray()).toEqual([4097, 16785409]);
    expect(int([16777217, 16777216]).amax().item()).toBe(16777217);
  });

  it('wraps around at 2^32 (int32 arithmetic, where PyTorch would give int64)', () => {
    expect(int([2147483647, 1]).sum().item()).toBe(-2147483648);
    expect(int([65536, 65536]).prod().item()).toBe(0);
  });

  it('mean of int32 still computes in float32', () => {
    const m = int([[1, 2]]).mean(0);
    expect(m.dtype).toBe('float32');
    expect(m.toArray()).toEqual([1, 2]);
  });
});

describe('errors name the op', () => {
  const x = randomTensor([2, 3], 15);

  it.each([
    ['var', () => x.var(2)],
    ['std', () => x.std([0, -3])],
    ['norm', () => x.norm(2, 5)],
    ['prod', () => x.prod(-3)],
    ['amax', () => x.amax(2)],
    ['amin', () => x.amin([0, 0])],
    ['aminmax', () => x.aminmax({ dim: 4 })],
    ['cumsum', () => x.cumsum(2)],
    ['cumprod', () => x.cumprod(-3)],
    ['logcumsumexp', () => x.logcumsumexp(7)],
  ])('%s: dim out of range or repeated', (op, fn) => {
    expectNodegradError(fn, 'ERR_NODEGRAD_DIM', `${op}:`);
  });

  it('norm: bad p', () => {
    expectNodegradError(() => x.norm('nuc' as ng.NormOrder), 'ERR_NODEGRAD_ARGUMENT', 'norm:', "'nuc'", "'fro'");
    expectNodegradError(() => x.norm(NaN), 'ERR_NODEGRAD_ARGUMENT', 'norm:', 'NaN');
    expectNodegradError(
      () => randomTensor([2, 2, 2], 1).norm('fro', [0, 1, 2]),
      'ERR_NODEGRAD_ARGUMENT',
      'norm:',
      "'fro'",
      '[0, 1, 2]',
    );
  });

  it('norm: inf norm of an empty reduction', () => {
    expectNodegradError(() => ng.zeros([0, 3]).norm(Infinity, 0), 'ERR_NODEGRAD_SHAPE', 'norm:', '[0, 3]');
  });

  it('amax/amin: empty dims', () => {
    expectNodegradError(() => ng.zeros([2, 0]).amax(1), 'ERR_NODEGRAD_SHAPE', 'amax:', 'dim 1 of size 0');
    expectNodegradError(() => ng.zeros([0]).amin(), 'ERR_NODEGRAD_SHAPE', 'amin:', 'empty tensor');
    expectNodegradError(
      () => ng.zeros([3, 0]).aminmax({ dim: 1 }),
      'ERR_NODEGRAD_SHAPE',
      'aminmax:',
      'dim 1 of size 0',
    );
  });

  it('var: correction must be a finite number', () => {
    expectNodegradError(() => x.var(0, { correction: Infinity }), 'ERR_NODEGRAD_ARGUMENT', 'var:', 'correction');
  });
});
