// The language models against PyTorch (tools/golden/make_lm_goldens.py): the same weights (filled by
// a formula both sides compute) give PyTorch's outputs and loss, and 20 AdamW steps its losses.
import { describe, expect, it } from 'vitest';
import * as ng from '../../lib/index.js';
import { goldenCases } from '../fixtures.js';
import { expectClose } from '../helpers.js';

const cases = new Map(goldenCases('lm.safetensors').map((c) => [c.name, c]));

function golden(name: string): NonNullable<ReturnType<typeof cases.get>> {
  const c = cases.get(name);
  if (!c) throw new Error(`lm.safetensors has no case ${name}`);
  return c;
}

/** The fixture's formula: parameter k (state-dict order, tied ones once) gets 0.05 sin(0.37 i + 1.3 k). */
function fillWeights(model: ng.nn.Module<never, unknown>): void {
  ng.noGrad(() => {
    let k = 0;
    for (const [name, p] of model.namedParameters()) {
      const norm = p.ndim === 1 && (name.includes('ln_') || name.includes('norm')) && name.endsWith('weight');
      const values = new Float32Array(p.numel);
      for (let i = 0; i < p.numel; i++) {
        const wave = Math.sin(0.37 * i + 1.3 * k);
        values[i] = norm ? 1 + 0.1 * wave : 0.05 * wave;
      }
      p.copy_(ng.tensor(values).reshape(p.shape));
      k++;
    }
  });
}

/** The fixture's batches: x[b, t] = (131 b + 17 t² + 7 step + 3) mod vocab. */
function tokens(shape: [number, number], vocab: number, step: number): ng.Tensor {
  const out = new Int32Array(shape[0] * shape[1]);
  for (let b = 0; b < shape[0]; b++) {
    for (let t = 0; t < shape[1]; t++) out[b * shape[1] + t] = (131 * b + 17 * t * t + 7 * step + 3) % vocab;
  }
  return ng.tensor(out).reshape(shape);
}

/** AdamW as the fixture groups it (weight decay 0.1 on matrices only), betas (0.9, 0.95). */
function adamw(model: ng.nn.Module<never, unknown>, lr: number): ng.optim.AdamW {
  const params = [...model.parameters()];
  return new ng.optim.AdamW(
    [
      { params: params.filter((p) => p.ndim >= 2), weightDecay: 0.1 },
      { params: params.filter((p) => p.ndim < 2), weightDecay: 0 },
    ],
    { lr, betas: [0.9, 0.95] },
  );
}

describe('ng.models.lstmLM: word_language_model with tied weights', () => {
  const c = golden('lstm');
  const { vocabSize, hiddenSize, numLayers, batch, keys } = c.options as {
    vocabSize: number;
    hiddenSize: number;
    numLayers: number;
    batch: [number, number];
    keys: string[];
  };
  const build = () => {
    const lm = ng.models.lstmLM({
      vocabSize,
      embeddingSize: hiddenSize,
      hiddenSize,
      numLayers,
      dropout: 0,
      tieWeights: true,
    });
    fillWeights(lm);
    return lm;
  };

  it("has PyTorch's state-dict keys and gives its log-probabilities, final state and loss", () => {
    const lm = build();
    expect(Object.keys(lm.stateDict())).toEqual(keys);
    const [logProbs, [h, cell]] = lm.forward(tokens(batch, vocabSize, 0));
    expectClose(logProbs.data(), c.t.logProbs.data(), 1e-4, 1e-5);
    expectClose(h.data(), c.t.h.data(), 1e-4, 1e-5);
    expectClose(cell.data(), c.t.c.data(), 1e-4, 1e-5);
    const loss = ng.nn.functional.nllLoss(logProbs, tokens(batch, vocabSize, 1).reshape([-1]));
    expect(loss.item()).toBeCloseTo(c.t.loss.item(), 5);
  });

  it("follows PyTorch's losses over 20 AdamW steps", () => {
    const lm = build();
    const optimizer = adamw(lm, 3e-3);
    const expected = Array.from(c.t.losses.data());
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const [logProbs] = lm.forward(tokens(batch, vocabSize, 2 * step));
      const loss = ng.nn.functional.nllLoss(logProbs, tokens(batch, vocabSize, 2 * step + 1).reshape([-1]));
      losses.push(loss.item());
      optimizer.zeroGrad();
      loss.backward();
      ng.nn.utils.clipGradNorm_(lm.parameters(), 1);
      optimizer.step();
    }
    expectClose(losses, expected, 1e-4, 1e-5);
    expect(losses[19]).toBeLessThan(losses[0]);
  });

  it('generates from a prefix and refuses an untied size mismatch', () => {
    const lm = build();
    lm.eval();
    ng.manualSeed(3);
    const sampled = lm.generate([1, 2, 3], 5);
    expect(sampled).toHaveLength(5);
    expect(sampled.every((t) => Number.isInteger(t) && t >= 0 && t < vocabSize)).toBe(true);
    expect(() => ng.models.lstmLM({ vocabSize, embeddingSize: 32, hiddenSize: 64, tieWeights: true })).toThrow(
      /lstmLM: tied weights need hiddenSize == embeddingSize, got 64 and 32/,
    );
  });
});

