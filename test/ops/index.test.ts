// Indexing (x[...], x[...] = v) against PyTorch goldens (tools/golden/make_index_goldens.py),
// float64 gradchecks, view semantics and error messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { IndexSpec } from '../../lib/index.js';
import { maskSpecToIndices } from '../../lib/ops/slice.js';
import { goldenCases } from '../fixtures.js';
import { expectClose, expectNodegradError, flat, randomTensor } from '../helpers.js';

type JsonSpec = number | string | null | JsonSpec[];

/** Specs from the fixture's JSON; index lists become int32 tensors when asked, else stay arrays. */
function specsOf(json: JsonSpec[], asTensors: boolean): IndexSpec[] {
  return json.map((s) =>
    Array.isArray(s) && asTensors ? ng.tensor(s as ng.NestedArray, { dtype: 'int32' }) : (s as IndexSpec),
  );
}

const cases = goldenCases('indexing.safetensors');
const indexCases = cases.filter((c) => c.kind === 'index');
const putCases = cases.filter((c) => c.kind === 'put');

const runs = [
  ['native', false],
  ['native', true],
  ['reference', true],
] as const;

describe.each(runs)('index matches PyTorch (%s backend, index lists as tensors: %s)', (backendName, asTensors) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backendName === 'native' ? previous : ng.backend.referenceBackend));
  afterAll(() => ng.backend.setBackend(previous));

  it.each(indexCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const x = c.t.x.detach();
    x.requiresGrad = true;
    const out = x.index(...specsOf(c.options.specs as JsonSpec[], asTensors));
    expect(out.shape).toEqual(c.t.out.shape);
    expectClose(flat(out), flat(c.t.out), 0, 0);
    out.backward(c.t.gout);
    expectClose(flat(x.grad!), flat(c.t.grad_x), 1e-12, 1e-12);
  });

  it.each(putCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const x = c.t.x.detach();
    x.requiresGrad = true;
    const value = 'value' in c.t ? c.t.value.detach() : (c.options.value as number);
    if (value instanceof ng.Tensor) value.requiresGrad = true;
    const out = x.indexPut(specsOf(c.options.specs as JsonSpec[], asTensors), value, {
      accumulate: c.options.accumulate as boolean,
    });
    expect(out.shape).toEqual(c.t.out.shape);
    expectClose(flat(out), flat(c.t.out), 1e-12, 1e-12);
    out.backward(c.t.gout);
    expectClose(flat(x.grad!), flat(c.t.grad_x), 1e-12, 1e-12);
    if (value instanceof ng.Tensor) expectClose(flat(value.grad!), flat(c.t.grad_value), 1e-12, 1e-12);
  });
});

describe('index gradcheck (float64)', () => {
  const rows: [string, number[], IndexSpec[]][] = [
    ['column view', [4, 5], [':', -1]],
    ['steps and new axis', [6, 5], ['1::2', null, '...', '::2']],
    ['duplicate indices', [5, 3], [[0, 2, 0, -1]]],
    ['adjacent indices', [3, 4, 5], [':', [0, 2, 2], [1, -1, 0]]],
    ['separated indices', [3, 4, 5], [[0, 2], '1:', [1, 4]]],
  ];
  it.each(rows)('%s', (_name, shape, specs) => {
    expect(ng.gradcheck((x) => x.index(...specs), [randomTensor(shape, 3, 'float64', true)])).toBe(true);
  });

  const putRows: [string, number[], IndexSpec[], number[], boolean][] = [
    ['basic', [4, 5], [':', -1], [4], false],
    ['advanced, accumulate', [4, 3], [[0, 2, 0]], [3, 3], true],
    ['separated, broadcast value', [3, 4, 5], [[0, 2], ':', [1, 4]], [4], false],
  ];
  it.each(putRows)('indexPut_ %s', (_name, shape, specs, valueShape, accumulate) => {
    const x = randomTensor(shape, 4, 'float64', true);
    const value = randomTensor(valueShape, 5, 'float64', true);
    // mul(2) makes a non-leaf, which indexPut_ may write in place.
    expect(ng.gradcheck((a, v) => a.mul(2).indexPut_(specs, v, { accumulate }), [x, value])).toBe(true);
  });
});

