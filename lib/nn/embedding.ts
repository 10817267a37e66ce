/**
 * Embedding and EmbeddingBag: lookup tables of learnable rows, as PyTorch's torch.nn.Embedding and
 * torch.nn.EmbeddingBag (state-dict key `weight`).
 */
import { NodegradError, formatShape } from '../errors.js';
import { embedding, embeddingBag, resolvePaddingIdx } from '../ops/embedding.js';
import { randn } from '../tensor/creation.js';
import { checkShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { writeInPlace } from '../tensor/write.js';
import { noGrad } from '../autograd/grad-mode.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Options of {@link Embedding} (PyTorch's keyword arguments in camelCase). */
export interface EmbeddingLayerOptions {
  /** This row starts at zero and never receives a gradient (negative counts from the end). Default none. */
  paddingIdx?: number | null;
  /** Looked-up rows whose norm exceeds this are rescaled to it, in place. Default none. */
  maxNorm?: number | null;
  /** The p of the norm maxNorm compares. Default 2. */
  normType?: number;
  /** Scale each row's gradient by 1 / its frequency in the batch. Default false. */
  scaleGradByFreq?: boolean;
  /** Sparse gradients: not supported; true is refused. Default false. */
  sparse?: boolean;
  /** The dtype of the weight. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/** Options of {@link Embedding.fromPretrained}. */
export interface FromPretrainedOptions {
  /** Keep the weight fixed (requiresGrad false). Default true. */
  freeze?: boolean;
  /** The row that receives no gradient (its values are kept as given). Default none. */
  paddingIdx?: number | null;
  /** As Embedding's maxNorm. */
  maxNorm?: number | null;
  /** As Embedding's normType. */
  normType?: number;
  /** As Embedding's scaleGradByFreq. */
  scaleGradByFreq?: boolean;
}

/** Sets row `row` of the table to zero, as PyTorch's layers do for paddingIdx at construction. */
function zeroRow(op: string, weight: Parameter, row: number): void {
  const dim = weight.shape[1];
  noGrad(() => {
    writeInPlace(op, weight, (values) => values.fill(0, row * dim, (row + 1) * dim));
  });
}

function refuseSparse(op: string, sparse: boolean | undefined): void {
  if (sparse) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${op}: sparse gradients are not supported; use sparse: false (dense weight gradients)`,
    );
  }
}

/**
 * A table of numEmbeddings learnable rows of embeddingDim, as `torch.nn.Embedding`: the forward
 * picks the rows named by int32 indices. The weight starts N(0, 1), with paddingIdx's row zero.
 * Shape: input int32 of any shape [*]; output [*, embeddingDim].
 *
 * @example
 * ```ts
 * const emb = new nn.Embedding(10000, 256, { paddingIdx: 0 });
 * const vectors = emb.forward(tokens); // tokens: int32 [batch, seq] → [batch, seq, 256]
 * ```
 */
export class Embedding extends Module {
  /** The table [numEmbeddings, embeddingDim]. */
  weight: Parameter;
  /** The row that receives no gradient, in [0, numEmbeddings); null for none. */
  readonly paddingIdx: number | null;

  /**
   * @param numEmbeddings - Rows in the table.
   * @param embeddingDim - Length of each row.
   * @param options - paddingIdx, maxNorm, normType (default 2), scaleGradByFreq (default false),
   *   sparse (must be false), dtype (default 'float32').
   * @param weight - The initial table (used as is); by default N(0, 1) with paddingIdx's row zero.
   */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    readonly options: EmbeddingLayerOptions = {},
    weight?: Tensor,
  ) {
    super();
    checkShape('Embedding', [numEmbeddings, embeddingDim], { names: ['numEmbeddings', 'embeddingDim'] });
    refuseSparse('Embedding', options.sparse);
    const padding = resolvePaddingIdx('Embedding', options.paddingIdx, numEmbeddings);
    this.paddingIdx = padding < 0 ? null : padding;
    this.weight = new Parameter(weight ?? randn([numEmbeddings, embeddingDim], { dtype: options.dtype ?? 'float32' }));
    if (!weight && padding >= 0) zeroRow('Embedding', this.weight, padding);
  }

  /**
   * An Embedding whose weight is `weights` [num, dim] (shared, not copied), as
   * `torch.nn.Embedding.from_pretrained`; frozen unless `freeze: false`.
   */
  static fromPretrained(weights: Tensor, options: FromPretrainedOptions = {}): Embedding {
    if (weights.ndim !== 2) {
      throw new NodegradError(
        'ERR_NODEGRAD_SHAPE',
        `Embedding.fromPretrained: expected 2-D weights [numEmbeddings, embeddingDim], got ${formatShape(weights.shape)}`,
      );
    }
    const { freeze = true, ...rest } = options;
    const layer = new Embedding(weights.shape[0], weights.shape[1], rest, weights.detach());
    layer.weight.requiresGrad = !freeze;
    return layer;
  }

  /** The rows of the table named by `input` (int32, any shape). */
  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, { ...this.options, paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    const parts = [`${this.numEmbeddings}, ${this.embeddingDim}`];
    if (this.paddingIdx !== null) parts.push(`padding_idx=${this.paddingIdx}`);
    if (this.options.maxNorm !== undefined && this.options.maxNorm !== null)
      parts.push(`max_norm=${this.options.maxNorm}`);
    return parts.join(', ');
  }
}

/** Options of {@link EmbeddingBag} (PyTorch's keyword arguments in camelCase). */
export interface EmbeddingBagLayerOptions {
  /** How each bag's rows combine. Default 'mean'. */
  mode?: 'sum' | 'mean' | 'max';
  /** Entries with this index are left out of their bag; its row starts at zero. Default none. */
  paddingIdx?: number | null;
  /** Looked-up rows whose norm exceeds this are rescaled to it, in place. Default none. */
  maxNorm?: number | null;
  /** The p of the norm maxNorm compares. Default 2. */
  normType?: number;
  /** offsets carries B + 1 entries, the last the input's end. Default false. */
  includeLastOffset?: boolean;
  /** Sparse gradients: not supported; true is refused. Default false. */
  sparse?: boolean;
  /** The dtype of the weight. Default 'float32'. */
  dtype?: 'float32' | 'float64';
}

/**
 * Sums, means or maxima of bags of embedding rows without materializing the rows per bag, as
 * `torch.nn.EmbeddingBag`. Shape: input int32 [B, L] (fixed bags), or 1-D with offsets [B]
 * (bag b is input[offsets[b] : offsets[b + 1]]); output [B, embeddingDim].
 */
export class EmbeddingBag extends Module {
  /** The table [numEmbeddings, embeddingDim], starting N(0, 1). */
  weight: Parameter;
  /** The index left out of every bag, in [0, numEmbeddings); null for none. */
  readonly paddingIdx: number | null;

  /**
   * @param numEmbeddings - Rows in the table.
   * @param embeddingDim - Length of each row.
   * @param options - mode (default 'mean'), paddingIdx, maxNorm, normType, includeLastOffset, dtype.
   */
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    readonly options: EmbeddingBagLayerOptions = {},
  ) {
    super();
    checkShape('EmbeddingBag', [numEmbeddings, embeddingDim], { names: ['numEmbeddings', 'embeddingDim'] });
    refuseSparse('EmbeddingBag', options.sparse);
    const padding = resolvePaddingIdx('EmbeddingBag', options.paddingIdx, numEmbeddings);
    this.paddingIdx = padding < 0 ? null : padding;
    this.weight = new Parameter(randn([numEmbeddings, embeddingDim], { dtype: options.dtype ?? 'float32' }));
    if (padding >= 0) zeroRow('EmbeddingBag', this.weight, padding);
  }

  /**
   * The combined rows of each bag.
   *
   * @param input - int32 [B, L], or 1-D with offsets.
   * @param offsets - int32 start of each bag in a 1-D input (null for 2-D input).
   * @param perSampleWeights - A float weight per index (input's shape); mode 'sum' only.
   */
  forward(input: Tensor, offsets: Tensor | null = null, perSampleWeights: Tensor | null = null): Tensor {
    return embeddingBag(input, this.weight, {
      ...this.options,
      paddingIdx: this.paddingIdx,
      offsets,
      perSampleWeights,
    });
  }

  override extraRepr(): string {
    const parts = [`${this.numEmbeddings}, ${this.embeddingDim}, mode=${this.options.mode ?? 'mean'}`];
    if (this.paddingIdx !== null) parts.push(`padding_idx=${this.paddingIdx}`);
    return parts.join(', ');
  }
}
