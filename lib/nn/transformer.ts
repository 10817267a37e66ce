/**
 * The transformer layers of PyTorch's torch.nn.modules.transformer: encoder and decoder layers
 * (post-norm, or pre-norm with normFirst), their stacks and the full encoder-decoder Transformer,
 * with PyTorch's state-dict keys (self_attn.in_proj_weight, linear1.weight, norm1.weight, ...).
 */
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import * as ops from '../ops/index.js';
import { MultiheadAttention } from './attention.js';
import { Dropout, Linear } from './layers.js';
import { Module } from './module.js';
import { LayerNorm } from './normalization.js';

/** Options of {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer}. */
export interface TransformerLayerOptions {
  /** Hidden features of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout after attention, inside and after the feed-forward block (default 0.1). */
  dropout?: number;
  /** Feed-forward activation (default 'relu'). */
  activation?: 'relu' | 'gelu';
  /** eps of the LayerNorms (default 1e-5). */
  layerNormEps?: number;
  /** Inputs are [N, T, E] instead of [T, N, E] (default false). */
  batchFirst?: boolean;
  /** Pre-norm: LayerNorm before each block instead of after the residual sum (default false). */
  normFirst?: boolean;
  /** Biases in the Linear layers and LayerNorms (default true). */
  bias?: boolean;
}

/** The layers' nn.LayerNorm(dim, { eps, bias }). */
export function transformerNorm(dim: number, eps = 1e-5, bias = true): LayerNorm {
  return new LayerNorm(dim, { eps, bias });
}

function checkLayer(layer: string, dModel: number, nhead: number, o: TransformerLayerOptions): void {
  const activation: unknown = o.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'gelu') {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${layer}: activation must be 'relu' or 'gelu', got '${String(activation)}'`,
    );
  }
  if (!Number.isInteger(dModel) || !Number.isInteger(nhead) || dModel <= 0 || nhead <= 0 || dModel % nhead !== 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${layer}: expected dModel a positive multiple of nhead, got dModel ${dModel} and nhead ${nhead}`,
    );
  }
}

/** Masks of {@link TransformerEncoderLayer.forward} and {@link TransformerEncoder.forward}. */
export interface EncoderMasks {
  /** Shape `[T, T]` (or `[N·nhead, T, T]`): true or −∞ marks a pair that is not allowed. */
  mask?: Tensor | null;
  /** Shape `[N, T]`: true marks padding. */
  srcKeyPaddingMask?: Tensor | null;
  /** Apply a causal mask (when `mask` is absent). */
  isCausal?: boolean;
}

/** Masks of {@link TransformerDecoderLayer.forward} and {@link TransformerDecoder.forward}. */
export interface DecoderMasks {
  /** Shape `[T, T]`: the target's self-attention mask. */
  tgtMask?: Tensor | null;
  /** Shape `[T, S]`: the cross-attention mask. */
  memoryMask?: Tensor | null;
  /** Shape `[N, T]`: true marks target padding. */
  tgtKeyPaddingMask?: Tensor | null;
  /** Shape `[N, S]`: true marks memory padding. */
  memoryKeyPaddingMask?: Tensor | null;
  /** Causal self-attention (when tgtMask is absent). */
  tgtIsCausal?: boolean;
  /** Causal cross-attention (when memoryMask is absent). */
  memoryIsCausal?: boolean;
}

/** The feed-forward block linear2(dropout(act(linear1(x)))), shared by both layers. */
abstract class FeedForwardLayer<Args extends unknown[]> extends Module<Args> {
  abstract linear1: Linear;
  abstract dropout: Dropout;
  abstract linear2: Linear;
  /** The feed-forward activation. */
  protected abstract readonly activation: 'relu' | 'gelu';

  /** linear2(dropout(activation(linear1(x)))). */
  protected feedForward(x: Tensor): Tensor {
    const hidden = ops.linear(x, this.linear1.weight, this.linear1.bias);
    const act = this.activation === 'gelu' ? ops.gelu(hidden) : ops.relu(hidden);
    return this.linear2.forward(this.dropout.forward(act));
  }
}

