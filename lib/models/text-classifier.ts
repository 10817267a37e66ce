/**
 * A transformer-encoder text classifier: token and learned position embeddings, a pre-norm
 * nn.TransformerEncoder that ignores padding, a pooled sequence vector and a linear head. PyTorch
 * has no such model; it is the encoder-only recipe (BERT-style) at a size that trains on a CPU.
 */
import { NodegradError } from '../errors.js';
import { Embedding } from '../nn/embedding.js';
import { Dropout, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { LayerNorm } from '../nn/normalization.js';
import { TransformerEncoderLayer } from '../nn/transformer.js';
import { TransformerEncoder } from '../nn/transformer-model.js';
import { arange } from '../tensor/creation.js';
import type { Tensor } from '../tensor/tensor.js';

/** The size of a {@link TextClassifier}. */
export interface TextClassifierOptions {
  /** Tokens in the vocabulary (padding included). */
  vocabSize: number;
  /** Classes, the width of the logits. */
  numClasses: number;
  /** Width of the embeddings and of the encoder. Default 64. */
  dModel?: number;
  /** Attention heads (must divide dModel). Default 4. */
  nhead?: number;
  /** Encoder layers. Default 2. */
  numLayers?: number;
  /** Hidden width of each layer's feed-forward block. Default 4·dModel. */
  dimFeedforward?: number;
  /** The longest sequence (positions embedded). Default 512. */
  maxLength?: number;
  /** Dropout after the embeddings and inside the encoder. Default 0.1. */
  dropout?: number;
  /** The padding token: its embedding stays zero, and attention and pooling skip it. Default 0. */
  paddingIdx?: number;
  /** 'mean' averages the non-padding positions; 'cls' takes the first position's vector. Default 'mean'. */
  pooling?: 'mean' | 'cls';
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `textClassifier: ${name} must be a positive integer, got ${value}`,
    );
  }
}

function checkOptions(o: Required<TextClassifierOptions>): void {
  for (const key of ['vocabSize', 'numClasses', 'dModel', 'nhead', 'numLayers', 'dimFeedforward', 'maxLength'] as const)
    positiveInteger(key, o[key]);
  if (o.dModel % o.nhead !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `textClassifier: dModel must be a multiple of nhead, got dModel ${o.dModel} and nhead ${o.nhead}`,
    );
  }
  if (!(o.dropout >= 0 && o.dropout < 1)) {
    throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `textClassifier: dropout must be in [0, 1), got ${o.dropout}`);
  }
  if (!Number.isInteger(o.paddingIdx) || o.paddingIdx < 0 || o.paddingIdx >= o.vocabSize) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `textClassifier: paddingIdx must be an integer in [0, ${o.vocabSize}), got ${o.paddingIdx}`,
    );
  }
  const pooling: unknown = o.pooling;
  if (pooling !== 'mean' && pooling !== 'cls') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `textClassifier: pooling must be 'mean' or 'cls', got ${JSON.stringify(pooling)}`,
    );
  }
}

/**
 * `forward(tokens)` maps int32 tokens [N, T] (T ≤ maxLength, each row with at least one
 * non-padding token) to logits [N, numClasses]. Padding never changes the logits: it is masked out
 * of attention (`srcKeyPaddingMask`) and of the mean, so appending padding to a batch leaves each
 * row's logits as they were. With 'cls' pooling, put a classification token first.
 */
export class TextClassifier extends Module<[tokens: Tensor]> {
  /** Token embeddings [vocabSize, dModel]; the paddingIdx row is zero and gets no gradient. */
  tokenEmbedding: Embedding;
  /** Learned position embeddings [maxLength, dModel]. */
  positionEmbedding: Embedding;
  /** Dropout on the summed embeddings. */
  dropout: Dropout;
  /** Pre-norm encoder layers (batch first), then a final LayerNorm. */
  encoder: TransformerEncoder;
  /** Pooled vector → logits. */
  head: Linear;
  /** The options the model was built with, defaults filled in. */
  readonly options: Readonly<Required<TextClassifierOptions>>;

  /** @param options - The sizes; see {@link TextClassifierOptions}. */
  constructor(options: TextClassifierOptions) {
    super();
    const dModel = options.dModel ?? 64;
    const o: Required<TextClassifierOptions> = {
      dModel,
      nhead: 4,
      numLayers: 2,
      dimFeedforward: 4 * dModel,
      maxLength: 512,
      dropout: 0.1,
      paddingIdx: 0,
      pooling: 'mean',
      ...options,
    };
    checkOptions(o);
    this.options = o;
    this.tokenEmbedding = new Embedding(o.vocabSize, o.dModel, { paddingIdx: o.paddingIdx });
    this.positionEmbedding = new Embedding(o.maxLength, o.dModel);
    this.dropout = new Dropout(o.dropout);
    const layer = new TransformerEncoderLayer(o.dModel, o.nhead, {
      dimFeedforward: o.dimFeedforward,
      dropout: o.dropout,
      batchFirst: true,
      normFirst: true,
    });
    // Pre-norm layers leave the residual stream unnormalized: one LayerNorm closes the stack.
    this.encoder = new TransformerEncoder(layer, o.numLayers, { norm: new LayerNorm(o.dModel) });
    this.head = new Linear(o.dModel, o.numClasses);
  }

  /** tokens [N, T] int32 → logits [N, numClasses]. */
  forward(tokens: Tensor): Tensor {
    const { maxLength, paddingIdx, pooling } = this.options;
    if (tokens.ndim !== 2 || tokens.shape[1] < 1 || tokens.shape[1] > maxLength) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `textClassifier: expected tokens of shape [N, T] with 1 <= T <= ${maxLength}, got [${tokens.shape.join(', ')}]`,
      );
    }
    const padding = tokens.eq(paddingIdx);
    // A row of padding only has nothing to attend to or average (PyTorch gives NaN).
    if (padding.all(1).any().item()) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `textClassifier: every sequence needs a token other than paddingIdx ${paddingIdx}; a row is all padding`,
      );
    }
    const positions = arange(0, tokens.shape[1], 1, { dtype: 'int32' });
    const embedded = this.tokenEmbedding.forward(tokens).add(this.positionEmbedding.forward(positions));
    const x = this.encoder.forward(this.dropout.forward(embedded), { srcKeyPaddingMask: padding });
    return this.head.forward(pooling === 'cls' ? x.narrow(1, 0, 1).squeeze(1) : maskedMean(x, padding));
  }
}

/** The mean of x [N, T, d] over the positions where padding [N, T] is false → [N, d]. */
function maskedMean(x: Tensor, padding: Tensor): Tensor {
  const keep = padding.logicalNot().unsqueeze(2).to(x.dtype);
  return x.mul(keep).sum(1).div(keep.sum(1));
}

/** A {@link TextClassifier}; `ng.models.textClassifier({ vocabSize: 1000, numClasses: 2 })`. */
export function textClassifier(options: TextClassifierOptions): TextClassifier {
  return new TextClassifier(options);
}
