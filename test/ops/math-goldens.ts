// Checks one case of test/fixtures/math.safetensors (tools/golden/make_math_goldens.py): outputs,
// dtypes (int64 fixtures are int32 here) and float64 gradients of sum(out * gout).
import { expect } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat } from '../helpers.js';
import type { GoldenCase } from '../fixtures.js';

export type Leaf = (key: string) => ng.Tensor;
export type Forward = (o: Record<string, unknown>, leaf: Leaf) => ng.Tensor | ng.Tensor[];

const learnable = ['x', 'y', 'end', 'weight'];

export function checkMathCase(c: GoldenCase, forwards: Record<string, Forward>): void {
  const leaves: Record<string, ng.Tensor> = {};
  const leaf: Leaf = (key) => {
    const stored = c.t[key];
    const wantsGrad = learnable.includes(key) && `grad_${key}` in c.t;
    leaves[key] ??= wantsGrad
      ? ng.tensor(stored.data(), { shape: stored.shape, dtype: 'float64', requiresGrad: true })
      : stored;
    return leaves[key];
  };
  const result = forwards[c.kind](c.options, leaf);
  const outs = Array.isArray(result) ? result : [result];
  expect(outs.length).toBe(c.options.outputs);
  const expected = outs.length === 1 ? [c.t.out] : outs.map((_, i) => c.t[`out${i}`]);
  outs.forEach((o, i) => {
    expect(o.shape, `out${i} shape`).toEqual(expected[i].shape);
    expect(o.dtype, `out${i} dtype`).toBe(expected[i].dtype);
    expectClose(flat(o), flat(expected[i]), 1e-12, 1e-12);
  });
  const goutKeys = outs.length === 1 ? ['gout'] : outs.map((_, i) => `gout${i}`);
  if (goutKeys.some((k) => !(k in c.t))) return;
  const gouts = goutKeys.map((k) => c.t[k]);
  outs
    .map((o, i) => o.mul(gouts[i]).sum())
    .reduce((a, b) => a.add(b))
    .backward();
  for (const key of Object.keys(leaves)) {
    if (!(`grad_${key}` in c.t)) continue;
    const want = c.t[`grad_${key}`];
    const grad = leaves[key].grad ?? ng.zeros(leaves[key].shape, { dtype: 'float64' });
    expect(grad.shape, `grad_${key}`).toEqual(want.shape);
    expectClose(flat(grad), flat(want), 1e-10, 1e-12);
  }
}
