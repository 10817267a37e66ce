// Bad input is refused with a NodegradError that names the op, the offending value and what was
// expected, where it used to be coerced into something valid-looking.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

describe('indexSelect validates every index (PyTorch refuses negatives too)', () => {
  const x = ng.tensor([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  it.each([
    ['NaN', [0, NaN], 'index NaN at position 1'],
    ['2**32 + 2 (wraps to 2 as int32)', [2 ** 32 + 2], 'index 4294967298 at position 0'],
    ['-0.9 (truncates to 0)', [-0.9], 'index -0.9 at position 0'],
    ['1.5', [1, 1.5], 'index 1.5 at position 1'],
    ['-1', [-1], 'index -1 at position 0'],
    ['3 (past the end)', [2, 3], 'index 3 at position 1'],
  ])('number list with %s', (_name, index, fragment) => {
    expectNodegradError(
      () => x.indexSelect(0, index),
      'ERR_NODEGRAD_ARGUMENT',
      'indexSelect:',
      fragment,
      '[0, 3)',
      '[3, 2]',
    );
  });

  it('int32 index tensor out of range, along dim 1', () => {
    const index = ng.tensor([0, 2], { dtype: 'int32' });
    expectNodegradError(
      () => x.indexSelect(1, index),
      'ERR_NODEGRAD_ARGUMENT',
      'indexSelect:',
      'index 2 at position 1',
      '[0, 2)',
      'dim 1',
    );
    expectNodegradError(
      () => x.indexSelect(-1, ng.tensor([-1], { dtype: 'int32' })),
      'ERR_NODEGRAD_ARGUMENT',
      'indexSelect:',
      'index -1',
    );
  });

  it('valid indices, -0 included, still select', () => {
    expect(x.indexSelect(0, [2, -0, 2]).toArray()).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
  });
});

describe('shapes are integers >= 0, with -1 only where PyTorch takes it', () => {
  it('creation functions name themselves', () => {
    expectNodegradError(() => ng.zeros([2, -1]), 'ERR_NODEGRAD_SHAPE', 'zeros:', 'size at dim 1', 'got -1');
    expectNodegradError(() => ng.ones([1.5]), 'ERR_NODEGRAD_SHAPE', 'ones:', 'got 1.5');
    expectNodegradError(() => ng.full([NaN], 1), 'ERR_NODEGRAD_SHAPE', 'full:', 'got NaN');
    expectNodegradError(() => ng.rand([2, 0.5]), 'ERR_NODEGRAD_SHAPE', 'rand:');
    expectNodegradError(() => ng.randn([-3]), 'ERR_NODEGRAD_SHAPE', 'randn:');
    expectNodegradError(() => ng.eye(2.5), 'ERR_NODEGRAD_SHAPE', 'eye:', 'got 2.5');
    expectNodegradError(
      () => ng.tensor(new Float32Array(4), { shape: [-2, -2] }),
      'ERR_NODEGRAD_SHAPE',
      'tensor:',
      'got -2',
    );
    expectNodegradError(() => ng.arange(NaN), 'ERR_NODEGRAD_ARGUMENT', 'arange:', 'finite');
  });

  it('reshape and view take one -1 to infer, nothing else negative or fractional', () => {
    const x = ng.zeros([2, 3]);
    expect(x.reshape([3, -1]).shape).toEqual([3, 2]);
    expectNodegradError(() => x.reshape([-2, -3]), 'ERR_NODEGRAD_SHAPE', 'reshape:', 'got -2', 'or -1 to infer');
    expectNodegradError(() => x.view([1.5, 4]), 'ERR_NODEGRAD_SHAPE', 'view:', 'got 1.5');
    expectNodegradError(() => x.reshape([-1, -1]), 'ERR_NODEGRAD_SHAPE', 'reshape:', 'only one dimension can be -1');
  });

  it('expand takes -1 to keep a size, and nothing else negative', () => {
    const x = ng.ones([1, 3]);
    expect(x.expand([2, -1]).shape).toEqual([2, 3]);
    expectNodegradError(() => x.expand([-5, 3]), 'ERR_NODEGRAD_SHAPE', 'expand:', 'got -5', 'or -1 to keep');
    expectNodegradError(() => x.expand([4, 2.5]), 'ERR_NODEGRAD_SHAPE', 'expand:', 'got 2.5');
    expectNodegradError(() => x.expand([-1, 1, 3]), 'ERR_NODEGRAD_SHAPE', 'expand:', 'new leading dim');
  });
});

describe('int32 values must fit (PyTorch raises an overflow error)', () => {
  it.each([
    ['3e9', [3e9], 'value 3000000000 at index 0'],
    ['-2**31 - 1', [1, -(2 ** 31) - 1], 'value -2147483649 at index 1'],
    ['a fraction', [1.5], 'value 1.5'],
    ['NaN', [NaN], 'value NaN'],
  ])('tensor() refuses %s', (_name, values, fragment) => {
    expectNodegradError(
      () => ng.tensor(values, { dtype: 'int32' }),
      'ERR_NODEGRAD_DTYPE',
      'tensor:',
      fragment,
      'int32',
    );
  });

  it('refuses it from a float typed array and from full()', () => {
    expectNodegradError(
      () => ng.tensor(Float64Array.of(0, 2 ** 31), { dtype: 'int32' }),
      'ERR_NODEGRAD_DTYPE',
      'tensor:',
      'value 2147483648 at index 1',
    );
    expectNodegradError(
      () => ng.full([2], 1e10, { dtype: 'int32' }),
      'ERR_NODEGRAD_DTYPE',
      'full:',
      'value 10000000000',
    );
  });

  it('keeps the extremes of int32', () => {
    expect(Array.from(ng.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: 'int32' }).data())).toEqual([
      -(2 ** 31),
      2 ** 31 - 1,
    ]);
  });
});

describe('setRngState validates the state', () => {
  it('refuses a wrong length or an all-zero state, and keeps the old state', () => {
    ng.manualSeed(5);
    const expected = ng.rand([3]).toArray();
    ng.manualSeed(5);
    expectNodegradError(
      () => ng.setRngState(new Uint32Array(1)),
      'ERR_NODEGRAD_ARGUMENT',
      'setRngState:',
      'length 4',
      'length 1',
    );
    expectNodegradError(() => ng.setRngState(new Uint32Array(4)), 'ERR_NODEGRAD_ARGUMENT', 'setRngState:', 'all-zero');
    expect(ng.rand([3]).toArray()).toEqual(expected);
  });

  it('restores a state from getRngState', () => {
    const saved = ng.getRngState();
    const first = ng.rand([4]).toArray();
    ng.setRngState(saved);
    expect(ng.rand([4]).toArray()).toEqual(first);
  });
});
