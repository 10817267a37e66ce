import '../deterministic-memory.js';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { maskToIndices } from '../../lib/ops/compare.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';
import { randomTensor } from '../helpers.js';

/** Same dtype, shape and elements; NaN matches NaN, and 0 matches -0. */
function expectSame(actual: ng.Tensor, expected: ng.Tensor, what: string): void {
  expect(actual.dtype, `${what} dtype`).toBe(expected.dtype);
  expect([...actual.shape], `${what} shape`).toEqual([...expected.shape]);
  const [a, e] = [actual.data(), expected.data()];
  for (let i = 0; i < e.length; i++) {
    const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : a[i] === e[i];
    if (!ok) expect.fail(`${what} index ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

function expectClose(actual: ng.Tensor, expected: ng.Tensor, what: string): void {
  expect([...actual.shape], `${what} shape`).toEqual([...expected.shape]);
  const [a, e] = [actual.data(), expected.data()];
  for (let i = 0; i < e.length; i++) {
    const ok = Number.isNaN(e[i])
      ? Number.isNaN(a[i])
      : a[i] === e[i] || Math.abs(a[i] - e[i]) <= 1e-12 + 1e-10 * Math.abs(e[i]);
    if (!ok) expect.fail(`${what} index ${i}: got ${a[i]}, expected ${e[i]}`);
  }
}

type Binary = (a: ng.Tensor, b: ng.ScalarOrTensor) => ng.Tensor;
const binaries: Record<string, Binary> = {
  eq: ng.eq,
  ne: ng.ne,
  lt: ng.lt,
  le: ng.le,
  gt: ng.gt,
  ge: ng.ge,
  logicalAnd: ng.logicalAnd,
  logicalOr: ng.logicalOr,
  logicalXor: ng.logicalXor,
};
const unaries: Record<string, (x: ng.Tensor) => ng.Tensor> = {
  logicalNot: (x) => x.logicalNot(),
  isnan: (x) => x.isnan(),
  isfinite: (x) => x.isfinite(),
  isinf: (x) => x.isinf(),
};

/** Runs a case's op on its inputs; differentiable ones backpropagate sum(out * gout). */
function run(c: GoldenCase): void {
  const { t, options: o } = c;
  if (c.kind in binaries) {
    expectSame(binaries[c.kind](t.a, 'b' in t ? t.b : (o.other as number)), t.out, c.name);
  } else if (c.kind in unaries) {
    expectSame(unaries[c.kind](t.a), t.out, c.name);
  } else if (c.kind === 'any' || c.kind === 'all') {
    const dim = o.dim as number | undefined;
    expectSame(
      c.kind === 'any' ? t.a.any(dim, o.keepDim as boolean) : t.a.all(dim, o.keepDim as boolean),
      t.out,
      c.name,
    );
  } else if (c.kind === 'sumBool') {
    expectSame(t.a.sum(o.dim as number | undefined, o.keepDim as boolean), t.out, c.name);
  } else if (c.kind === 'cast') {
    expectSame(t.a.to(o.dtype as ng.DType), t.out, c.name);
  } else if (c.kind === 'nonzero') {
    expectSame(t.a.nonzero(), t.out, c.name);
  } else if (c.kind === 'nonzeroTuple') {
    const parts = t.a.nonzero({ asTuple: true });
    expect(parts.length).toBe(o.count);
    parts.forEach((p, d) => expectSame(p, t[`out${d}`], `${c.name} part ${d}`));
  } else if (c.kind === 'equal') {
    expect(ng.equal(t.a, t.b), c.name).toBe(o.out);
  } else {
    const inputs: Record<string, ng.Tensor> = {};
    for (const key of ['a', 'b', 'cond', 'mask']) {
      if (!(key in t)) continue;
      const x = t[key];
      inputs[key] =
        `grad_${key}` in t ? ng.tensor(x.data(), { shape: x.shape, dtype: x.dtype, requiresGrad: true }) : x;
    }
    const { a, b, cond, mask } = inputs;
    const out =
      c.kind === 'where'
        ? ng.where(cond, 'a' in inputs ? a : (o.a as number), 'b' in inputs ? b : (o.b as number))
        : c.kind === 'maskedFill'
          ? a.maskedFill(mask, Number(o.value))
          : a.maskedSelect(mask);
    if (!('gout' in t)) {
      expectSame(out, t.out, c.name);
      return;
    }
    expectClose(out, t.out, c.name);
    out.mul(t.gout).sum().backward();
    for (const key of ['a', 'b']) {
      if (`grad_${key}` in t) expectClose(inputs[key].grad!, t[`grad_${key}`], `${c.name} grad_${key}`);
    }
  }
}

describe('compare goldens (PyTorch)', () => {
  const cases = goldenCases('compare.safetensors');
  it('has cases for every op', () => {
    const kinds = new Set(cases.map((c) => c.kind));
    for (const k of [
      ...Object.keys(binaries),
      ...Object.keys(unaries),
      'any',
      'all',
      'where',
      'maskedFill',
      'maskedSelect',
      'nonzero',
      'equal',
      'cast',
    ]) {
      expect(kinds.has(k), k).toBe(true);
    }
  });
  for (const c of cases) it(c.name, () => run(c));
});

describe('bool dtype', () => {
  it('creates from booleans, converts back to booleans and prints them', () => {
    const b = ng.tensor([
      [true, false],
      [false, true],
    ]);
    expect(b.dtype).toBe('bool');
    expect(b.storage.data).toBeInstanceOf(Uint8Array);
    expect(b.toArray()).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(ng.tensor([1, 0, 2], { dtype: 'bool' }).toArray()).toEqual([true, false, true]);
    expect(ng.tensor([true, 2]).dtype).toBe('float32');
    expect(String(b)).toContain('[[true,false],[false,true]]');
    expect(String(b)).toContain('dtype=bool');
    expect(ng.full([2], 5, { dtype: 'bool' }).toArray()).toEqual([true, true]);
  });

  it('casts with bool(), int(), float(), double() and to()', () => {
    const x = ng.tensor([0, -0.5, NaN, 3]);
    expect(x.bool().toArray()).toEqual([false, true, true, true]);
    const b = ng.tensor([true, false, true]);
    expect(b.int().dtype).toBe('int32');
    expect([...b.int().data()]).toEqual([1, 0, 1]);
    expect(b.float().dtype).toBe('float32');
    expect(b.double().dtype).toBe('float64');
    expect(b.to('bool')).toBe(b);
  });

  it('counts 1 byte per element in ng.memory()', () => {
    const before = ng.memory().liveBytes;
    const b = ng.zeros([1000], { dtype: 'bool' });
    expect(ng.memory().liveBytes - before).toBe(1000);
    b.dispose();
    expect(ng.memory().liveBytes).toBe(before);
  });

  it('refuses requiresGrad and random samples', () => {
    expect(() => ng.tensor([true], { requiresGrad: true })).toThrow(/requiresGrad: .*got bool/);
    expect(() => ng.rand([2], { dtype: 'bool' })).toThrow(/rand: dtype bool is not supported/);
    expect(() => ng.randn([2], { dtype: 'bool' })).toThrow(/randn: dtype bool is not supported/);
  });

  it('supports views, reshape, cat, stack and indexSelect', () => {
    const b = ng.tensor([
      [true, false, true],
      [false, false, true],
    ]);
    expect(b.t().toArray()).toEqual([
      [true, false],
      [false, false],
      [true, true],
    ]);
    expect(b.t().reshape([6]).toArray()).toEqual([true, false, false, false, true, true]);
    expect(b.narrow(1, 1, 2).contiguous().toArray()).toEqual([
      [false, true],
      [false, true],
    ]);
    const c = ng.cat([b, b.narrow(0, 0, 1)], 0);
    expect(c.dtype).toBe('bool');
    expect(c.toArray()).toEqual([
      [true, false, true],
      [false, false, true],
      [true, false, true],
    ]);
    expect(ng.stack([b, b], 2).shape).toEqual([2, 3, 2]);
    expect(b.indexSelect(1, [2, 0]).toArray()).toEqual([
      [true, true],
      [true, false],
    ]);
    expect(ng.cat([b, ng.ones([1, 3], { dtype: 'int32' })]).dtype).toBe('int32');
  });

  it('sums to an int32 count (PyTorch gives int64)', () => {
    const b = ng.tensor([
      [true, false, true],
      [true, true, true],
    ]);
    expect(b.sum().dtype).toBe('int32');
    expect(b.sum().item()).toBe(5);
    expect([...b.sum(1).data()]).toEqual([2, 3]);
  });

  it('reads back through data(), item() and max/min', () => {
    const b = ng.tensor([
      [false, true],
      [false, false],
    ]);
    expect(b.data()).toBeInstanceOf(Uint8Array);
    expect(b.t().contiguous().data()).toEqual(Uint8Array.of(0, 0, 1, 0));
    expect(ng.tensor(true).item()).toBe(1);
    expect(b.max().dtype).toBe('bool');
    expect(b.max(1).toArray()).toEqual([true, false]);
    expect(b.min().toArray()).toBe(false);
  });

  it('promotes bool with bool to int32 in arithmetic (PyTorch keeps bool)', () => {
    const b = ng.tensor([true, false]);
    const s = b.add(b);
    expect(s.dtype).toBe('int32');
    expect(s.toArray()).toEqual([2, 0]);
  });

  it('refuses arithmetic on bool tensors with a clear error', () => {
    const b = ng.tensor([true, false]);
    expect(() => b.add(1)).toThrow(/add: arithmetic is not defined for bool/);
    expect(() => b.exp()).toThrow(/exp: not defined for bool tensors/);
  });

  it('saves and loads BOOL safetensors', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const nodePath = await import('node:path');
    const path = nodePath.join(mkdtempSync(nodePath.join(tmpdir(), 'ng-bool-')), 'm.safetensors');
    const b = ng
      .tensor([
        [true, false, true],
        [false, false, true],
      ])
      .t();
    ng.save({ mask: b }, path);
    const loaded = ng.load(path).mask;
    expect(loaded.dtype).toBe('bool');
    expect(loaded.toArray()).toEqual(b.toArray());
  });
});

describe('comparisons and masks', () => {
  it('compares with numbers on either side and broadcasts', () => {
    const x = ng.tensor([[1, 2, 3]]);
    expect(x.gt(2).toArray()).toEqual([[false, false, true]]);
    expect(ng.lt(2, x).toArray()).toEqual([[false, false, true]]);
    expect(x.eq(ng.tensor([[1], [3]])).toArray()).toEqual([
      [true, false, false],
      [false, false, true],
    ]);
    expect(
      ng
        .tensor([NaN])
        .ne(ng.tensor([NaN]))
        .toArray(),
    ).toEqual([true]);
    expect(x.equal(ng.tensor([[1, 2, 3]], { dtype: 'float64' }))).toBe(true);
  });

  it('any and all with dims', () => {
    const x = ng.tensor([
      [0, 1],
      [0, 0],
    ]);
    expect(x.any().item()).toBe(1);
    expect(x.all().item()).toBe(0);
    expect(x.any(1).toArray()).toEqual([true, false]);
    expect(x.any([0, 1], true).shape).toEqual([1, 1]);
  });

  it('nonzero gives [k, ndim] int32 and maskToIndices gives one index tensor per dim', () => {
    const m = ng.tensor([
      [false, true],
      [true, true],
    ]);
    const nz = m.nonzero();
    expect(nz.dtype).toBe('int32');
    expect(nz.toArray()).toEqual([
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const [rows, cols] = maskToIndices(m);
    expect(rows.toArray()).toEqual([0, 1, 1]);
    expect(cols.toArray()).toEqual([1, 0, 1]);
    expect(() => maskToIndices(ng.tensor([1, 0]))).toThrow(/maskToIndices: expected a bool mask/);
  });

  it('maskedFill_ writes in place through views and records a masked gradient', () => {
    const base = ng.zeros([2, 3]);
    const view = base.t();
    view.maskedFill_(ng.tensor([[true, false]]), 7);
    expect(base.toArray()).toEqual([
      [7, 7, 7],
      [0, 0, 0],
    ]);
    const x = randomTensor([2, 3], 3, 'float64', true);
    const y = x.mul(2);
    y.maskedFill_(ng.tensor([true, false, true]), 0);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([
      [0, 2, 0],
      [0, 2, 0],
    ]);
    expect(() => x.maskedFill_(ng.tensor([true, false, true]), 0)).toThrow(/maskedFill_: a leaf tensor/);
    const e = x.exp();
    e.maskedFill_(ng.tensor([true, false, true]), 0);
    expect(() => e.sum().backward()).toThrow(/maskedFill_: a tensor saved for backward by exp was modified in place/);
  });

  it('where and maskedFill take numbers and keep PyTorch dtypes', () => {
    const c = ng.tensor([true, false]);
    expect(ng.where(c, ng.tensor([1, 2], { dtype: 'int32' }), 0).dtype).toBe('int32');
    expect(ng.where(c, ng.tensor([1, 2], { dtype: 'int32' }), 0.5).dtype).toBe('float32');
    expect(ng.tensor([1, 2], { dtype: 'float64' }).where(c, 9).toArray()).toEqual([1, 9]);
    expect(ng.tensor([1, 2], { dtype: 'int32' }).maskedFill(c, 2.7).toArray()).toEqual([2, 2]);
  });
});

describe('gradcheck (float64)', () => {
  const cond = ng.tensor([
    [true, false, true],
    [false, true, true],
  ]);
  it('where in both branches with broadcasting', () => {
    const a = randomTensor([2, 3], 1, 'float64', true);
    const b = randomTensor([3], 2, 'float64', true);
    expect(ng.gradcheck((x, y) => ng.where(cond, x, y), [a, b])).toBe(true);
  });
  it('maskedFill in self and in a 0-d value tensor', () => {
    const a = randomTensor([2, 3], 4, 'float64', true);
    const v = randomTensor([], 5, 'float64', true);
    expect(ng.gradcheck((x, value) => x.maskedFill(ng.tensor([false, true, true]), value), [a, v])).toBe(true);
  });
  it('maskedSelect with a broadcast input', () => {
    const a = randomTensor([2, 1], 6, 'float64', true);
    expect(ng.gradcheck((x) => x.maskedSelect(cond), [a])).toBe(true);
  });
});

describe('errors name the op', () => {
  const x = ng.tensor([[1, 2, 3]]);
  const cases: [string, () => unknown, string, RegExp][] = [
    [
      'where float condition',
      () => ng.where(ng.tensor([1, 0, 1]), x, 0),
      'ERR_NODEGRAD_DTYPE',
      /^where: expected a bool condition tensor, got a float32/,
    ],
    [
      'maskedFill float mask',
      () => x.maskedFill(ng.tensor([1, 0, 1]), 0),
      'ERR_NODEGRAD_DTYPE',
      /^maskedFill: expected a bool mask/,
    ],
    [
      'maskedSelect int mask',
      () => x.maskedSelect(ng.tensor([1, 0, 1], { dtype: 'int32' })),
      'ERR_NODEGRAD_DTYPE',
      /^maskedSelect: expected a bool mask/,
    ],
    [
      'maskedFill mask larger than self',
      () => x.maskedFill(ng.tensor([[true], [false]]), 0),
      'ERR_NODEGRAD_SHAPE',
      /^maskedFill: mask of shape \[2, 1\] cannot be broadcast to the tensor's shape \[1, 3\]/,
    ],
    [
      'maskedFill non-scalar value',
      () => x.maskedFill(ng.tensor([true, false, true]), ng.tensor([1, 2])),
      'ERR_NODEGRAD_SHAPE',
      /^maskedFill: expected a number or a 0-d value tensor/,
    ],
    [
      'eq shape mismatch',
      () => x.eq(ng.tensor([1, 2])),
      'ERR_NODEGRAD_SHAPE',
      /^eq: shapes \[1, 3\] and \[2\] cannot be broadcast/,
    ],
    ['where shape mismatch', () => ng.where(ng.tensor([true, false]), x, 0), 'ERR_NODEGRAD_SHAPE', /^where: shapes/],
    [
      'maskedSelect shape mismatch',
      () => x.maskedSelect(ng.tensor([true, false])),
      'ERR_NODEGRAD_SHAPE',
      /^maskedSelect: shapes/,
    ],
    ['eq of two numbers', () => ng.eq(1, 2), 'ERR_NODEGRAD_ARGUMENT', /^eq: expected at least one Tensor/],
  ];
  for (const [name, fn, code, message] of cases) {
    it(name, () => {
      try {
        fn();
        expect.fail('expected an error');
      } catch (error) {
        expect(error).toBeInstanceOf(ng.NodegradError);
        expect((error as ng.NodegradError).code).toBe(code);
        expect((error as Error).message).toMatch(message);
      }
    });
  }
});

describe('native and reference backends agree on bool tensors', () => {
  const x = randomTensor([3, 4, 5], 11, 'float32');
  const ops: [string, () => ng.Tensor | ng.Tensor[]][] = [
    ['gt on a permuted view', () => x.permute([2, 0, 1]).gt(x.narrow(2, 1, 1).permute([2, 0, 1]))],
    ['bool transpose copy', () => x.gt(0).transpose(0, 2).contiguous()],
    ['bool expand copy', () => x.narrow(1, 0, 1).gt(0).expand([3, 4, 5]).contiguous()],
    ['cat and indexSelect of bools', () => ng.cat([x.gt(0), x.lt(0).narrow(1, 1, 2)], 1).indexSelect(2, [4, 0, 0])],
    ['where over a broadcast condition', () => ng.where(x.narrow(2, 0, 1).gt(0), x, x.neg())],
    ['maskedSelect', () => x.transpose(0, 1).maskedSelect(x.transpose(0, 1).gt(0.2))],
    ['nonzero of a view', () => x.transpose(1, 2).gt(0.5).nonzero()],
    ['any / all over a dim', () => [x.gt(0.9).any(1), x.gt(-0.9).all([0, 2], true)]],
  ];
  const native = ng.backend.getBackend();
  for (const [name, run] of ops) {
    it(name, () => {
      const results = (r: ng.Tensor | ng.Tensor[]): unknown[] =>
        (Array.isArray(r) ? r : [r]).map((t) => [t.dtype, t.shape, t.toArray()]);
      const fromNative = results(run());
      ng.backend.setBackend(ng.backend.referenceBackend);
      try {
        expect(results(run())).toEqual(fromNative);
      } finally {
        ng.backend.setBackend(native);
      }
    });
  }
});
