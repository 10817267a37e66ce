// Bad input is refused with a NodegradError that names the op, the offending value and what was
// expected, where it used to be coerced into something valid-looking.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectNodegradError } from '../helpers.js';

describe('indexSelect validates every index (PyTorch refuses negatives too)', () => {
  const x = ng.tensor([[1, 2], [3, 4], [5, 6]]);
  it.each([
    ['NaN', [0, NaN], 'index NaN at position 1'],
    ['2**32 + 2 (wraps to 2 as int32)', [2 ** 32 + 2], 'index 4294967298 at position 0'],
    ['-0.9 (truncates to 0)', [-0.9], 'index -0.9 at position 0'],
    ['1.5', [1, 1.5], 'index 1.5 at position 1'],
    ['-1', [-1], 'index -1 at position 0'],
    ['3 (past the end)', [2, 3], 'index 3 at position 1'],
  ])('number list with %s', (_name, index, fragment) => {
    expectNodegradError(() => x.indexSelect(0, index), 'ERR_NODEGRAD_ARGUMENT', 'indexSelect:', fragment, '[0, 3)', '[3, 2]');
  });

  it('int32 index tensor out of range, along dim 1', () => {
    const index = ng.tensor([0, 2], { dtype: 'int32' });
    expectNodegradError(() => x.indexSelect(1, index), 'ERR_NODEGRAD_ARGUMENT', 'indexSelect:', 'index 2 at position 1', '[0, 2)', 'dim 1');
    expectNodegradError(() => x.indexSelect(-1, ng.tensor([-1], { dtype: 'int32' })), 'ERR_NODEGRAD_ARGUMENT', 'indexSelect:', 'index -1');
  });

  it('valid indices, -0 included, still select', () => {
    expect(x.indexSelect(0, [2, -0, 2]).toArray()).toEqual([[5, 6], [1, 2], [5, 6]]);
  });
});
