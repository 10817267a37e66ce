/** Stacks of transformer layers and the full encoder-decoder Transformer, as PyTorch's. */
import { NodegradError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { causalMask } from '../ops/attention.js';
import { ModuleList } from './containers.js';
import { xavierUniform_ } from './init.js';
import { Module } from './module.js';
import {
  transformerNorm,
  replicateTransformerLayer,
  TransformerDecoderLayer,
  TransformerEncoderLayer,
  type DecoderMasks,
  type EncoderMasks,
  type TransformerLayerOptions,
} from './transformer.js';

/** Options of {@link TransformerEncoder} and {@link TransformerDecoder}. */
export interface TransformerStackOptions {
  /** A module applied to the last layer's output (PyTorch's `norm`), default none. */
  norm?: Module | null;
}

function checkCount(stack: string, numLayers: number): void {
  if (!Number.isInteger(numLayers) || numLayers < 0) {
    throw new NodegradError(
      'ERR_NODEGRAD_ARGUMENT',
      `${stack}: numLayers must be a non-negative integer, got ${numLayers}`,
    );
  }
}

/**
 * `numLayers` copies of an encoder layer applied in turn, then `norm`, as PyTorch's
 * `torch.nn.TransformerEncoder` (each copy starts with the template's weights). Keys `layers.0....`, `norm....`.
 *
 * @example
 * ```ts
 * const encoder = new ng.nn.TransformerEncoder(new ng.nn.TransformerEncoderLayer(32, 4), 2);
 * encoder.forward(ng.randn([10, 2, 32])).shape; // [10, 2, 32]
 * ```
 */
export class TransformerEncoder extends Module<[src: Tensor, masks?: EncoderMasks]> {
  /** The layers. */
  layers: ModuleList<TransformerEncoderLayer>;
  /** The final normalization, or null. */
  norm: Module | null;

  /**
   * @param encoderLayer - The template layer, copied numLayers times.
   * @param numLayers - Layers in the stack.
   * @param options - norm (default none).
   */
  constructor(encoderLayer: TransformerEncoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    checkCount('TransformerEncoder', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => replicateTransformerLayer(encoderLayer)));
    this.norm = options.norm ?? null;
  }

  /** src [T, N, dModel] (or batch first) through every layer, with the same masks. */
  forward(src: Tensor, masks: EncoderMasks = {}): Tensor {
    let x = src;
    for (const layer of this.layers) x = layer.forward(x, masks);
    return this.norm ? this.norm.forward(x) : x;
  }
}

/**
 * `numLayers` copies of a decoder layer applied in turn to the target, each attending to the same
 * memory, then `norm`, as PyTorch's `torch.nn.TransformerDecoder`.
 *
 * @example
 * ```ts
 * const decoder = new ng.nn.TransformerDecoder(new ng.nn.TransformerDecoderLayer(32, 4), 2);
 * decoder.forward(ng.randn([7, 2, 32]), ng.randn([10, 2, 32])).shape; // [7, 2, 32]
 * ```
 */
export class TransformerDecoder extends Module<[tgt: Tensor, memory: Tensor, masks?: DecoderMasks]> {
  /** The layers. */
  layers: ModuleList<TransformerDecoderLayer>;
  /** The final normalization, or null. */
  norm: Module | null;

  /**
   * @param decoderLayer - The template layer, copied numLayers times.
   * @param numLayers - Layers in the stack.
   * @param options - norm (default none).
   */
  constructor(decoderLayer: TransformerDecoderLayer, numLayers: number, options: TransformerStackOptions = {}) {
    super();
    checkCount('TransformerDecoder', numLayers);
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => replicateTransformerLayer(decoderLayer)));
    this.norm = options.norm ?? null;
  }

  /** tgt [T, N, dModel] attending to memory [S, N, dModel] → [T, N, dModel]. */
  forward(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers) x = layer.forward(x, memory, masks);
    return this.norm ? this.norm.forward(x) : x;
  }
}

