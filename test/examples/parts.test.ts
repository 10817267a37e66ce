/**
 * The layers and the optimizer the examples once built in examples/parts/, now ng.nn's and ng.optim's,
 * against PyTorch 1.13 in float64 (test/fixtures/examples.safetensors, written by
 * tools/golden/make_examples_goldens.py): forward outputs and the input gradient of a weighted sum;
 * Adadelta's parameters after each step.
 */
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';
import { expectClose, flat } from '../helpers.js';

type Run = (c: GoldenCase, x: ng.Tensor) => Record<string, ng.Tensor>;

/** Builds the case's module in float64 with PyTorch's parameters loaded. */
function loaded<M extends ng.nn.Module<never, unknown>>(module: M, c: GoldenCase): M {
  module.double();
  const state: Record<string, ng.Tensor> = {};
  for (const [key, value] of Object.entries(c.t)) if (key.startsWith('param/')) state[key.slice(6)] = value;
  module.loadStateDict(state);
  return module;
}

// The fixture's LSTM and LSTMCell cases check ng.nn's layers.
const { LSTM, LSTMCell } = ng.nn;
const o = (c: GoldenCase) => c.options as Record<string, number>;

const runs: Record<string, Run> = {
  LSTM: (c, x) => {
    const m = loaded(new LSTM(o(c).inputSize, o(c).hiddenSize, { numLayers: o(c).numLayers }), c);
    const [y, [hn, cn]] = m.forward(x, [c.t.h0, c.t.c0]);
    return { y, hn, cn };
  },
  LSTMCell: (c, x) => {
    const [y, cn] = loaded(new LSTMCell(o(c).inputSize, o(c).hiddenSize), c).forward(x, [c.t.h0, c.t.c0]);
    return { y, cn };
  },
  // The part became nn.ConvTranspose2d; the fixture's cases check it too.
  ConvTranspose2d: (c, x) => {
    const { inChannels, outChannels, kernelSize, stride, padding } = o(c);
    const layer = new ng.nn.ConvTranspose2d(inChannels, outChannels, kernelSize, { stride, padding });
    return { y: loaded(layer, c).forward(x) };
  },
  MultiheadAttention: (c, x) => ({
    y: loaded(new ng.nn.MultiheadAttention(o(c).embedDim, o(c).numHeads), c).forward(x, x, x, {
      attnMask: c.t.mask,
      needWeights: false,
    })[0],
  }),
  TransformerEncoderLayer: (c, x) => {
    const { dModel, nhead, dimFeedforward } = o(c);
    const m = loaded(new ng.nn.TransformerEncoderLayer(dModel, nhead, { dimFeedforward, dropout: 0 }), c);
    return { y: m.forward(x, { mask: c.t.mask }) };
  },
  // The part became nn.LayerNorm.
  LayerNorm: (c, x) => ({ y: loaded(new ng.nn.LayerNorm(o(c).ndim), c).forward(x) }),
  // The examples now call ng's F.gelu; the fixture's PyTorch case (approximate='tanh') checks it too.
  gelu: (_c, x) => ({ y: ng.nn.functional.gelu(x, { approximate: 'tanh' }) }),
};

describe('the layers the examples use match PyTorch', () => {
  const cases = goldenCases('examples.safetensors');
  it('runs every kind of case in the fixture', () => {
    expect(new Set(cases.map((c) => c.kind))).toEqual(new Set([...Object.keys(runs), 'Adadelta']));
  });
  it.each(cases.filter((c) => c.kind === 'Adadelta').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const p = new ng.nn.Parameter(c.t.p.clone());
    const optimizer = new ng.optim.Adadelta([p], { lr: o(c).lr, rho: o(c).rho, eps: o(c).eps });
    for (let step = 0; step < o(c).steps; step++) {
      p.grad = c.t[`g${step}`].clone();
      optimizer.step();
      expectClose(flat(p), flat(c.t[`p${step}`]), 1e-9, 1e-12);
    }
  });
  it.each(cases.filter((c) => c.kind !== 'Adadelta').map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const x = c.t.x.detach().clone();
    x.requiresGrad = true;
    const outputs = runs[c.kind](c, x);
    for (const [key, value] of Object.entries(outputs)) {
      expect(value.shape).toEqual(c.t[key].shape);
      expectClose(flat(value), flat(c.t[key]), 1e-9, 1e-10);
    }
    outputs.y.mul(c.t.weights).sum().backward();
    expectClose(flat(x.grad!), flat(c.t.gx), 1e-9, 1e-10);
  });
});