/**
 * One encoder layer, as PyTorch's `torch.nn.TransformerEncoderLayer`: self-attention and a
 * feed-forward block, each with dropout, a residual connection and LayerNorm (after the sum, or
 * before the block with normFirst). src [T, N, dModel] ([N, T, dModel] with batchFirst) → same shape.
 *
 * @example
 * ```ts
 * const layer = new ng.nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64 });
 * layer.forward(ng.randn([10, 2, 32])).shape; // [10, 2, 32]
 * ```
 */
export class TransformerEncoderLayer extends FeedForwardLayer<[src: Tensor, masks?: EncoderMasks]> {
  /** Self-attention. */
  self_attn: MultiheadAttention;
  /** dModel → dimFeedforward. */
  linear1: Linear;
  /** Dropout inside the feed-forward block. */
  dropout: Dropout;
  /** dimFeedforward → dModel. */
  linear2: Linear;
  /** LayerNorm of the attention block. */
  norm1: LayerNorm;
  /** LayerNorm of the feed-forward block. */
  norm2: LayerNorm;
  /** Dropout of the attention block's output. */
  dropout1: Dropout;
  /** Dropout of the feed-forward block's output. */
  dropout2: Dropout;
  /** The feed-forward activation. */
  protected readonly activation: 'relu' | 'gelu';
  /** Pre-norm. */
  readonly normFirst: boolean;

  /**
   * @param dModel - Features of each position.
   * @param nhead - Attention heads.
   * @param options - dimFeedforward (2048), dropout (0.1), activation ('relu'), layerNormEps (1e-5),
   *   batchFirst (false), normFirst (false), bias (true).
   */
  constructor(
    readonly dModel: number,
    readonly nhead: number,
    readonly options: TransformerLayerOptions = {},
  ) {
    super();
    checkLayer('TransformerEncoderLayer', dModel, nhead, options);
    const { dimFeedforward = 2048, dropout = 0.1, layerNormEps = 1e-5, bias = true } = options;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout, bias, batchFirst: options.batchFirst });
    this.linear1 = new Linear(dModel, dimFeedforward, { bias });
    this.dropout = new Dropout(dropout);
    this.linear2 = new Linear(dimFeedforward, dModel, { bias });
    this.norm1 = transformerNorm(dModel, layerNormEps, bias);
    this.norm2 = transformerNorm(dModel, layerNormEps, bias);
    this.dropout1 = new Dropout(dropout);
    this.dropout2 = new Dropout(dropout);
    this.activation = options.activation ?? 'relu';
    this.normFirst = options.normFirst ?? false;
  }

  /** src [T, N, dModel] (or batch first) → same shape. */
  forward(src: Tensor, masks: EncoderMasks = {}): Tensor {
    const attend = (x: Tensor) =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, {
          attnMask: masks.mask,
          keyPaddingMask: masks.srcKeyPaddingMask,
          isCausal: masks.isCausal,
          needWeights: false,
        })[0],
      );
    const ff = (x: Tensor) => this.dropout2.forward(this.feedForward(x));
    if (this.normFirst) {
      const x = ops.add(src, attend(this.norm1.forward(src)));
      return ops.add(x, ff(this.norm2.forward(x)));
    }
    const x = this.norm1.forward(ops.add(src, attend(src)));
    return this.norm2.forward(ops.add(x, ff(x)));
  }
}

/**
 * One decoder layer, as PyTorch's `torch.nn.TransformerDecoderLayer`: self-attention over the
 * target, cross-attention to the encoder's memory, and a feed-forward block, each with dropout, a
 * residual connection and LayerNorm. tgt [T, N, dModel], memory [S, N, dModel] → [T, N, dModel].
 *
 * @example
 * ```ts
 * const layer = new ng.nn.TransformerDecoderLayer(32, 4, { dimFeedforward: 64 });
 * layer.forward(ng.randn([7, 2, 32]), ng.randn([10, 2, 32])).shape; // [7, 2, 32]
 * ```
 */
