// Every row of the unary op table (lib/ops/unary.ts) through one case list, the PyTorch fixture's
// cases (tools/golden/make_unary_goldens.py): values and gradients against PyTorch, float64
// gradcheck, native kernels against the reference on both dtypes and past the threading size, and
// the method, function, functional and module forms. A new row is tested by its golden row alone.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { unaryOpIds, unaryOpTable, unaryOps, type UnaryOpName } from '../../lib/ops/unary.js';
import type { FloatArray } from '../../lib/backend/types.js';
import { goldenCases } from '../fixtures.js';
import { expectClose, expectNodegradError, flat, randomArray } from '../helpers.js';

const cases = goldenCases('unary.safetensors');
const names = Object.keys(unaryOpTable) as UnaryOpName[];
const apply = (name: UnaryOpName, x: ng.Tensor, options: Record<string, unknown>): ng.Tensor =>
  (unaryOps[name] as (x: ng.Tensor, o?: unknown) => ng.Tensor)(x, options);
const native = ng.backend.getBackend();
const reference = ng.backend.referenceBackend;

it('numbers the table ops as native/unary_ops.h does', () => {
  const header = readFileSync(resolve(import.meta.dirname, '../../native/unary_ops.h'), 'utf8');
  const rows = [...header.matchAll(/^\s*X\((\w+),/gm)].map((m) => m[1]);
  expect(rows).toEqual(names.map((n) => n[0].toUpperCase() + n.slice(1)));
  names.forEach((n, i) => expect(unaryOpIds[n]).toBe(ng.backend.UnaryOp.FirstTableOp + i));
});

it('has PyTorch golden cases for every table row', () => {
  for (const name of names)
    expect(
      cases.some((c) => c.kind === name),
      `no golden case for ${name}`,
    ).toBe(true);
});

describe.each(cases.map((c) => [c.name, c] as const))('%s', (_label, c) => {
  const name = c.kind as UnaryOpName;

  it.each(['float64', 'float32'] as const)('matches PyTorch in %s (values, gradient, NaN and ±inf)', (dtype) => {
    const [rtol, atol] = dtype === 'float64' ? [1e-10, 1e-12] : [1e-4, 1e-5];
    const x = c.t.x.to(dtype).detach();
    x.requiresGrad = true;
    const out = apply(name, x, c.options);
    out.backward(c.t.gout.to(dtype));
    expectClose(flat(out), flat(c.t.out), rtol, atol);
    expectClose(flat(x.grad!), flat(c.t.grad_x), rtol, atol);
    expectClose(flat(apply(name, c.t.special.to(dtype), c.options)), flat(c.t.out_special.to(dtype)), rtol, atol);
  });

  it('passes float64 gradcheck on a transposed input', () => {
    const [lo, hi] = unaryOpTable[name].domain ?? [-3, 3];
    const data = randomArray(12, 17).map((v) => lo + ((v + 1) / 2) * (hi - lo));
    const x = ng.tensor(data, { shape: [4, 3], dtype: 'float64', requiresGrad: true });
    expect(ng.gradcheck((a) => apply(name, a.t(), c.options), [x])).toBe(true);
  });

  it.each(['float32', 'float64'] as const)('native forward and backward kernels match the reference (%s)', (dtype) => {
    const id = unaryOpIds[name];
    const [lo, hi] = unaryOpTable[name].domain ?? [-3, 3];
    const [p1, p2] = unaryOpTable[name].params?.(c.options as never) ?? [0, 0];
    const [rtol, atol] = dtype === 'float32' ? [1e-5, 1e-6] : [1e-12, 1e-14];
    for (const n of [1, 7, 129, 70000]) {
      const make = (seed: number) => randomArray(n, seed, dtype);
      const x = make(n + 3).map((v) => lo + ((v + 1) / 2) * (hi - lo));
      x.set(flat(c.t.special).slice(0, Math.min(n, c.t.special.numel)));
      const g = make(n + 5);
      const poisoned = () => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)).fill(NaN) as FloatArray;
      const [a, b] = [poisoned(), poisoned()];
      native.unary(id, x, a, n, p1, p2);
      reference.unary(id, x, b, n, p1, p2);
      expectClose(a, b, rtol, atol);
      const saved = unaryOpTable[name].saves === 'output' ? b : x;
      const [ga, gb] = [poisoned(), poisoned()];
      native.unaryBackward(id, saved, g, ga, n, p1, p2);
      reference.unaryBackward(id, saved, g, gb, n, p1, p2);
      expectClose(ga, gb, rtol, atol);
    }
  });

  it('has the same values as a method, as ng.<op>, as F.<op> and as a module', () => {
    const x = c.t.x;
    const expected = flat(apply(name, x, c.options));
    const method = (x as unknown as Record<string, (o: unknown) => ng.Tensor>)[name];
    expect(flat(method.call(x, c.options))).toEqual(expected);
    const fromNg = (ng as unknown as Record<string, (x: ng.Tensor, o: unknown) => ng.Tensor>)[name];
    expect(flat(fromNg(x, c.options))).toEqual(expected);
    expect((ng.nn.functional as unknown as Record<string, unknown>)[name]).toBe(unaryOps[name]);
    type ActivationClass = new (o: unknown) => ng.nn.UnaryActivation<UnaryOpName>;
    const modules = (Object.values(ng.nn) as unknown[]).filter(
      (m): m is ActivationClass => typeof m === 'function' && m.prototype instanceof ng.nn.UnaryActivation,
    );
    const module = modules.map((M) => new M(c.options)).find((m) => m.op === name);
    if (module) expect(flat(module.forward(x))).toEqual(expected);
  });
});

describe('sign', () => {
  it("gives PyTorch 1.13's values (0 for NaN and ±0) and a zero gradient", () => {
    const x = ng.tensor([NaN, -0, 0, -2, 3, -Infinity], { dtype: 'float64', requiresGrad: true });
    const y = x.sign();
    expect(flat(y)).toEqual([0, 0, 0, -1, 1, -1]);
    y.sum().backward();
    expect(flat(x.grad!)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(flat(ng.nn.functional.sign(ng.tensor([-4, 5], { dtype: 'int32' })))).toEqual([-1, 1]);
  });
});

describe('gelu', () => {
  it('takes typed options in every form', () => {
    const x = ng.tensor([-1, 0.5, 2]);
    const tanh = flat(ng.gelu(x, { approximate: 'tanh' }));
    expect(flat(x.gelu({ approximate: 'tanh' }))).toEqual(tanh);
    expect(flat(ng.nn.functional.gelu(x, { approximate: 'tanh' }))).toEqual(tanh);
    expect(flat(new ng.nn.GELU({ approximate: 'tanh' }).forward(x))).toEqual(tanh);
    expect(flat(new ng.nn.GELU().forward(x))).toEqual(flat(x.gelu()));
    expect(new ng.nn.GELU({ approximate: 'tanh' }).toString()).toContain('GELU(approximate=tanh)');
  });

  it('rejects hardtanh bounds in the wrong order', () => {
    expectNodegradError(
      () => ng.hardtanh(ng.tensor([1]), { minVal: 2, maxVal: 1 }),
      'ERR_NODEGRAD_ARGUMENT',
      'hardtanh',
      'minVal 2',
      'maxVal 1',
    );
  });

  it('rejects an unknown approximation', () => {
    expectNodegradError(
      () => ng.gelu(ng.tensor([1]), { approximate: 'fast' as 'tanh' }),
      'ERR_NODEGRAD_ARGUMENT',
      'gelu',
      "'fast'",
    );
  });
});
