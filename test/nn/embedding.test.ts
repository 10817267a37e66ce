// Embedding and EmbeddingBag: PyTorch goldens (output and weight gradient, with duplicates,
// paddingIdx, scaleGradByFreq, maxNorm, every bag mode, offsets and perSampleWeights) on both
// backends and dtypes, float64 gradchecks (paddingIdx and scaleGradByFreq change the gradient on
// purpose, so only their goldens check them), layer behaviour and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import type { Backend } from '../../lib/backend/types.js';
import { goldenCases } from '../fixtures.js';
import { expectClose, expectNodegradError, flat, randomTensor } from '../helpers.js';
import { checkNormCase, type NormForward } from './norm-goldens.js';

const F = ng.nn.functional;

const forwards: Record<string, NormForward> = {
  embedding: (c, leaf, _has, plain) => F.embedding(plain('index'), leaf('weight'), c.options),
  embeddingBag: (c, leaf, has, plain) =>
    F.embeddingBag(plain('index'), leaf('weight'), {
      ...c.options,
      offsets: has('offsets') ? plain('offsets') : null,
      perSampleWeights: has('perSampleWeights') ? leaf('perSampleWeights') : null,
    }),
};

const all = goldenCases('norm.safetensors');
const cases = all.filter((c) => c.kind in forwards);
const backends = [
  ['native', ng.backend.getBackend()],
  ['reference', ng.backend.referenceBackend],
] as const;

describe.each(backends)('embeddings match PyTorch (%s backend)', (_name, backend: Backend) => {
  const previous = ng.backend.getBackend();
  beforeAll(() => ng.backend.setBackend(backend));
  afterAll(() => ng.backend.setBackend(previous));

  it.each(cases.flatMap((c) => (['float64', 'float32'] as const).map((d) => [`${c.name} ${d}`, c, d] as const)))(
    '%s',
    (_n, c, dtype) => {
      checkNormCase(c, forwards[c.kind], dtype);
    },
  );

  it('maxNorm renormalizes the looked-up rows in place, as PyTorch', () => {
    const c = all.find((k) => k.kind === 'embeddingMaxNorm');
    if (!c) throw new Error('missing embedding_maxnorm fixture');
    const weight = c.t.weight.clone();
    const out = F.embedding(c.t.index, weight, { maxNorm: c.options.maxNorm as number });
    expectClose(flat(out), flat(c.t.out), 1e-9, 1e-10);
    expectClose(flat(weight), flat(c.t.weight_after), 1e-9, 1e-10);
  });
});

describe('embedding gradcheck (float64)', () => {
  const index = ng
    .tensor([
      [1, 2, 1],
      [0, 2, 2],
    ])
    .to('int32');
  const flatIndex = ng.tensor([1, 2, 1, 0, 3, 2, 2]).to('int32');
  const offsets = ng.tensor([0, 3, 3]).to('int32');
  const table: [string, (w: ng.Tensor) => ng.Tensor][] = [
    ['embedding with duplicates', (w) => F.embedding(index, w)],
    ['embeddingBag sum, 2-D', (w) => F.embeddingBag(index, w, { mode: 'sum' })],
    ['embeddingBag mean, offsets', (w) => F.embeddingBag(flatIndex, w, { offsets })],
    ['embeddingBag max, offsets', (w) => F.embeddingBag(flatIndex, w, { mode: 'max', offsets })],
    ['embeddingBag mean, paddingIdx', (w) => F.embeddingBag(flatIndex, w, { offsets, paddingIdx: 1 })],
  ];
  it.each(table)('%s', (_n, fn) => {
    expect(ng.gradcheck(fn, [randomTensor([4, 3], 1, 'float64', true)])).toBe(true);
  });

  it('embeddingBag perSampleWeights', () => {
    const fn = (w: ng.Tensor, psw: ng.Tensor) =>
      F.embeddingBag(flatIndex, w, { mode: 'sum', offsets, perSampleWeights: psw });
    expect(ng.gradcheck(fn, [randomTensor([4, 3], 2, 'float64', true), randomTensor([7], 3, 'float64', true)])).toBe(
      true,
    );
  });
});