export class TransformerDecoderLayer extends FeedForwardLayer<[tgt: Tensor, memory: Tensor, masks?: DecoderMasks]> {
  /** Self-attention over the target. */
  self_attn: MultiheadAttention;
  /** Cross-attention to the memory. */
  multihead_attn: MultiheadAttention;
  /** dModel → dimFeedforward. */
  linear1: Linear;
  /** Dropout inside the feed-forward block. */
  dropout: Dropout;
  /** dimFeedforward → dModel. */
  linear2: Linear;
  /** LayerNorm of the self-attention block. */
  norm1: LayerNorm;
  /** LayerNorm of the cross-attention block. */
  norm2: LayerNorm;
  /** LayerNorm of the feed-forward block. */
  norm3: LayerNorm;
  /** Dropout of the self-attention block's output. */
  dropout1: Dropout;
  /** Dropout of the cross-attention block's output. */
  dropout2: Dropout;
  /** Dropout of the feed-forward block's output. */
  dropout3: Dropout;
  /** The feed-forward activation. */
  protected readonly activation: 'relu' | 'gelu';
  /** Pre-norm. */
  readonly normFirst: boolean;

  /**
   * @param dModel - Features of each position.
   * @param nhead - Attention heads.
   * @param options - as {@link TransformerEncoderLayer}'s.
   */
  constructor(
    readonly dModel: number,
    readonly nhead: number,
    readonly options: TransformerLayerOptions = {},
  ) {
    super();
    checkLayer('TransformerDecoderLayer', dModel, nhead, options);
    const { dimFeedforward = 2048, dropout = 0.1, layerNormEps = 1e-5, bias = true } = options;
    const attention = () => new MultiheadAttention(dModel, nhead, { dropout, bias, batchFirst: options.batchFirst });
    this.self_attn = attention();
    this.multihead_attn = attention();
    this.linear1 = new Linear(dModel, dimFeedforward, { bias });
    this.dropout = new Dropout(dropout);
    this.linear2 = new Linear(dimFeedforward, dModel, { bias });
    this.norm1 = transformerNorm(dModel, layerNormEps, bias);
    this.norm2 = transformerNorm(dModel, layerNormEps, bias);
    this.norm3 = transformerNorm(dModel, layerNormEps, bias);
    this.dropout1 = new Dropout(dropout);
    this.dropout2 = new Dropout(dropout);
    this.dropout3 = new Dropout(dropout);
    this.activation = options.activation ?? 'relu';
    this.normFirst = options.normFirst ?? false;
  }

  /** tgt [T, N, dModel], memory [S, N, dModel] (or batch first) → [T, N, dModel]. */
  forward(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    const selfAttend = (x: Tensor) =>
      this.dropout1.forward(
        this.self_attn.forward(x, x, x, {
          attnMask: masks.tgtMask,
          keyPaddingMask: masks.tgtKeyPaddingMask,
          isCausal: masks.tgtIsCausal,
          needWeights: false,
        })[0],
      );
    const crossAttend = (x: Tensor) =>
      this.dropout2.forward(
        this.multihead_attn.forward(x, memory, memory, {
          attnMask: masks.memoryMask,
          keyPaddingMask: masks.memoryKeyPaddingMask,
          isCausal: masks.memoryIsCausal,
          needWeights: false,
        })[0],
      );
    const ff = (x: Tensor) => this.dropout3.forward(this.feedForward(x));
    const [n1, n2, n3] = [this.norm1, this.norm2, this.norm3];
    if (this.normFirst) {
      let x = ops.add(tgt, selfAttend(n1.forward(tgt)));
      x = ops.add(x, crossAttend(n2.forward(x)));
      return ops.add(x, ff(n3.forward(x)));
    }
    let x = n1.forward(ops.add(tgt, selfAttend(tgt)));
    x = n2.forward(ops.add(x, crossAttend(x)));
    return n3.forward(ops.add(x, ff(x)));
  }
}

/** A fresh layer with the template's configuration and a copy of its weights (PyTorch deep-copies). */
function replicate<L extends TransformerEncoderLayer | TransformerDecoderLayer>(layer: L): L {
  const Layer = layer.constructor as new (dModel: number, nhead: number, options: TransformerLayerOptions) => L;
  const copy = new Layer(layer.dModel, layer.nhead, layer.options);
  copy.loadStateDict(layer.stateDict());
  copy.train(layer.training);
  return copy;
}

export { replicate as replicateTransformerLayer };
