// MultiheadAttention, the transformer layers, their stacks and Transformer against PyTorch 1.13
// (tools/golden/make_attention_goldens.py): eval mode, weights loaded by PyTorch's state-dict keys,
// outputs, attention weights and the gradients of inputs and parameters, in float64 and float32.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, flat } from '../helpers.js';
import { goldenCases, type GoldenCase } from '../fixtures.js';

const { nn } = ng;
type Leaf = (key: string) => ng.Tensor;
type Num = (key: string) => number;
interface Built {
  module: ng.nn.AnyModule;
  run: (leaf: Leaf) => ng.Tensor | [ng.Tensor, ng.Tensor | null];
}

function layerOptions(o: Record<string, unknown>): ng.nn.TransformerLayerOptions {
  return {
    dimFeedforward: o.dimFeedforward as number,
    activation: o.activation as 'relu' | 'gelu',
    normFirst: o.normFirst as boolean,
    batchFirst: o.batchFirst as boolean | undefined,
  };
}

const builders: Record<string, (c: GoldenCase, n: Num) => Built> = {
  mha: (c, n) => {
    const o = c.options;
    const mha = new nn.MultiheadAttention(n('embedDim'), n('numHeads'), {
      kdim: o.kdim as number | undefined,
      vdim: o.vdim as number | undefined,
      batchFirst: o.batchFirst as boolean | undefined,
      bias: o.bias as boolean | undefined,
    });
    return {
      module: mha,
      run: (leaf) => {
        const query = leaf('query');
        const key = 'key' in c.t ? leaf('key') : query;
        const value = 'value' in c.t ? leaf('value') : key;
        const [out, weights] = mha.forward(query, key, value, {
          keyPaddingMask: 'keyPaddingMask' in c.t ? c.t.keyPaddingMask : null,
          attnMask: 'attnMask' in c.t ? c.t.attnMask : null,
          needWeights: o.needWeights as boolean | undefined,
          averageAttnWeights: o.averageAttnWeights as boolean | undefined,
        });
        if (o.needWeights === false) expect(weights).toBeNull();
        return [out, weights];
      },
    };
  },
  encoderLayer: (c, n) => {
    const layer = new nn.TransformerEncoderLayer(n('dModel'), n('nhead'), layerOptions(c.options));
    return { module: layer, run: (leaf) => layer.forward(leaf('src'), { srcKeyPaddingMask: c.t.srcKeyPaddingMask }) };
  },
  decoderLayer: (c, n) => {
    const layer = new nn.TransformerDecoderLayer(n('dModel'), n('nhead'), layerOptions(c.options));
    return { module: layer, run: (leaf) => layer.forward(leaf('tgt'), leaf('memory'), { tgtMask: leaf('tgtMask') }) };
  },
  transformer: (c, n) => {
    const model = new nn.Transformer({
      dModel: n('dModel'),
      nhead: n('nhead'),
      numEncoderLayers: n('numEncoderLayers'),
      numDecoderLayers: n('numDecoderLayers'),
      ...layerOptions(c.options),
    });
    return { module: model, run: (leaf) => model.forward(leaf('src'), leaf('tgt'), { tgtMask: leaf('tgtMask') }) };
  },
  encoder: (_c, n) => {
    const layer = new nn.TransformerEncoderLayer(n('dModel'), n('nhead'), { dimFeedforward: n('dimFeedforward') });
    // The layer's LayerNorm stands in for nn.LayerNorm(dModel).
    const norm = new nn.TransformerEncoderLayer(n('dModel'), n('nhead')).norm1;
    const encoder = new nn.TransformerEncoder(layer, n('numLayers'), { norm });
    return { module: encoder, run: (leaf) => encoder.forward(leaf('src')) };
  },
};

function check(c: GoldenCase, dtype: 'float32' | 'float64'): void {
  const [rtol, atol] = dtype === 'float64' ? [1e-9, 1e-10] : [1e-4, 2e-5];
  const { module, run } = builders[c.kind](c, (key) => c.options[key] as number);
  module.to(dtype).eval();
  const params = Object.fromEntries(
    Object.entries(c.t)
      .filter(([k]) => k.startsWith('p.'))
      .map(([k, v]) => [k.slice(2), v]),
  );
  module.loadStateDict(params);
  const leaves = new Map<string, ng.Tensor>();
  const leaf: Leaf = (key) => {
    let t = leaves.get(key);
    if (!t) {
      t = c.t[key].to(dtype).detach();
      t.requiresGrad = `grad_${key}` in c.t;
      leaves.set(key, t);
    }
    return t;
  };
  const result = run(leaf);
  const [out, weights] = Array.isArray(result) ? result : [result, null];
  expect(out.shape).toEqual(c.t.out.shape);
  expectClose(flat(out), flat(c.t.out), rtol, atol);
  if ('weights' in c.t) expectClose(flat(weights!), flat(c.t.weights), rtol, atol);
  out.backward(c.t.gout.to(dtype));
  for (const [key, t] of leaves) if (t.requiresGrad) expectClose(flat(t.grad!), flat(c.t[`grad_${key}`]), rtol, atol);
  for (const [name, p] of module.namedParameters()) {
    expectClose(flat(p.grad!), flat(c.t[`grad_p.${name}`]), rtol, atol);
  }
}

describe.each(['float64', 'float32'] as const)('attention modules match PyTorch (%s)', (dtype) => {
  const cases = goldenCases('attention.safetensors').filter((c) => c.kind !== 'sdpa');
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => check(c, dtype));
});
