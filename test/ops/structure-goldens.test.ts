// Structure ops against PyTorch (tools/golden/make_structure_goldens.py): outputs, sort/topk indices
// and float64 gradients of sum(out * gout), on both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend } from '../../lib/backend/types.js';
import { expectClose, flat } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

type Leaf = (key: string) => ng.Tensor;
type Result = ng.Tensor | ng.Tensor[] | ng.ValuesIndices;
type Forward = (o: Record<string, unknown>, leaf: Leaf) => Result;

const forwards: Record<string, Forward> = {
  split: (o, leaf) => ng.split(leaf('x'), o.size as number | number[], o.dim as number),
  chunk: (o, leaf) => leaf('x').chunk(o.chunks as number, o.dim as number),
  unbind: (o, leaf) => leaf('x').unbind(o.dim as number),
  tril: (o, leaf) => leaf('x').tril(o.diagonal as number),
  triu: (o, leaf) => ng.triu(leaf('x'), o.diagonal as number),
  gather: (o, leaf) => leaf('x').gather(o.dim as number, leaf('index')),
  scatter: (o, leaf) =>
    ng.scatter(leaf('x'), o.dim as number, leaf('index'), o.value === undefined ? leaf('src') : (o.value as number)),
  scatterAdd: (o, leaf) => leaf('x').scatterAdd(o.dim as number, leaf('index'), leaf('src')),
  indexAdd: (o, leaf) =>
    leaf('x').indexAdd(o.dim as number, leaf('index'), leaf('source'), { alpha: o.alpha as number | undefined }),
  flip: (o, leaf) => leaf('x').flip(o.dims as number[]),
  roll: (o, leaf) => leaf('x').roll(o.shifts as number | number[], o.dims as number[] | undefined),
  repeat: (o, leaf) => leaf('x').repeat(...(o.sizes as number[])),
  repeatInterleave: (o, leaf) => {
    const repeats = typeof o.repeats === 'number' ? o.repeats : ng.tensor(o.repeats as number[], { dtype: 'int32' });
    return leaf('x').repeatInterleave(repeats, { dim: o.dim as number | undefined });
  },
  sort: (o, leaf) => leaf('x').sort({ dim: o.dim as number, descending: o.descending as boolean, stable: true }),
  topk: (o, leaf) => leaf('x').topk(o.k as number, { dim: o.dim as number, largest: o.largest as boolean }),
  clamp: (_o, leaf) => ng.clamp(leaf('x'), leaf('min'), leaf('max')),
};

const learnable = ['x', 'src', 'source', 'min', 'max'];

function check(c: GoldenCase): void {
  const leaves: Record<string, ng.Tensor> = {};
  const leaf: Leaf = (key) => {
    if (!(key in c.t)) return undefined as unknown as ng.Tensor;
    const stored = c.t[key];
    const wantsGrad = learnable.includes(key) && `grad_${key}` in c.t;
    leaves[key] ??= wantsGrad
      ? ng.tensor(stored.data(), { shape: stored.shape, dtype: 'float64', requiresGrad: true })
      : stored;
    return leaves[key];
  };
  const result = forwards[c.kind](c.options, leaf);
  let outs: ng.Tensor[];
  let gouts: ng.Tensor[];
  if (result instanceof ng.Tensor) {
    outs = [result];
    gouts = [c.t.gout];
    expect(result.shape).toEqual(c.t.out.shape);
    expectClose(flat(result), flat(c.t.out), 1e-12, 1e-12);
  } else if (Array.isArray(result)) {
    expect(result.length).toBe(c.options.outputs);
    outs = result;
    gouts = result.map((_, i) => c.t[`gout${i}`]);
    result.forEach((piece, i) => {
      expect(piece.shape).toEqual(c.t[`out${i}`].shape);
      expectClose(flat(piece), flat(c.t[`out${i}`]), 1e-12, 1e-12);
    });
  } else {
    outs = [result.values];
    gouts = [c.t.gout];
    expect(result.values.shape).toEqual(c.t.values.shape);
    expectClose(flat(result.values), flat(c.t.values), 1e-12, 1e-12);
    expect(result.indices.dtype).toBe('int32');
    expect(flat(result.indices)).toEqual(flat(c.t.indices));
  }
  const withGrad = outs.map((o, i) => [o, gouts[i]] as const).filter(([o]) => o.requiresGrad);
  if (withGrad.length === 0) return;
  withGrad
    .map(([o, g]) => o.mul(g).sum())
    .reduce((a, b) => a.add(b))
    .backward();
  for (const key of Object.keys(leaves)) {
    if (!(`grad_${key}` in c.t) || !leaves[key].requiresGrad) continue;
    const expected = c.t[`grad_${key}`];
    const grad = leaves[key].grad ?? ng.zeros(leaves[key].shape, { dtype: 'float64' });
    expect(grad.shape, `grad_${key}`).toEqual(expected.shape);
    expectClose(flat(grad), flat(expected), 1e-12, 1e-12);
  }
}

const cases = goldenCases('structure.safetensors');
const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('structure ops match PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it('covers every kind of the fixture', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set(Object.keys(forwards)));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => check(c));
});
