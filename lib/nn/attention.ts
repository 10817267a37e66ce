/** MultiheadAttention with PyTorch's parameters, state-dict keys, masks and returned weights. */
import { NodegradError, formatShape } from '../errors.js';
import { zerosTensor, type Tensor } from '../tensor/tensor.js';
import type { DType } from '../backend/types.js';
import * as ops from '../ops/index.js';
import { causalMask } from '../ops/attention.js';
import { xavierUniform_, zeros_ } from './init.js';
import { Linear } from './layers.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** Options of {@link MultiheadAttention}'s constructor. */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** PyTorch's add_bias_kv; only false (the default) is supported. */
  addBiasKv?: boolean;
  /** Features of `key` (default embedDim). */
  kdim?: number;
  /** Features of `value` (default embedDim). */
  vdim?: number;
  /** Inputs and output are [N, L, E] instead of [L, N, E] (default false). */
  batchFirst?: boolean;
  /** dtype of the parameters (default 'float32'). */
  dtype?: 'float32' | 'float64';
}

/** Options of {@link MultiheadAttention.forward}. */
export interface MultiheadAttentionForwardOptions {
  /** Shape `[N, S]`: true (or −∞ when float) marks a padding key that no query attends to. */
  keyPaddingMask?: Tensor | null;
  /** Also return the attention weights (default true, as PyTorch). */
  needWeights?: boolean;
  /** [L, S] or [N·numHeads, L, S]: true marks a pair that is not allowed; a float mask is added to the scores. */
  attnMask?: Tensor | null;
  /** Average the returned weights over the heads (default true): [N, L, S], else [N, numHeads, L, S]. */
  averageAttnWeights?: boolean;
  /** Query i attends to keys j <= i only; applied when attnMask is absent (a hint otherwise). Default false. */
  isCausal?: boolean;
}

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `MultiheadAttention: ${message}`);
}

/** A bool "not allowed" mask as an additive float mask (−∞ where true), or a float mask as is. */
function additive(mask: Tensor, dtype: DType): Tensor {
  if (mask.dtype !== 'bool') return mask.dtype === dtype ? mask : ops.to(mask, dtype);
  return ops.maskedFill(zerosTensor(mask.shape, dtype), mask, -Infinity);
}

/**
 * Attention over `numHeads` heads of embedDim / numHeads features each, as PyTorch's
 * `torch.nn.MultiheadAttention`: query, key and value are projected, attended per head
 * (softmax(q kᵀ / √headDim + masks) v) and projected back.
 *
 * Parameters: `in_proj_weight` [3E, E] (or `q_proj_weight` [E, E], `k_proj_weight` [E, kdim],
 * `v_proj_weight` [E, vdim] when kdim or vdim differ from E), `in_proj_bias` [3E], `out_proj`
 * (Linear E → E). Shapes: query [L, N, E], key [S, N, kdim], value [S, N, vdim] ([N, L, E] ...
 * with batchFirst; unbatched [L, E] too) → output like query, weights [N, L, S].
 *
 * @example
 * ```ts
 * const mha = new ng.nn.MultiheadAttention(16, 4);
 * const x = ng.randn([10, 2, 16]); // [L, N, E]
 * const [y, weights] = mha.forward(x, x, x); // y [10, 2, 16], weights [2, 10, 10]
 * ```
 */
export class MultiheadAttention extends Module<
  [query: Tensor, key: Tensor, value: Tensor, options?: MultiheadAttentionForwardOptions],
  [Tensor, Tensor | null]
