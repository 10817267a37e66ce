/**
 * Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention). Without a mask
 * or dropout it is one backend op that never builds the L x S score matrix: it saves the output
 * and each query row's log-sum-exp, and its backward recomputes the scores tile by tile. With an
 * explicit mask or dropout it composes matmul, softmax and dropout.
 */
import { getBackend } from '../backend/index.js';
import type { AttentionParams, DType, FloatArray } from '../backend/types.js';
import { record } from '../autograd/node.js';
import { NodegradError, formatShape } from '../errors.js';
import { broadcastShapes } from '../tensor/shape.js';
import { uninitTensor, type Tensor } from '../tensor/tensor.js';
import { dropout } from './dropout.js';
import { add, mul } from './elementwise.js';
import { where } from './masks.js';
import { matmul } from './matmul.js';
import { contiguous, denseArray, expand, transpose } from './shape.js';
import { softmax } from './softmax.js';

/** Options of {@link scaledDotProductAttention}. */
export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcasts to [..., L, S]: a bool mask (true = the key takes part) or a float mask added to
   * the scores. Default none.
   */
  attnMask?: Tensor | null;
  /** Probability of dropping an attention weight (applied whenever > 0, as PyTorch). Default 0. */
  dropoutP?: number;
  /** Query i attends to keys j <= i only (top-left aligned when L ≠ S); excludes attnMask. Default false. */
  isCausal?: boolean;
  /** Factor of the scores; default 1 / √E. */
  scale?: number | null;
}

function fail(message: string): never {
  throw new NodegradError('ERR_NODEGRAD_ARGUMENT', `scaledDotProductAttention: ${message}`);
}

/**
 * softmax(q kᵀ · scale + mask) v over the last two dims, as PyTorch 2's
 * `F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)`.
 *
 * Shapes: q [..., L, E], k [..., S, E], v [..., S, Ev] → [..., L, Ev]; the leading dims
 * broadcast. float32 or float64. Without attnMask and dropout (the causal and unmasked cases)
 * memory grows linearly in L and S: a tiled online softmax (FlashAttention's algorithm).
 *
 * @example
 * ```ts
 * const q = ng.randn([2, 4, 16, 8]); // [batch, heads, L, E]
 * const y = ng.nn.functional.scaledDotProductAttention(q, q, q, { isCausal: true }); // [2, 4, 16, 8]
 * ```
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  options: ScaledDotProductAttentionOptions = {},
): Tensor {
  const { attnMask = null, dropoutP = 0, isCausal = false } = options;
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) {
    fail(
      `expected q, k, v of at least 2 dims, got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`,
    );
  }
  for (const t of [q, k, v]) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') fail(`expected float32 or float64 tensors, got ${t.dtype}`);
    if (t.dtype !== q.dtype) fail(`q, k and v must share a dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  }
  const [L, E] = q.shape.slice(-2);
  const [S, Ek] = k.shape.slice(-2);
  const [Sv, Ev] = v.shape.slice(-2);
  if (Ek !== E || Sv !== S) {
    fail(
      `expected q [..., L, E], k [..., S, E], v [..., S, Ev], got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`,
    );
  }
  if (!(dropoutP >= 0 && dropoutP <= 1)) fail(`dropoutP must be in [0, 1], got ${dropoutP}`);
  if (isCausal && attnMask) fail('attnMask must not be given when isCausal is true');
  if (attnMask && attnMask.dtype !== 'bool' && attnMask.dtype !== q.dtype) {
    fail(`attnMask must be bool or ${q.dtype} like q, got ${attnMask.dtype}`);
  }
  const scale = options.scale ?? 1 / Math.sqrt(E);
  const batch = broadcastShapes(
    'scaledDotProductAttention',
    broadcastShapes('scaledDotProductAttention', q.shape.slice(0, -2), k.shape.slice(0, -2)),
    v.shape.slice(0, -2),
  );
  if (attnMask || dropoutP > 0) return materialized(q, k, v, attnMask, dropoutP, isCausal, scale);
  const [qd, kd, vd] = [
    contiguous(expand(q, [...batch, L, E])),
    contiguous(expand(k, [...batch, S, E])),
    contiguous(expand(v, [...batch, S, Ev])),
  ];
  const p: AttentionParams = {
    batch: batch.reduce((a, b) => a * b, 1),
    queries: L,
    keys: S,
    headDim: E,
    valueDim: Ev,
    scale,
    causal: isCausal,
  };
  const out = uninitTensor([...batch, L, Ev], q.dtype);
  const lse = uninitTensor([...batch, L], q.dtype);
  const data = (t: Tensor) => t.storage.data as FloatArray;
  getBackend().attentionForward(p, denseArray(qd), denseArray(kd), denseArray(vd), data(out), data(lse));
  return record(
    'scaledDotProductAttention',
    out,
    [qd, kd, vd],
    (g) => {
      const [gq, gk, gv] = [
        uninitTensor(qd.shape, q.dtype),
        uninitTensor(kd.shape, q.dtype),
        uninitTensor(vd.shape, q.dtype),
      ];
      getBackend().attentionBackward(
        p,
        denseArray(qd),
        denseArray(kd),
        denseArray(vd),
        data(out),
        data(lse),
        denseArray(g),
        data(gq),
        data(gk),
        data(gv),
      );
      return [gq, gk, gv];
    },
    [qd, kd, vd, out, lse],
  );
}

/** The composed path for explicit masks and dropout: builds the [..., L, S] weights. */
function materialized(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  attnMask: Tensor | null,
  dropoutP: number,
  isCausal: boolean,
  scale: number,
): Tensor {
  let scores = mul(matmul(q, transpose(k, -2, -1)), scale);
  const mask = isCausal ? causalMask(q.shape[q.ndim - 2], k.shape[k.ndim - 2], q.dtype) : attnMask;
  if (mask) scores = mask.dtype === 'bool' ? where(mask, scores, -Infinity) : add(scores, mask);
  const weights = dropout(softmax(scores, -1), dropoutP);
  return matmul(weights, v);
}

/** Additive [L, S] mask: 0 where key j <= query i, −∞ elsewhere (the layers' causal mask). */
export function causalMask(L: number, S: number, dtype: DType): Tensor {
  const mask = uninitTensor([L, S], dtype);
  const m = mask.storage.data as FloatArray;
  for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) m[i * S + j] = j <= i ? 0 : -Infinity;
  return mask;
}