describe('basic indexing returns views', () => {
  it('x[:, -1] shares storage: writes through the view reach x', () => {
    const x = ng.arange(12, undefined, 1, { dtype: 'float64' }).reshape([3, 4]);
    const column = x.index(':', -1);
    expect(column.storage).toBe(x.storage);
    expect(flat(column)).toEqual([3, 7, 11]);
    ng.nn.init.constant_(column, -1);
    expect(flat(x)).toEqual([0, 1, 2, -1, 4, 5, 6, -1, 8, 9, 10, -1]);
  });

  it('ng.slice is the same as the slice string, and advanced indexing copies', () => {
    const x = randomTensor([6, 4], 1);
    expect(flat(x.index(ng.slice(1, -1, 2)))).toEqual(flat(x.index('1:-1:2')));
    expect(flat(x.index(ng.slice(null, 2)))).toEqual(flat(x.index(':2')));
    const picked = x.index([0, 1]);
    expect(picked.storage).not.toBe(x.storage);
  });

  it('indexPut_ writes through a view into x and bumps the storage version', () => {
    const x = ng.zeros([3, 4]);
    const version = x.storage.version;
    const returned = x.indexPut_(['1:', -1], ng.tensor([5, 6]));
    expect(returned).toBe(x);
    expect(x.storage.version).toBeGreaterThan(version);
    expect(flat(x)).toEqual([0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 6]);
    x.indexPut_([[0, 0]], 1, { accumulate: true });
    expect(flat(x).slice(0, 4)).toEqual([2, 2, 2, 2]);
  });

  it.each(['float32', 'float64', 'int32'] as const)(
    'indexPut_ into a view at an offset changes only its elements (%s)',
    (dtype) => {
      const x = ng.zeros([4, 3], { dtype });
      const rows = x.narrow(0, 1, 2);
      rows.indexPut_(
        [[0, 0, 1]],
        ng.tensor([
          [1, 2, 3],
          [10, 20, 30],
          [5, 5, 5],
        ]),
        { accumulate: true },
      );
      rows.indexPut_([':', [2, 2]], 7);
      expect(flat(x)).toEqual([0, 0, 0, 11, 22, 7, 5, 5, 7, 0, 0, 0]);
    },
  );

  it('a 0-d int32 tensor index acts like a number (a view)', () => {
    const x = randomTensor([3, 4], 2);
    const row = x.index(ng.tensor(1, { dtype: 'int32' }));
    expect(row.shape).toEqual([4]);
    expect(row.storage).toBe(x.storage);
  });
});

describe('indexPut_ and autograd', () => {
  it('refuses a leaf that requires grad, but writes it inside noGrad', () => {
    const w = randomTensor([3], 1, 'float64', true);
    expectNodegradError(() => w.indexPut_([0], 1), 'ERR_NODEGRAD_AUTOGRAD', 'indexPut_', 'leaf');
    ng.noGrad(() => w.indexPut_([0], 1));
    expect(flat(w)[0]).toBe(1);
  });

  it('makes a saved tensor stale: backward through its user throws', () => {
    const x = randomTensor([4], 1, 'float64', true);
    const y = x.exp();
    const z = y.mul(y);
    y.indexPut_([0], 0);
    expectNodegradError(() => z.sum().backward(), 'ERR_NODEGRAD_AUTOGRAD', 'indexPut_');
  });

  it('gives a value that requires grad to a tensor that did not', () => {
    const x = ng.zeros([2, 3], { dtype: 'float64' });
    const v = randomTensor([3], 2, 'float64', true);
    x.indexPut_([1], v);
    expect(x.requiresGrad).toBe(true);
    x.sum().backward();
    expect(flat(v.grad!)).toEqual([1, 1, 1]);
  });
});