/** Options of {@link Transformer}: the layers' options plus the model's sizes. */
export interface TransformerOptions extends TransformerLayerOptions {
  /** Features of each position (default 512). */
  dModel?: number;
  /** Attention heads (default 8). */
  nhead?: number;
  /** Encoder layers (default 6). */
  numEncoderLayers?: number;
  /** Decoder layers (default 6). */
  numDecoderLayers?: number;
}

/** Masks of {@link Transformer.forward}. */
export interface TransformerMasks extends DecoderMasks {
  /** Shape `[S, S]`: the source's self-attention mask. */
  srcMask?: Tensor | null;
  /** Shape `[N, S]`: true marks source padding in the encoder (memoryKeyPaddingMask masks it for the decoder). */
  srcKeyPaddingMask?: Tensor | null;
  /** Causal source self-attention (when srcMask is absent). */
  srcIsCausal?: boolean;
}

/**
 * The encoder-decoder transformer of "Attention Is All You Need", as PyTorch's `torch.nn.Transformer`:
 * an encoder stack and a decoder stack, each ending in a LayerNorm; every matrix parameter is
 * Xavier-uniform initialized. src [S, N, dModel], tgt [T, N, dModel] → [T, N, dModel].
 *
 * @example
 * ```ts
 * const model = new ng.nn.Transformer({ dModel: 32, nhead: 4, numEncoderLayers: 2, numDecoderLayers: 2 });
 * const tgtMask = ng.nn.Transformer.generateSquareSubsequentMask(7);
 * model.forward(ng.randn([10, 2, 32]), ng.randn([7, 2, 32]), { tgtMask }).shape; // [7, 2, 32]
 * ```
 */
export class Transformer extends Module<[src: Tensor, tgt: Tensor, masks?: TransformerMasks]> {
  /** The encoder stack (with its final norm). */
  encoder: TransformerEncoder;
  /** The decoder stack (with its final norm). */
  decoder: TransformerDecoder;
  /** Features of each position. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** Inputs are [N, T, E]. */
  readonly batchFirst: boolean;

  /** @param options - dModel (512), nhead (8), numEncoderLayers (6), numDecoderLayers (6) and the layers' options. */
  constructor(options: TransformerOptions = {}) {
    super();
    const { dModel = 512, nhead = 8, numEncoderLayers = 6, numDecoderLayers = 6, ...layer } = options;
    const eps = layer.layerNormEps ?? 1e-5,
      bias = layer.bias ?? true;
    this.encoder = new TransformerEncoder(new TransformerEncoderLayer(dModel, nhead, layer), numEncoderLayers, {
      norm: transformerNorm(dModel, eps, bias),
    });
    this.decoder = new TransformerDecoder(new TransformerDecoderLayer(dModel, nhead, layer), numDecoderLayers, {
      norm: transformerNorm(dModel, eps, bias),
    });
    this.dModel = dModel;
    this.nhead = nhead;
    this.batchFirst = layer.batchFirst ?? false;
    for (const p of this.parameters()) if (p.ndim > 1) xavierUniform_(p);
  }

  /** Encodes src, then decodes tgt attending to the encoding. */
  forward(src: Tensor, tgt: Tensor, masks: TransformerMasks = {}): Tensor {
    const memory = this.encoder.forward(src, {
      mask: masks.srcMask,
      srcKeyPaddingMask: masks.srcKeyPaddingMask,
      isCausal: masks.srcIsCausal,
    });
    return this.decoder.forward(tgt, memory, masks);
  }

  /**
   * The additive causal mask [size, size]: 0 on and below the diagonal, −∞ above, as PyTorch's
   * `Transformer.generate_square_subsequent_mask`.
   */
  static generateSquareSubsequentMask(size: number): Tensor {
    if (!Number.isInteger(size) || size < 0) {
      throw new NodegradError(
        'ERR_NODEGRAD_ARGUMENT',
        `Transformer.generateSquareSubsequentMask: size must be a non-negative integer, got ${size}`,
      );
    }
    return causalMask(size, size, 'float32');
  }
}
