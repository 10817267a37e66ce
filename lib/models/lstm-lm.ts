/**
 * The recurrent language model of pytorch/examples' word_language_model (its RNNModel with an
 * LSTM): an embedding, a multi-layer LSTM and a linear decoder, the decoder's weight tied to the
 * embedding's. Module names and state-dict keys are PyTorch's (`encoder.weight`,
 * `rnn.weight_ih_l0`, ..., `decoder.weight`, `decoder.bias`).
 */
import { isGradEnabled, noGrad } from '../autograd/grad-mode.js';
import { NodegradError } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import * as init from '../nn/init.js';
import { Dropout, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { LSTM, type LSTMState } from '../nn/rnn.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import { tensor, zeros } from '../tensor/creation.js';
import { multinomial } from '../tensor/sampling.js';
import type { Tensor } from '../tensor/tensor.js';

/** The size of an {@link LstmLM}, as word_language_model's command-line options. */
export interface LstmLMOptions {
  /** Tokens in the vocabulary (ntoken). */
  vocabSize: number;
  /** Width of the embedding (emsize). Default 200. */
  embeddingSize?: number;
  /** Hidden units per LSTM layer (nhid). Default 200. */
  hiddenSize?: number;
  /** LSTM layers (nlayers). Default 2. */
  numLayers?: number;
  /** Dropout on the embeddings, between LSTM layers and on the LSTM's output. Default 0.2. */
  dropout?: number;
  /** Share the decoder's weight with the embedding (needs hiddenSize = embeddingSize). Default false. */
  tieWeights?: boolean;
}

/**
 * word_language_model's RNNModel('LSTM', ...): `forward(input, hidden?)` maps int32 tokens
 * [T, N] (time first, as the example) to log-probabilities [T·N, vocabSize] and the LSTM's final
 * state. Weights start as the example's: embedding and decoder U(−0.1, 0.1), decoder bias zero.
 */
export class LstmLM extends Module<[input: Tensor, hidden?: LSTMState], [Tensor, LSTMState]> {
  /** Dropout on the embeddings and the LSTM's output. */
  drop: Dropout;
  /** Token embeddings [vocabSize, embeddingSize]. */
  encoder: Embedding;
  /** The LSTM. */
  rnn: LSTM;
  /** Hidden state → next-token logits. */
  decoder: Linear;
  /** The sizes the model was built with. */
  readonly options: Readonly<Required<LstmLMOptions>>;

  /** @param options - The sizes; see {@link LstmLMOptions}. */
  constructor(options: LstmLMOptions) {
    super();
    const o = { embeddingSize: 200, hiddenSize: 200, numLayers: 2, dropout: 0.2, tieWeights: false, ...options };
    this.options = o;
    for (const key of ['vocabSize', 'embeddingSize', 'hiddenSize', 'numLayers'] as const) {
      if (!Number.isInteger(o[key]) || o[key] < 1) {
        throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `lstmLM: ${key} must be a positive integer, got ${o[key]}`);
      }
    }
    this.drop = new Dropout(o.dropout);
    this.encoder = new Embedding(o.vocabSize, o.embeddingSize);
    this.rnn = new LSTM(o.embeddingSize, o.hiddenSize, { numLayers: o.numLayers, dropout: o.dropout });
    this.decoder = new Linear(o.hiddenSize, o.vocabSize);
    if (o.tieWeights) {
      if (o.hiddenSize !== o.embeddingSize) {
        throw new NodegradError(
          'ERR_NODEGRAD_ARGUMENT',
          `lstmLM: tied weights need hiddenSize == embeddingSize, got ${o.hiddenSize} and ${o.embeddingSize}`,
        );
      }
      this.decoder.weight = this.encoder.weight;
    }
    noGrad(() => {
      init.uniform_(this.encoder.weight, -0.1, 0.1);
      if (this.decoder.bias) init.zeros_(this.decoder.bias);
      init.uniform_(this.decoder.weight, -0.1, 0.1);
    });
  }

  /** input [T, N] → log-probabilities [T·N, vocabSize] and the final [h, c] ([numLayers, N, hiddenSize] each). */
  forward(input: Tensor, hidden?: LSTMState): [Tensor, LSTMState] {
    const emb = this.drop.forward(this.encoder.forward(input));
    const [output, next] = this.rnn.forward(emb, hidden);
    const decoded = this.decoder.forward(this.drop.forward(output)).reshape([-1, this.options.vocabSize]);
    return [logSoftmax(decoded, 1), next];
  }

  /** The zero state for a batch of `batchSize` sequences. */
  initHidden(batchSize: number): LSTMState {
    const shape = [this.options.numLayers, batchSize, this.options.hiddenSize];
    return [zeros(shape), zeros(shape)];
  }

  /**
   * Mean next-token cross-entropy of batch-first tokens x [N, T] against targets y [N, T], targets
   * of -1 ignored (the text datasets' padding).
   */
  loss(x: Tensor, y: Tensor): Tensor {
    const [logProbs] = this.forward(x.transpose(0, 1));
    return crossEntropy(logProbs, y.transpose(0, 1).reshape([-1]), { ignoreIndex: -1 });
  }

  /**
   * Feeds `prefix` (token ids) and samples maxNewTokens more, one at a time from the softmax of
   * the logits divided by `temperature` (default 1); returns the new tokens. Records no graph.
   */
  generate(prefix: readonly number[], maxNewTokens: number, temperature = 1): number[] {
    if (prefix.length === 0) {
      throw new NodegradError('ERR_NODEGRAD_ARGUMENT', 'lstmLM.generate: expected a non-empty prefix');
    }
    const run = () => {
      const out: number[] = [];
      let [logProbs, hidden] = this.forward(tensor([...prefix], { dtype: 'int32' }).reshape([-1, 1]));
      for (let i = 0; i < maxNewTokens; i++) {
        const last = logProbs.narrow(0, logProbs.shape[0] - 1, 1).div(temperature);
        const next = multinomial(softmax(last, -1), 1).item();
        out.push(next);
        [logProbs, hidden] = this.forward(tensor([[next]], { dtype: 'int32' }), hidden);
      }
      return out;
    };
    return isGradEnabled() ? noGrad(run) : run();
  }
}

/** An {@link LstmLM}; `ng.models.lstmLM({ vocabSize: 10000, tieWeights: true })`. */
export function lstmLM(options: LstmLMOptions): LstmLM {
  return new LstmLM(options);
}
