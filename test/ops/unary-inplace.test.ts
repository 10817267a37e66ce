// The in-place form of every table-driven unary op (`x.sin_()`): the values of the out-of-place op,
// written through views without touching the elements outside them, recorded for backward on
// non-leaf tensors and refused on leaves that require grad.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { unaryOps, type UnaryOpName } from '../../lib/ops/unary.js';
import { expectNodegradError, flat } from '../helpers.js';

const names = Object.keys(unaryOps) as UnaryOpName[];
/** Values in (0.05, 0.9): inside every row's domain (logs, rsqrt, asin/acos, erfinv). */
const base = () =>
  ng.tensor(
    Array.from({ length: 24 }, (_, i) => 0.05 + (0.85 * ((i * 7) % 24)) / 24),
    { shape: [4, 6], dtype: 'float64' },
  );
type Method = (this: ng.Tensor) => ng.Tensor;
const call = (t: ng.Tensor, key: string) => (t as unknown as Record<string, Method>)[key].call(t);

describe.each(names)('%s_', (name) => {
  it('gives the out-of-place values on a transposed view and leaves the rest of the storage alone', () => {
    const x = base();
    const expected = flat(call(x.transpose(0, 1).narrow(0, 1, 3), name));
    const y = base();
    const view = y.transpose(0, 1).narrow(0, 1, 3);
    const version = y.storage.version;
    expect(call(view, `${name}_`)).toBe(view);
    expect(flat(view)).toEqual(expected);
    expect(y.storage.version).toBeGreaterThan(version);
    const untouched = flat(y.narrow(1, 0, 1)).concat(flat(y.narrow(1, 4, 2)));
    expect(untouched).toEqual(flat(base().narrow(1, 0, 1)).concat(flat(base().narrow(1, 4, 2))));
  });

  it('is recorded on a non-leaf tensor (same gradient as the out-of-place op) and refused on a leaf', () => {
    const leaf = base();
    leaf.requiresGrad = true;
    call(leaf.mul(1), `${name}_`).sum().backward();
    const inPlaceGrad = flat(leaf.grad!);
    const other = base();
    other.requiresGrad = true;
    call(other.mul(1), name).sum().backward();
    expect(inPlaceGrad).toEqual(flat(other.grad!));
    expectNodegradError(() => call(other, `${name}_`), 'ERR_NODEGRAD_AUTOGRAD', `${name}_`, 'leaf');
  });
});
