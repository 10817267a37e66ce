/**
 * Reference attention kernels: each query row's scores materialized, softmax, weighted sum of
 * values, in float64 — the oracle for native/attention.cc's tiled online softmax.
 */
import type { AttentionParams, Backend } from './types.js';

type AttentionKernels = Pick<Backend, 'attentionForward' | 'attentionBackward'>;

/** The keys query row i sees: all, or (causal) the first i + 1. */
function visible(p: AttentionParams, i: number): number {
  return p.causal ? Math.min(p.keys, i + 1) : p.keys;
}

/** Probabilities of row i of batch entry b (length visible(p, i)) and the row's log-sum-exp. */
function rowProbabilities(
  p: AttentionParams,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  b: number,
  i: number,
): { probs: Float64Array; lse: number } {
  const { headDim: E, queries: L, keys: S } = p;
  const n = visible(p, i);
  const probs = new Float64Array(n);
  let max = -Infinity;
  for (let j = 0; j < n; j++) {
    let dot = 0;
    for (let d = 0; d < E; d++) dot += q[(b * L + i) * E + d] * k[(b * S + j) * E + d];
    probs[j] = dot * p.scale;
    max = Math.max(max, probs[j]);
  }
  if (n === 0) return { probs, lse: -Infinity };
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(probs[j] - max);
  const lse = max + Math.log(sum);
  for (let j = 0; j < n; j++) probs[j] = Math.exp(probs[j] - lse);
  return { probs, lse };
}

export const referenceAttentionKernels: AttentionKernels = {
  attentionForward(p, q, k, v, out, logsumexp) {
    const { batch, queries: L, keys: S, valueDim: Ev } = p;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < L; i++) {
        const { probs, lse } = rowProbabilities(p, q, k, b, i);
        logsumexp[b * L + i] = lse;
        for (let d = 0; d < Ev; d++) {
          let acc = 0;
          for (let j = 0; j < probs.length; j++) acc += probs[j] * v[(b * S + j) * Ev + d];
          out[(b * L + i) * Ev + d] = acc;
        }
      }
    }
  },

  attentionBackward(p, q, k, v, out, _logsumexp, gradOut, gradQ, gradK, gradV) {
    const { batch, queries: L, keys: S, headDim: E, valueDim: Ev, scale } = p;
    gradQ.fill(0, 0, batch * L * E);
    gradK.fill(0, 0, batch * S * E);
    gradV.fill(0, 0, batch * S * Ev);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < L; i++) {
        const { probs } = rowProbabilities(p, q, k, b, i);
        const go = (b * L + i) * Ev;
        let delta = 0;
        for (let d = 0; d < Ev; d++) delta += gradOut[go + d] * out[go + d];
        for (let j = 0; j < probs.length; j++) {
          let dp = 0;
          for (let d = 0; d < Ev; d++) {
            dp += gradOut[go + d] * v[(b * S + j) * Ev + d];
            gradV[(b * S + j) * Ev + d] += probs[j] * gradOut[go + d];
          }
          const ds = probs[j] * (dp - delta) * scale;
          for (let d = 0; d < E; d++) {
            gradQ[(b * L + i) * E + d] += ds * k[(b * S + j) * E + d];
            gradK[(b * S + j) * E + d] += ds * q[(b * L + i) * E + d];
          }
        }
      }
    }
  },
};