describe("ng.models.gpt: nanoGPT's model", () => {
  const c = golden('gpt');
  const { config, batch, keys } = c.options as {
    config: { vocab_size: number; block_size: number; n_layer: number; n_head: number; n_embd: number };
    batch: [number, number];
    keys: string[];
  };
  const build = () => {
    const model = ng.models.gpt({
      vocabSize: config.vocab_size,
      blockSize: config.block_size,
      nLayer: config.n_layer,
      nHead: config.n_head,
      nEmbd: config.n_embd,
      bias: true,
    });
    fillWeights(model);
    return model;
  };
  const vocab = config.vocab_size;

  it("has nanoGPT's state-dict keys and gives its logits and loss", () => {
    const model = build();
    expect(Object.keys(model.stateDict())).toEqual(keys);
    expect(model.transformer.get('wte')).toBeInstanceOf(ng.nn.Embedding);
    const x = tokens(batch, vocab, 0);
    const y = tokens(batch, vocab, 1);
    ng.noGrad(() => y.indexPut_([0, '-5:'], -1));
    const { logits, loss } = model.forward(x, y);
    expectClose(logits.data(), c.t.logits.data(), 1e-4, 2e-5);
    expect(loss?.item()).toBeCloseTo(c.t.loss.item(), 4);
  });

  it("follows nanoGPT's losses over 20 AdamW steps", () => {
    const model = build();
    const optimizer = adamw(model, 1e-3);
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const { loss } = model.forward(tokens(batch, vocab, 2 * step), tokens(batch, vocab, 2 * step + 1));
      if (!loss) throw new Error('forward with targets gave no loss');
      losses.push(loss.item());
      optimizer.zeroGrad();
      loss.backward();
      ng.nn.utils.clipGradNorm_(model.parameters(), 1);
      optimizer.step();
    }
    expectClose(losses, Array.from(c.t.losses.data()), 1e-4, 1e-5);
    expect(losses[19]).toBeLessThan(losses[0]);
  });

  it('ties lm_head to the token embedding, generates within the vocabulary and refuses bad sizes', () => {
    const model = build();
    const wte = model.transformer.get('wte');
    expect(wte).toBeInstanceOf(ng.nn.Embedding);
    if (wte instanceof ng.nn.Embedding) expect(model.lm_head.weight).toBe(wte.weight);
    expect(model.stateDict()['lm_head.weight']).toBe(model.stateDict()['transformer.wte.weight']);
    model.eval();
    ng.manualSeed(5);
    const out = model.generate(tokens([1, 3], vocab, 0), 70, { temperature: 0.9, topK: 5 });
    expect(out.shape).toEqual([1, 73]);
    expect(Array.from(out.data()).every((t) => t >= 0 && t < vocab)).toBe(true);
    expect(() => model.forward(tokens([1, 65], vocab, 0))).toThrow(/GPT: cannot forward a sequence of length 65/);
    expect(() => ng.models.gpt({ vocabSize: 10, blockSize: 8, nEmbd: 30, nHead: 4 })).toThrow(
      /gpt: nEmbd 30 must be a multiple of nHead 4/,
    );
  });
});