describe('indexing errors', () => {
  const x = randomTensor([3, 4], 1);
  it.each([
    ['number out of range', () => x.index(3), 'ERR_NODEGRAD_ARGUMENT', ['index', 'index 3', 'dim 0', 'size 3']],
    [
      'tensor index out of range',
      () => x.index(':', [0, -5]),
      'ERR_NODEGRAD_ARGUMENT',
      ['index', '-5', 'dim 1', 'size 4'],
    ],
    ['too many indices', () => x.index(0, 0, 0), 'ERR_NODEGRAD_ARGUMENT', ['index', 'too many indices', '[3, 4]']],
    ['two ellipses', () => x.index('...', '...'), 'ERR_NODEGRAD_ARGUMENT', ['index', 'single ellipsis']],
    ['float index tensor', () => x.index(ng.tensor([0, 1])), 'ERR_NODEGRAD_DTYPE', ['index', 'int32', 'float32']],
    ['negative step', () => x.index('::-1'), 'ERR_NODEGRAD_ARGUMENT', ['index', 'negative step', 'flip']],
    ['zero step', () => x.index(ng.slice(0, 2, 0)), 'ERR_NODEGRAD_ARGUMENT', ['index', 'step 0']],
    ['bad slice string', () => x.index('1:a'), 'ERR_NODEGRAD_ARGUMENT', ['index', "'1:a'"]],
    ['fractional index array', () => x.index([0.5]), 'ERR_NODEGRAD_ARGUMENT', ['index', 'array of integers', '0.5']],
    ['unbroadcastable indices', () => x.index([0, 1], [0, 1, 2]), 'ERR_NODEGRAD_SHAPE', ['index', '[2]', '[3]']],
    [
      'indexPut_ out of range',
      () => ng.zeros([3]).indexPut_([[7]], 1),
      'ERR_NODEGRAD_ARGUMENT',
      ['indexPut_', 'index 7', 'size 3'],
    ],
    [
      'indexPut_ value shape',
      () => ng.zeros([3, 4]).indexPut_([0], ng.ones([3])),
      'ERR_NODEGRAD_SHAPE',
      ['indexPut_', 'value tensor of shape [3]', 'indexing result of shape [4]'],
    ],
    [
      'indexPut_ specs not an array',
      () => ng.zeros([3]).indexPut_(0 as unknown as IndexSpec[], 1),
      'ERR_NODEGRAD_ARGUMENT',
      ['indexPut_', 'array of index specs'],
    ],
  ] as [string, () => unknown, string, string[]][])('%s', (_name, fn, code, fragments) => {
    expectNodegradError(fn, code, ...fragments);
  });
});

describe('bool masks index like PyTorch', () => {
  const x = randomTensor([3, 4], 41);
  const values = flat(x);

  it('x[mask] selects the elements where the mask is true, in row-major order', () => {
    const mask = x.gt(0);
    expect(flat(x.index(mask))).toEqual(values.filter((v) => v > 0));
  });

  it('a mask over one dim selects rows or columns, as an int32 index of its true positions would', () => {
    const rows = ng.tensor([true, false, true], { dtype: 'bool' });
    expect(x.index(rows).shape).toEqual([2, 4]);
    expect(flat(x.index(rows))).toEqual(flat(x.index([0, 2])));
    const cols = ng.tensor([false, true, true, false], { dtype: 'bool' });
    expect(flat(x.index(':', cols))).toEqual(flat(x.index(':', [1, 2])));
  });

  it('x[mask] = value writes only where the mask is true', () => {
    const y = x.clone();
    y.indexPut_([y.lt(0)], 0);
    expect(flat(y)).toEqual(values.map((v) => (v < 0 ? 0 : v)));
  });

  it('the gradient of x[mask] is the mask', () => {
    const leaf = x.clone().detach();
    leaf.requiresGrad = true;
    const mask = leaf.gt(0);
    leaf.index(mask).sum().backward();
    expect(flat(leaf.grad!)).toEqual(values.map((v) => (v > 0 ? 1 : 0)));
  });

  it('refuses a mask whose size differs from the dim it covers, and a float mask', () => {
    expectNodegradError(
      () => x.index(ng.tensor([true, false], { dtype: 'bool' })),
      'ERR_NODEGRAD_SHAPE',
      'index',
      'size 2',
      'size 3',
    );
    expectNodegradError(() => maskSpecToIndices(ng.zeros([2])), 'ERR_NODEGRAD_DTYPE', 'index', 'int32 or bool masks');
  });
});