describe('Embedding and EmbeddingBag layers', () => {
  const keys = new Map(
    all.filter((c) => c.kind === 'moduleKeys').map((c) => [c.options.label as string, c.options] as const),
  );
  it.each([
    ['Embedding(10, 4, padding 0)', () => new ng.nn.Embedding(10, 4, { paddingIdx: 0 })],
    ['EmbeddingBag(10, 4, sum)', () => new ng.nn.EmbeddingBag(10, 4, { mode: 'sum' })],
  ] as const)('%s has PyTorch state-dict keys and repr', (label, make) => {
    const m = make();
    expect(Object.keys(m.stateDict())).toEqual(keys.get(label)?.keys);
    expect(m.toString()).toBe(keys.get(label)?.repr);
  });

  it('the Embedding @example runs as written', () => {
    const { nn } = ng;
    const tokens = ng
      .tensor([
        [0, 5, 9],
        [1, 0, 0],
      ])
      .to('int32');
    const emb = new nn.Embedding(10000, 256, { paddingIdx: 0 });
    const vectors = emb.forward(tokens); // tokens: int32 [batch, seq] → [batch, seq, 256]
    expect(vectors.shape).toEqual([2, 3, 256]);
  });

  it('starts the paddingIdx row at zero and never updates it', () => {
    const emb = new ng.nn.Embedding(5, 3, { paddingIdx: -2 });
    expect(emb.paddingIdx).toBe(3);
    expect(flat(emb.weight.index(3))).toEqual([0, 0, 0]);
    expect(flat(emb.weight.index(0)).some((v) => v !== 0)).toBe(true);
    emb
      .forward(ng.tensor([3, 3, 1]).to('int32'))
      .sum()
      .backward();
    expect(flat(emb.weight.grad?.index(3) ?? ng.ones([3]))).toEqual([0, 0, 0]);
    expect(flat(emb.weight.grad?.index(1) ?? ng.zeros([3]))).toEqual([1, 1, 1]);
  });

  it('accepts int32 indices of any shape', () => {
    const emb = new ng.nn.Embedding(6, 2);
    const idx = ng.tensor([5, 0, 1, 2, 3, 4, 5, 5]).to('int32').reshape([2, 2, 2]);
    const out = emb.forward(idx);
    expect(out.shape).toEqual([2, 2, 2, 2]);
    expect(flat(out.index(1, 1, 1))).toEqual(flat(emb.weight.index(5)));
  });

  it('fromPretrained uses the given weights, frozen unless freeze: false', () => {
    const w = randomTensor([4, 2], 5, 'float32');
    const frozen = ng.nn.Embedding.fromPretrained(w);
    expect(frozen.weight.requiresGrad).toBe(false);
    expect(flat(frozen.forward(ng.tensor([2]).to('int32')))).toEqual(flat(w.index(2)));
    const trainable = ng.nn.Embedding.fromPretrained(w, { freeze: false, paddingIdx: 1 });
    expect(trainable.weight.requiresGrad).toBe(true);
    expect(flat(trainable.weight.index(1))).toEqual(flat(w.index(1)));
    expect(trainable.parameters()).toHaveLength(1);
  });

  it('EmbeddingBag forward takes offsets and perSampleWeights positionally', () => {
    const bag = new ng.nn.EmbeddingBag(4, 2, { mode: 'sum' });
    const out = bag.forward(ng.tensor([0, 1, 2]).to('int32'), ng.tensor([0, 1]).to('int32'), ng.tensor([2, 1, 1]));
    expectClose(flat(out.index(0)), flat(bag.weight.index(0).mul(2)), 1e-6, 1e-6);
    expectClose(flat(out.index(1)), flat(bag.weight.index(1).add(bag.weight.index(2))), 1e-6, 1e-6);
  });

  it('errors name the op and the offending value', () => {
    expectNodegradError(
      () => new ng.nn.Embedding(4, 2, { sparse: true }),
      'ERR_NODEGRAD_ARGUMENT',
      'Embedding',
      'sparse',
    );
    expectNodegradError(
      () => new ng.nn.Embedding(4, 2).forward(ng.tensor([4]).to('int32')),
      'ERR_NODEGRAD_ARGUMENT',
      'embedding',
      'index 4',
    );
    expectNodegradError(
      () => new ng.nn.Embedding(4, 2).forward(ng.tensor([1])),
      'ERR_NODEGRAD_DTYPE',
      'embedding',
      'int32',
    );
    expectNodegradError(
      () => new ng.nn.Embedding(4, 2, { paddingIdx: 4 }),
      'ERR_NODEGRAD_ARGUMENT',
      'Embedding',
      'paddingIdx',
    );
    expectNodegradError(
      () => new ng.nn.EmbeddingBag(4, 2).forward(ng.tensor([0, 1]).to('int32')),
      'ERR_NODEGRAD_SHAPE',
      'embeddingBag',
      'offsets',
    );
    expectNodegradError(
      () => new ng.nn.EmbeddingBag(4, 2).forward(ng.tensor([[0, 1]]).to('int32'), null, ng.ones([2])),
      'ERR_NODEGRAD_ARGUMENT',
      'embeddingBag',
      'perSampleWeights',
    );
  });
});