> {
  /** Features of each head. */
  readonly headDim: number;
  /** Features of `key`. */
  readonly kdim: number;
  /** Features of `value`. */
  readonly vdim: number;
  /** Dropout probability on the attention weights. */
  readonly dropout: number;
  /** Whether inputs are [N, L, E]. */
  readonly batchFirst: boolean;
  /** The packed q, k, v projection [3E, E]; null when kdim or vdim differ from E. */
  in_proj_weight: Parameter | null;
  /** The query projection [E, E] when kdim or vdim differ from E, else null. */
  q_proj_weight: Parameter | null;
  /** The key projection [E, kdim] when kdim or vdim differ from E, else null. */
  k_proj_weight: Parameter | null;
  /** The value projection [E, vdim] when kdim or vdim differ from E, else null. */
  v_proj_weight: Parameter | null;
  /** The q, k, v biases [3E]; null without bias. */
  in_proj_bias: Parameter | null;
  /** The output projection E → E. */
  out_proj: Linear;

  /**
   * @param embedDim - Features E of the query and the output.
   * @param numHeads - Heads; embedDim must divide by it.
   * @param options - dropout (0), bias (true), kdim / vdim (embedDim), batchFirst (false), dtype.
   */
  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    if (!Number.isInteger(embedDim) || !Number.isInteger(numHeads) || embedDim <= 0 || numHeads <= 0) {
      fail(`expected positive integers embedDim and numHeads, got ${embedDim} and ${numHeads}`);
    }
    if (embedDim % numHeads !== 0) fail(`embedDim ${embedDim} is not a multiple of numHeads ${numHeads}`);
    if (options.addBiasKv) fail('addBiasKv: true is not supported');
    const dropout = options.dropout ?? 0;
    if (!(dropout >= 0 && dropout <= 1)) fail(`dropout must be in [0, 1], got ${dropout}`);
    const dtype = options.dtype ?? 'float32';
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    this.dropout = dropout;
    this.batchFirst = options.batchFirst ?? false;
    const weight = (rows: number, cols: number) => new Parameter(xavierUniform_(zerosTensor([rows, cols], dtype)));
    const packed = this.kdim === embedDim && this.vdim === embedDim;
    this.in_proj_weight = packed ? weight(3 * embedDim, embedDim) : null;
    this.q_proj_weight = packed ? null : weight(embedDim, embedDim);
    this.k_proj_weight = packed ? null : weight(embedDim, this.kdim);
    this.v_proj_weight = packed ? null : weight(embedDim, this.vdim);
    const bias = options.bias ?? true;
    this.in_proj_bias = bias ? new Parameter(zerosTensor([3 * embedDim], dtype)) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias, dtype });
    if (this.out_proj.bias) zeros_(this.out_proj.bias);
  }

  /**
   * Attends query to key/value. Returns [output, weights]: weights (null when needWeights is
   * false) are softmax's, after dropout, averaged over the heads unless averageAttnWeights is false.
   */
  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    options: MultiheadAttentionForwardOptions = {},
  ): [Tensor, Tensor | null] {
    const batched = query.ndim === 3;
    if (!batched && query.ndim !== 2) fail(`expected query of 2 or 3 dims, got ${formatShape(query.shape)}`);
    if (key.ndim !== query.ndim || value.ndim !== query.ndim) {
      fail(
        `query, key and value must have equal ranks, got ${formatShape(query.shape)}, ${formatShape(key.shape)}, ${formatShape(value.shape)}`,
      );
    }
    // Everything becomes [N, L, E].
    const toBatchFirst = (t: Tensor) => (!batched ? ops.unsqueeze(t, 0) : this.batchFirst ? t : ops.transpose(t, 0, 1));
    const [q0, k0, v0] = [query, key, value].map(toBatchFirst);
    const [N, L, E] = q0.shape;
    const S = k0.shape[1];
    if (
      E !== this.embedDim ||
      k0.shape[2] !== this.kdim ||
      v0.shape[2] !== this.vdim ||
      v0.shape[1] !== S ||
      k0.shape[0] !== N ||
      v0.shape[0] !== N
    ) {
      fail(
        `expected query [L, N, ${this.embedDim}], key [S, N, ${this.kdim}], value [S, N, ${this.vdim}] (batch first: [N, ...]), got ${formatShape(query.shape)}, ${formatShape(key.shape)}, ${formatShape(value.shape)}`,
      );
    }
    const [wq, wk, wv] = this.in_proj_weight
      ? ops.chunk(this.in_proj_weight, 3, 0)
      : [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight].map((w) => w as Tensor);
    const [bq, bk, bv] = this.in_proj_bias ? ops.chunk(this.in_proj_bias, 3, 0) : [null, null, null];
    const H = this.numHeads,
      D = this.headDim;
    // [N, T, E] → [N, H, T, D]
    const heads = (t: Tensor, T: number) => ops.transpose(ops.reshape(t, [N, T, H, D]), 1, 2);
    const q = heads(ops.linear(q0, wq, bq), L);
    const k = heads(ops.linear(k0, wk, bk), S);
    const v = heads(ops.linear(v0, wv, bv), S);
    let mask = this.combinedMask(options, N, L, S, q.dtype);
    // isCausal stands for the causal attnMask when none is given; alone, the fused op applies it.
    let causal = (options.isCausal ?? false) && !options.attnMask;
    if (causal && mask) {
      mask = ops.add(mask, causalMask(L, S, q.dtype));
      causal = false;
    }
    const p = this.training ? this.dropout : 0;
    let attended: Tensor;
    let weights: Tensor | null = null;
    if (options.needWeights ?? true) {
      let scores = ops.mul(ops.matmul(q, ops.transpose(k, -2, -1)), 1 / Math.sqrt(D));
      const full = causal ? causalMask(L, S, q.dtype) : mask;
      if (full) scores = ops.add(scores, full);
      weights = ops.dropout(ops.softmax(scores, -1), p);
      attended = ops.matmul(weights, v);
      if (options.averageAttnWeights ?? true) weights = ops.mean(weights, 1);
      if (!batched) weights = ops.squeeze(weights, 0);
    } else {
      attended = ops.scaledDotProductAttention(q, k, v, { attnMask: mask, isCausal: causal, dropoutP: p });
    }
    // [N, H, L, D] → [N, L, E]
    let out = this.out_proj.forward(ops.reshape(ops.transpose(attended, 1, 2), [N, L, this.embedDim]));
    out = !batched ? ops.squeeze(out, 0) : this.batchFirst ? out : ops.transpose(out, 0, 1);
    return [out, weights];
  }

  /** attnMask and keyPaddingMask as one additive mask broadcasting to [N, H, L, S], or null. */
  private combinedMask(
    o: MultiheadAttentionForwardOptions,
    N: number,
    L: number,
    S: number,
    dtype: DType,
  ): Tensor | null {
    let mask: Tensor | null = null;
    if (o.attnMask) {
      const m = o.attnMask;
      const flat = m.ndim === 2 && m.shape[0] === L && m.shape[1] === S;
      const perHead = m.ndim === 3 && m.shape[0] === N * this.numHeads && m.shape[1] === L && m.shape[2] === S;
      if (!flat && !perHead)
        fail(`expected attnMask [${L}, ${S}] or [${N * this.numHeads}, ${L}, ${S}], got ${formatShape(m.shape)}`);
      mask = additive(perHead ? ops.reshape(m, [N, this.numHeads, L, S]) : m, dtype);
    }
    if (o.keyPaddingMask) {
      const m = o.keyPaddingMask;
      const unbatched = N === 1 && m.ndim === 1 && m.shape[0] === S;
      if (!unbatched && !(m.ndim === 2 && m.shape[0] === N && m.shape[1] === S)) {
        fail(`expected keyPaddingMask [${N}, ${S}], got ${formatShape(m.shape)}`);
      }
      const padding = additive(ops.reshape(m, [N, 1, 1, S]), dtype);
      mask = mask ? ops.add(mask, padding) : padding;
    }
    return mask;
  }

  override extraRepr(): string {
    return '';
  }
}
