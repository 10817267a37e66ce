// Scaled dot-product attention without the L x S score matrix: FlashAttention's tiled online
// softmax on the CPU. Inputs are dense [batch, rows, features] (batch = every leading dim).
#pragma once
#include <cstdint>

namespace nodegrad {

struct AttentionArgs {
  int64_t batch = 0;     // batch · heads
  int64_t queries = 0;   // L
  int64_t keys = 0;      // S
  int64_t headDim = 0;   // E (queries and keys)
  int64_t valueDim = 0;  // Ev
  double scale = 1;
  bool causal = false;  // query i sees keys j <= i (top-left aligned, as torch's is_causal)
};

// out [batch, L, Ev] = softmax(q kᵀ · scale) v; logsumexp [batch, L] = each score row's log-sum-exp
// (-inf for a row that sees no key, whose output is 0).
template <typename T>
void attentionForward(const AttentionArgs& a, const T* q, const T* k, const T* v, T* out, T* logsumexp);

// gradQ, gradK, gradV (overwritten) from gradOut, recomputing the score tiles from q, k and the
// saved logsumexp.
template <typename T>
void attentionBackward(const AttentionArgs& a, const T* q, const T* k, const T* v, const T* out, const T* logsumexp,
                       const T* gradOut, T* gradQ, T* gradK, T* gradV);

}  // namespace nodegrad
