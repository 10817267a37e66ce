// The regression, embedding, ranking, NLL and CTC losses and cross-entropy's ignore/smoothing/spatial
// cases against PyTorch 1.13 (tools/golden/make_loss2_goldens.py): outputs for every reduction and
// the gradients of sum(out * gout) for every input PyTorch differentiates, in float64 (tight) and
// float32 (rtol 1e-4).
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

const F = ng.nn.functional;
type Get = (key: string) => ng.Tensor;
type Forward = (c: GoldenCase, leaf: Get, plain: Get) => ng.Tensor;

const optional = (c: GoldenCase, plain: Get, key: string) => (key in c.t ? plain(key) : null);
const lengths = (t: ng.Tensor) => Array.from(t.data());

const forwards: Record<string, Forward> = {
  smoothL1Loss: (c, leaf) => F.smoothL1Loss(leaf('x'), leaf('target'), c.options),
  huberLoss: (c, leaf) => F.huberLoss(leaf('x'), leaf('target'), c.options),
  poissonNllLoss: (c, leaf) => F.poissonNllLoss(leaf('x'), leaf('target'), c.options),
  gaussianNllLoss: (c, leaf) => F.gaussianNllLoss(leaf('x'), leaf('target'), leaf('var'), c.options),
  cosineEmbeddingLoss: (c, leaf, plain) => F.cosineEmbeddingLoss(leaf('x1'), leaf('x2'), plain('target'), c.options),
  marginRankingLoss: (c, leaf) => F.marginRankingLoss(leaf('x1'), leaf('x2'), leaf('target'), c.options),
  tripletMarginLoss: (c, leaf) => F.tripletMarginLoss(leaf('anchor'), leaf('positive'), leaf('negative'), c.options),
  multilabelSoftMarginLoss: (c, leaf, plain) =>
    F.multilabelSoftMarginLoss(leaf('x'), plain('target'), { ...c.options, weight: optional(c, plain, 'weight') }),
  crossEntropy: (c, leaf, plain) =>
    F.crossEntropy(leaf('x'), plain('target'), { ...c.options, weight: optional(c, plain, 'weight') }),
  ctcLoss: (c, leaf, plain) =>
    F.ctcLoss(
      F.logSoftmax(leaf('logits'), 2),
      plain('targets'),
      plain('input_lengths'),
      lengths(c.t.target_lengths),
      c.options,
    ),
};

/** The modules' forward for each kind: the same case through ng.nn's classes. */
const modules: Record<string, Forward> = {
  smoothL1Loss: (c, leaf) => new ng.nn.SmoothL1Loss(c.options).forward(leaf('x'), leaf('target')),
  huberLoss: (c, leaf) => new ng.nn.HuberLoss(c.options).forward(leaf('x'), leaf('target')),
  poissonNllLoss: (c, leaf) => new ng.nn.PoissonNLLLoss(c.options).forward(leaf('x'), leaf('target')),
  gaussianNllLoss: (c, leaf) => new ng.nn.GaussianNLLLoss(c.options).forward(leaf('x'), leaf('target'), leaf('var')),
  cosineEmbeddingLoss: (c, leaf, plain) =>
    new ng.nn.CosineEmbeddingLoss(c.options).forward(leaf('x1'), leaf('x2'), plain('target')),
  marginRankingLoss: (c, leaf) =>
    new ng.nn.MarginRankingLoss(c.options).forward(leaf('x1'), leaf('x2'), leaf('target')),
  tripletMarginLoss: (c, leaf) =>
    new ng.nn.TripletMarginLoss(c.options).forward(leaf('anchor'), leaf('positive'), leaf('negative')),
  multilabelSoftMarginLoss: (c, leaf, plain) =>
    new ng.nn.MultiLabelSoftMarginLoss({ ...c.options, weight: optional(c, plain, 'weight') }).forward(
      leaf('x'),
      plain('target'),
    ),
  crossEntropy: (c, leaf, plain) =>
    new ng.nn.CrossEntropyLoss({ ...c.options, weight: optional(c, plain, 'weight') }).forward(
      leaf('x'),
      plain('target'),
    ),
  ctcLoss: (c, leaf, plain) =>
    new ng.nn.CTCLoss(c.options).forward(
      F.logSoftmax(leaf('logits'), 2),
      plain('targets'),
      lengths(c.t.input_lengths),
      plain('target_lengths'),
    ),
};

const cases = goldenCases('loss2.safetensors');

function check(c: GoldenCase, forward: Forward, dtype: 'float32' | 'float64'): void {
  const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 1e-5];
  const leaves = new Map<string, ng.Tensor>();
  const cast = (t: ng.Tensor) => (t.dtype === 'int32' ? t : t.to(dtype));
  const leaf = (key: string) => {
    let t = leaves.get(key);
    if (!t) {
      t = cast(c.t[key]).detach().clone();
      t.requiresGrad = `grad_${key}` in c.t;
      leaves.set(key, t);
    }
    return t;
  };
  const out = forward(c, leaf, (key) => cast(c.t[key]));
  expect(out.shape).toEqual(c.t.out.shape);
  expect(out.dtype).toBe(dtype);
  expectClose(flat(out), flat(c.t.out), rtol, atol);
  if (c.options.forwardOnly) return;
  out.backward(cast(c.t.gout));
  const graded = Object.keys(c.t).filter((k) => k.startsWith('grad_'));
  expect(graded.length).toBeGreaterThan(0);
  for (const key of graded) {
    const grad = leaves.get(key.slice(5))?.grad;
    expect(grad, key).toBeDefined();
    expectClose(flat(grad as ng.Tensor), flat(c.t[key]), rtol, atol);
  }
}

it('covers every new loss for each reduction', () => {
  for (const kind of Object.keys(forwards)) {
    const reductions = new Set(cases.filter((c) => c.kind === kind).map((c) => c.options.reduction));
    expect([...reductions].sort(), kind).toEqual(['mean', 'none', 'sum']);
  }
});

describe.each(['float64', 'float32'] as const)('functional losses match PyTorch (%s)', (dtype) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    check(c, forwards[c.kind], dtype);
  });
});

describe('loss modules match PyTorch (float64)', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    check(c, modules[c.kind], 'float64');
  });
});
