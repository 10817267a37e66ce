// MultiheadAttention and the transformer layers beyond the goldens: float64 gradcheck, the fused
// and the weight-returning paths agreeing, isCausal against an explicit mask, keys, errors.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { expectClose, expectNodegradError, flat, randomTensor } from '../helpers.js';

const { nn } = ng;

describe('MultiheadAttention', () => {
  it('passes a float64 gradcheck through query, key and value', () => {
    ng.manualSeed(1);
    const mha = new nn.MultiheadAttention(4, 2, { kdim: 3, vdim: 2 }).double();
    const q = randomTensor([3, 2, 4], 1, 'float64', true);
    const k = randomTensor([5, 2, 3], 2, 'float64', true);
    const v = randomTensor([5, 2, 2], 3, 'float64', true);
    expect(ng.gradcheck((a, b, c) => mha.forward(a, b, c, { needWeights: false })[0], [q, k, v])).toBe(true);
    expect(ng.gradcheck((a, b, c) => mha.forward(a, b, c)[0], [q, k, v])).toBe(true);
  });

  it('gives the same output with and without the weights, and isCausal equals the causal mask', () => {
    ng.manualSeed(2);
    const mha = new nn.MultiheadAttention(8, 2);
    const x = randomTensor([6, 3, 8], 4, 'float32');
    const [withWeights, weights] = mha.forward(x, x, x);
    const [fused, none] = mha.forward(x, x, x, { needWeights: false });
    expect(none).toBeNull();
    expect(weights!.shape).toEqual([3, 6, 6]);
    expectClose(flat(fused), flat(withWeights), 1e-5, 1e-6);
    const mask = nn.Transformer.generateSquareSubsequentMask(6);
    const [masked] = mha.forward(x, x, x, { attnMask: mask, needWeights: false });
    const [causal, causalWeights] = mha.forward(x, x, x, { isCausal: true });
    expectClose(flat(causal), flat(masked), 1e-5, 1e-6);
    expect(causalWeights!.index(0, 0, 5).item()).toBe(0);
    // With a padding mask too, isCausal still masks the later keys.
    const keyPaddingMask = ng.zeros([3, 6], { dtype: 'bool' });
    const [both] = mha.forward(x, x, x, { isCausal: true, keyPaddingMask, needWeights: false });
    expectClose(flat(both), flat(masked), 1e-5, 1e-6);
  });

  it('names its parameters as PyTorch does', () => {
    expect(Object.keys(new nn.MultiheadAttention(4, 2).stateDict())).toEqual([
      'in_proj_weight',
      'in_proj_bias',
      'out_proj.weight',
      'out_proj.bias',
    ]);
    expect(Object.keys(new nn.MultiheadAttention(4, 2, { kdim: 3, bias: false }).stateDict())).toEqual([
      'q_proj_weight',
      'k_proj_weight',
      'v_proj_weight',
      'out_proj.weight',
    ]);
  });

  it('rejects bad arguments, naming the layer', () => {
    const mha = new nn.MultiheadAttention(4, 2);
    expectNodegradError(
      () => new nn.MultiheadAttention(5, 2),
      'ERR_NODEGRAD_ARGUMENT',
      'MultiheadAttention',
      'multiple',
    );
    expectNodegradError(
      () => new nn.MultiheadAttention(4, 2, { addBiasKv: true }),
      'ERR_NODEGRAD_ARGUMENT',
      'addBiasKv',
    );
    expectNodegradError(
      () => mha.forward(ng.zeros([3, 2, 5]), ng.zeros([3, 2, 5]), ng.zeros([3, 2, 5])),
      'ERR_NODEGRAD_ARGUMENT',
      'MultiheadAttention',
      '[3, 2, 5]',
    );
    const x = ng.zeros([3, 2, 4]);
    expectNodegradError(
      () => mha.forward(x, x, x, { attnMask: ng.zeros([2, 2]) }),
      'ERR_NODEGRAD_ARGUMENT',
      'attnMask [3, 3]',
    );
    expectNodegradError(
      () => mha.forward(x, x, x, { keyPaddingMask: ng.zeros([3, 2]) }),
      'ERR_NODEGRAD_ARGUMENT',
      'keyPaddingMask [2, 3]',
    );
  });
});

