// minimum/maximum, lerp, hypot, atan2, fmod, remainder: PyTorch goldens on both backends
// (broadcasting, ties, NaN, int32), float64 gradchecks, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend } from '../../lib/backend/types.js';
import { expectNodegradError, randomTensor } from '../helpers.js';
import { goldenCases } from '../fixtures.js';
import { checkMathCase, type Forward } from './math-goldens.js';

const forwards: Record<string, Forward> = {
  maximum: (_o, leaf) => ng.maximum(leaf('x'), leaf('y')),
  minimum: (_o, leaf) => leaf('x').minimum(leaf('y')),
  lerp: (o, leaf) => leaf('x').lerp(leaf('end'), o.weight === undefined ? leaf('weight') : (o.weight as number)),
  hypot: (_o, leaf) => ng.hypot(leaf('x'), leaf('y')),
  atan2: (_o, leaf) => leaf('x').atan2(leaf('y')),
  fmod: (o, leaf) => leaf('x').fmod(o.other === undefined ? leaf('y') : (o.other as number)),
  remainder: (o, leaf) => ng.remainder(leaf('x'), o.other === undefined ? leaf('y') : (o.other as number)),
};

const cases = goldenCases('math.safetensors').filter((c) => c.kind in forwards);
const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('binary math matches PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it('covers every kind', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(Object.keys(forwards)));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => checkMathCase(c, forwards));
});

/** Random values in [shift - 2, shift + 2), a leaf that requires grad. */
function apart(shape: number[], seed: number, shift: number): ng.Tensor {
  const t = randomTensor(shape, seed, 'float64').mul(2).add(shift);
  t.requiresGrad = true;
  return t;
}

type Row = [string, (...t: ng.Tensor[]) => ng.Tensor, ng.Tensor[]];
const rows: Row[] = [
  ['maximum broadcast', (a, b) => ng.maximum(a, b), [apart([3, 1], 1, 0), apart([4], 2, 0.01)]],
  ['minimum with a number', (a) => a.minimum(0.1), [apart([2, 3], 3, 0)]],
  [
    'lerp number weight',
    (a, b) => a.lerp(b, 0.3),
    [randomTensor([2, 3], 4, 'float64', true), randomTensor([3], 5, 'float64', true)],
  ],
  [
    'lerp tensor weight',
    (a, b, w) => ng.lerp(a, b, w),
    [
      randomTensor([2, 1], 6, 'float64', true),
      randomTensor([1, 3], 7, 'float64', true),
      randomTensor([2, 3], 8, 'float64', true),
    ],
  ],
  ['hypot', (a, b) => a.hypot(b), [apart([2, 3], 9, 3), randomTensor([3], 10, 'float64', true)]],
  ['atan2', (y, x) => ng.atan2(y, x), [randomTensor([2, 3], 11, 'float64', true), apart([2, 1], 12, 2.5)]],
  [
    'fmod',
    (a, b) => a.fmod(b),
    [apart([2, 3], 13, 0.3), ng.tensor([0.7, -0.9, 1.3], { dtype: 'float64', requiresGrad: true })],
  ],
  [
    'remainder',
    (a, b) => ng.remainder(a, b),
    [apart([2, 3], 14, 0.3), ng.tensor([[0.7], [-0.9]], { dtype: 'float64', requiresGrad: true })],
  ],
];

describe('binary math gradcheck (float64)', () => {
  it.each(rows)('%s', (_name, fn, inputs) => {
    expect(ng.gradcheck(fn, inputs)).toBe(true);
  });

  it('maximum splits the gradient in half on ties', () => {
    const a = ng.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const b = ng.tensor([1, 5, 0], { dtype: 'float64', requiresGrad: true });
    ng.maximum(a, b).sum().backward();
    expect(a.grad?.toArray()).toEqual([0.5, 0, 1]);
    expect(b.grad?.toArray()).toEqual([0.5, 1, 0]);
  });
});

describe('dtypes', () => {
  const int = (data: ng.NestedArray): ng.Tensor => ng.tensor(data, { dtype: 'int32' });

  it('int32 operands stay int32 for maximum, fmod and remainder; atan2 and hypot give float32', () => {
    expect(ng.maximum(int([1, 5]), 3).dtype).toBe('int32');
    expect(int([7, -7]).fmod(3).toArray()).toEqual([1, -1]);
    expect(int([7, -7]).remainder(3).toArray()).toEqual([1, 2]);
    expect(ng.atan2(int([1]), int([1])).dtype).toBe('float32');
    expect(ng.hypot(int([3]), 4).toArray()).toEqual([5]);
  });

  it('a fractional number makes an int32 maximum float32', () => {
    expect(ng.maximum(int([1, 5]), 2.5).toArray()).toEqual([2.5, 5]);
  });
});

describe('errors name the op', () => {
  it.each(['maximum', 'minimum', 'hypot', 'atan2', 'fmod', 'remainder'] as const)(
    '%s: shapes that do not broadcast',
    (op) => {
      expectNodegradError(() => ng[op](ng.zeros([2, 3]), ng.zeros([4])), 'ERR_NODEGRAD_SHAPE', `${op}:`);
    },
  );

  it('lerp: shapes that do not broadcast', () => {
    expectNodegradError(() => ng.lerp(ng.zeros([2, 3]), ng.zeros([4]), 0.5), 'ERR_NODEGRAD_SHAPE');
  });

  it.each(['fmod', 'remainder'] as const)('%s: integer division by zero', (op) => {
    expectNodegradError(
      () => ng[op](ng.tensor([1, 2], { dtype: 'int32' }), 0),
      'ERR_NODEGRAD_ARGUMENT',
      `${op}:`,
      'division by zero',
    );
  });

  it('two numbers', () => {
    expectNodegradError(() => ng.maximum(1, 2), 'ERR_NODEGRAD_ARGUMENT', 'maximum:');
  });
});