describe('transformer layers', () => {
  it('copy the template layer into each stacked layer, with PyTorch keys', () => {
    ng.manualSeed(3);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const encoder = new nn.TransformerEncoder(layer, 2);
    const keys = Object.keys(encoder.stateDict());
    expect(keys.slice(0, 12)).toEqual([
      'layers.0.self_attn.in_proj_weight',
      'layers.0.self_attn.in_proj_bias',
      'layers.0.self_attn.out_proj.weight',
      'layers.0.self_attn.out_proj.bias',
      'layers.0.linear1.weight',
      'layers.0.linear1.bias',
      'layers.0.linear2.weight',
      'layers.0.linear2.bias',
      'layers.0.norm1.weight',
      'layers.0.norm1.bias',
      'layers.0.norm2.weight',
      'layers.0.norm2.bias',
    ]);
    const sd = encoder.stateDict();
    expect(flat(sd['layers.1.linear1.weight'])).toEqual(flat(layer.linear1.weight));
    expect(sd['layers.1.linear1.weight']).not.toBe(sd['layers.0.linear1.weight']);
  });

  it('drops out in training mode only', () => {
    ng.manualSeed(4);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.5 });
    const x = randomTensor([4, 2, 8], 5, 'float32');
    const evalOut = flat(layer.eval().forward(x));
    expect(flat(layer.forward(x))).toEqual(evalOut);
    expect(flat(layer.train().forward(x))).not.toEqual(evalOut);
  });

  it('rejects bad arguments, naming the layer', () => {
    expectNodegradError(
      () => new nn.TransformerEncoderLayer(6, 4),
      'ERR_NODEGRAD_ARGUMENT',
      'TransformerEncoderLayer',
      'nhead 4',
    );
    expectNodegradError(
      () => new nn.TransformerDecoderLayer(8, 2, { activation: 'tanh' as 'relu' }),
      'ERR_NODEGRAD_ARGUMENT',
      'TransformerDecoderLayer',
      "'tanh'",
    );
    expectNodegradError(
      () => nn.Transformer.generateSquareSubsequentMask(-1),
      'ERR_NODEGRAD_ARGUMENT',
      'generateSquareSubsequentMask',
    );
  });

  it('generateSquareSubsequentMask is 0 on and below the diagonal, −∞ above', () => {
    expect(nn.Transformer.generateSquareSubsequentMask(3).toArray()).toEqual([
      [0, -Infinity, -Infinity],
      [0, 0, -Infinity],
      [0, 0, 0],
    ]);
  });
});

describe('the doc examples', () => {
  it('give the shapes they claim', () => {
    const F = nn.functional;
    const q = ng.randn([2, 4, 16, 8]);
    expect(F.scaledDotProductAttention(q, q, q, { isCausal: true }).shape).toEqual([2, 4, 16, 8]);
    const x = ng.randn([10, 2, 16]);
    const [y, weights] = new nn.MultiheadAttention(16, 4).forward(x, x, x);
    expect([y.shape, weights?.shape]).toEqual([
      [10, 2, 16],
      [2, 10, 10],
    ]);
    const encoderLayer = new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64 });
    expect(encoderLayer.forward(ng.randn([10, 2, 32])).shape).toEqual([10, 2, 32]);
    const decoderLayer = new nn.TransformerDecoderLayer(32, 4, { dimFeedforward: 64 });
    expect(decoderLayer.forward(ng.randn([7, 2, 32]), ng.randn([10, 2, 32])).shape).toEqual([7, 2, 32]);
    const encoder = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(32, 4), 2);
    expect(encoder.forward(ng.randn([10, 2, 32])).shape).toEqual([10, 2, 32]);
    const decoder = new nn.TransformerDecoder(new nn.TransformerDecoderLayer(32, 4), 2);
    expect(decoder.forward(ng.randn([7, 2, 32]), ng.randn([10, 2, 32])).shape).toEqual([7, 2, 32]);
    const model = new nn.Transformer({ dModel: 32, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2 });
    const tgtMask = nn.Transformer.generateSquareSubsequentMask(7);
    expect(model.forward(ng.randn([10, 2, 32]), ng.randn([7, 2, 32]), { tgtMask }).shape).toEqual([7, 2, 32]);
  });
});
