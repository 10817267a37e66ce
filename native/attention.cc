// Scaled dot-product attention, FlashAttention-style: a task takes one (batch, query block) pair,
// walks the key blocks with a running max and sum per query row, and rescales its output
// accumulator whenever the max grows; only the output and each row's log-sum-exp are stored. The
// backward recomputes each score tile from q, k and the log-sum-exp. Tile products run on the
// GEMM's serial entry (its per-ISA micro-kernels); the softmax loops vectorize (NODEGRAD_CLONES).
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "fast_math.h"
#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

// Tile sizes: a packed key tile (E x kBlockK) and a query tile's scores (kBlockQ x kBlockK) stay
// in L1/L2 for E up to 128.
constexpr int64_t kBlockQ = 64;
constexpr int64_t kBlockK = 64;
static_assert(kBlockQ == kBlockK, "the causal backward starts its query tiles at the key tile");

using fast::expNonPositive;

// Keys query row `row` of a tile starting at key `k0` may see: all n, or (causal) those <= row.
inline int64_t visibleKeys(const AttentionArgs& a, int64_t row, int64_t k0, int64_t n) {
  if (!a.causal) return n;
  return std::clamp<int64_t>(row - k0 + 1, 0, n);
}

inline void gemmSerial(const GemmArgs& g, const float* a, const float* b, float* c) { gemm_f32_serial(g, a, b, c); }
inline void gemmSerial(const GemmArgs& g, const double* a, const double* b, double* c) { gemm_f64_serial(g, a, b, c); }

// c (m x n, row stride ldc) = alpha · op(a) op(b) + beta · c on the calling thread; a and b are
// row-major with row strides lda and ldb as stored.
template <typename T>
void tileProduct(bool transA, bool transB, int64_t m, int64_t n, int64_t k, double alpha, const T* a, int64_t lda,
                 const T* b, int64_t ldb, double beta, T* c, int64_t ldc) {
  GemmArgs g;
  g.transA = transA;
  g.transB = transB;
  g.m = m;
  g.n = n;
  g.k = k;
  g.lda = lda;
  g.ldb = ldb;
  g.ldc = ldc;
  g.alpha = alpha;
  g.beta = beta;
  gemmSerial(g, a, b, c);
}

// One query tile of one batch entry: rows [q0, q0 + rows). Scores and the weighted sum of values
// are GEMMs on tiles: the GEMM's packed micro-kernels took causal forward+backward at B·H = 16,
// T = 1024, E = 64 from 733 ms (row-by-row vectorized loops) to 103 ms on 2 threads.
template <typename T>
NODEGRAD_CLONES void forwardTile(const AttentionArgs& a, int64_t b, int64_t q0, int64_t rows, const T* q, const T* k,
                                 const T* v, T* out, T* logsumexp, std::vector<T>& scratch) {
  const int64_t E = a.headDim, Ev = a.valueDim, S = a.keys;
  scratch.resize(static_cast<size_t>(kBlockQ * kBlockK + kBlockQ * Ev + 2 * kBlockQ));
  T* const scores = scratch.data();
  T* const acc = scores + kBlockQ * kBlockK;
  T* const rowMax = acc + kBlockQ * Ev;
  T* const rowSum = rowMax + kBlockQ;
  const T* const qb = q + (b * a.queries + q0) * E;
  const T* const kb = k + b * S * E;
  const T* const vb = v + b * S * Ev;
  std::fill(acc, acc + rows * Ev, T(0));
  std::fill(rowMax, rowMax + rows, -std::numeric_limits<T>::infinity());
  std::fill(rowSum, rowSum + rows, T(0));
  const int64_t keyEnd = a.causal ? std::min(S, q0 + rows) : S;
  for (int64_t k0 = 0; k0 < keyEnd; k0 += kBlockK) {
    const int64_t n = std::min(kBlockK, S - k0);
    tileProduct<T>(false, true, rows, n, E, a.scale, qb, E, kb + k0 * E, E, 0, scores, kBlockK);
    for (int64_t i = 0; i < rows; ++i) {
      T* const p = scores + i * kBlockK;
      const int64_t seen = visibleKeys(a, q0 + i, k0, n);
      std::fill(p + seen, p + n, T(0));
      if (seen == 0) continue;
      T tileMax = p[0];
      for (int64_t c = 1; c < seen; ++c) tileMax = p[c] > tileMax ? p[c] : tileMax;
      const T newMax = std::max(rowMax[i], tileMax);
      // The first tile finds rowMax = -inf: the (empty) accumulator's factor is 0.
      const T rescale = rowMax[i] == -std::numeric_limits<T>::infinity() ? T(0) : std::exp(rowMax[i] - newMax);
      rowMax[i] = newMax;
      // Two loops: the exponentials vectorize, the (ordered) sum would not.
      for (int64_t c = 0; c < seen; ++c) p[c] = expNonPositive(p[c] - newMax);
      T sum = 0;
      for (int64_t c = 0; c < seen; ++c) sum += p[c];
      rowSum[i] = rowSum[i] * rescale + sum;
      if (rescale != T(1))
        for (int64_t d = 0; d < Ev; ++d) acc[i * Ev + d] *= rescale;
    }
    tileProduct<T>(false, false, rows, Ev, n, 1, scores, kBlockK, vb + k0 * Ev, Ev, 1, acc, Ev);
  }
  T* const outTile = out + (b * a.queries + q0) * Ev;
  T* const lseTile = logsumexp + b * a.queries + q0;
  for (int64_t i = 0; i < rows; ++i) {
    const T inv = rowSum[i] > T(0) ? T(1) / rowSum[i] : T(0);
    for (int64_t d = 0; d < Ev; ++d) outTile[i * Ev + d] = acc[i * Ev + d] * inv;
    lseTile[i] = rowSum[i] > T(0) ? rowMax[i] + std::log(rowSum[i]) : -std::numeric_limits<T>::infinity();
  }
}

// The key tiles k0 = (first + j · step) · kBlockK of one batch entry: their gradK and gradV rows
// (written), and their share of gradQ (added into dq, [L, E]). delta[i] = rowsum(gradOut_i ∘ out_i).
template <typename T>
NODEGRAD_CLONES void backwardTiles(const AttentionArgs& a, int64_t b, int64_t first, int64_t step, const T* q,
                                   const T* k, const T* v, const T* logsumexp, const T* gradOut, const T* delta, T* dq,
                                   T* gradK, T* gradV, std::vector<T>& scratch) {
  const int64_t E = a.headDim, Ev = a.valueDim, L = a.queries, S = a.keys;
  scratch.resize(static_cast<size_t>(2 * kBlockQ * kBlockK));
  T* const p = scratch.data();
  T* const ds = p + kBlockQ * kBlockK;
  const T scale = static_cast<T>(a.scale);
  const T* const qb = q + b * L * E;
  const T* const kb = k + b * S * E;
  const T* const vb = v + b * S * Ev;
  const T* const gob = gradOut + b * L * Ev;
  const T* const lse = logsumexp + b * L;
  const T* const deltaB = delta + b * L;
  for (int64_t tile = first; tile * kBlockK < S; tile += step) {
    const int64_t k0 = tile * kBlockK, n = std::min(kBlockK, S - k0);
    T* const dk = gradK + (b * S + k0) * E;
    T* const dv = gradV + (b * S + k0) * Ev;
    std::fill(dk, dk + n * E, T(0));
    std::fill(dv, dv + n * Ev, T(0));
    // kBlockQ == kBlockK: with a causal mask the first query tile that sees key k0 starts at k0.
    for (int64_t q0 = a.causal ? k0 : 0; q0 < L; q0 += kBlockQ) {
      const int64_t rows = std::min(kBlockQ, L - q0);
      tileProduct<T>(false, true, rows, n, E, a.scale, qb + q0 * E, E, kb + k0 * E, E, 0, p, kBlockK);
      tileProduct<T>(false, true, rows, n, Ev, 1, gob + q0 * Ev, Ev, vb + k0 * Ev, Ev, 0, ds, kBlockK);
      for (int64_t i = 0; i < rows; ++i) {
        T* const pr = p + i * kBlockK;
        T* const dsr = ds + i * kBlockK;
        const T rowLse = lse[q0 + i];
        const int64_t seen = rowLse == -std::numeric_limits<T>::infinity() ? 0 : visibleKeys(a, q0 + i, k0, n);
        const T d = deltaB[q0 + i];
        for (int64_t c = 0; c < seen; ++c) {
          pr[c] = expNonPositive(pr[c] - rowLse);
          dsr[c] = pr[c] * (dsr[c] - d) * scale;
        }
        std::fill(pr + seen, pr + n, T(0));
        std::fill(dsr + seen, dsr + n, T(0));
      }
      tileProduct<T>(true, false, n, Ev, rows, 1, p, kBlockK, gob + q0 * Ev, Ev, 1, dv, Ev);
      tileProduct<T>(true, false, n, E, rows, 1, ds, kBlockK, qb + q0 * E, E, 1, dk, E);
      tileProduct<T>(false, false, rows, E, n, 1, ds, kBlockK, kb + k0 * E, E, 1, dq + q0 * E, E);
    }
  }
}

}  // namespace

template <typename T>
void attentionForward(const AttentionArgs& a, const T* q, const T* k, const T* v, T* out, T* logsumexp) {
  const int64_t tiles = (a.queries + kBlockQ - 1) / kBlockQ;
  // Causal tiles further down see more keys: hand those out first.
  parallelFor(a.batch * tiles, [&](int64_t task) {
    thread_local std::vector<T> scratch;
    const int64_t b = task / tiles, tile = tiles - 1 - task % tiles;
    const int64_t q0 = tile * kBlockQ;
    forwardTile(a, b, q0, std::min(kBlockQ, a.queries - q0), q, k, v, out, logsumexp, scratch);
  });
}

template <typename T>
void attentionBackward(const AttentionArgs& a, const T* q, const T* k, const T* v, const T* out, const T* logsumexp,
                       const T* gradOut, T* gradQ, T* gradK, T* gradV) {
  const int64_t L = a.queries, E = a.headDim, Ev = a.valueDim;
  std::vector<T> delta(static_cast<size_t>(a.batch * L));
  for (int64_t r = 0; r < a.batch * L; ++r) {
    T sum = 0;
    for (int64_t d = 0; d < Ev; ++d) sum += gradOut[r * Ev + d] * out[r * Ev + d];
    delta[static_cast<size_t>(r)] = sum;
  }
  // One task per (batch entry, share of its key tiles); with fewer entries than threads, the key
  // tiles of an entry are dealt round-robin to several tasks, each adding into its own gradQ copy.
  const int64_t keyTiles = (a.keys + kBlockK - 1) / kBlockK;
  const int64_t shares = std::clamp<int64_t>((numThreads() + a.batch - 1) / std::max<int64_t>(a.batch, 1), 1,
                                             std::max<int64_t>(keyTiles, 1));
  std::vector<T> partial(shares > 1 ? static_cast<size_t>(a.batch * shares * L * E) : 0);
  std::fill(gradQ, gradQ + a.batch * L * E, T(0));
  parallelFor(a.batch * shares, [&](int64_t task) {
    thread_local std::vector<T> scratch;
    const int64_t b = task / shares, share = task % shares;
    T* const dq = shares > 1 ? partial.data() + task * L * E : gradQ + b * L * E;
    backwardTiles(a, b, share, shares, q, k, v, logsumexp, gradOut, delta.data(), dq, gradK, gradV, scratch);
  });
  if (shares == 1) return;
  for (int64_t b = 0; b < a.batch; ++b)
    for (int64_t s = 0; s < shares; ++s) {
      const T* const from = partial.data() + (b * shares + s) * L * E;
      T* const to = gradQ + b * L * E;
      for (int64_t i = 0; i < L * E; ++i) to[i] += from[i];
    }
}

template void attentionForward<float>(const AttentionArgs&, const float*, const float*, const float*, float*, float*);
template void attentionForward<double>(const AttentionArgs&, const double*, const double*, const double*, double*,
                                       double*);
template void attentionBackward<float>(const AttentionArgs&, const float*, const float*, const float*, const float*,
                                       const float*, const float*, float*, float*, float*);
template void attentionBackward<double>(const AttentionArgs&, const double*, const double*, const double*,
                                        const double*, const double*, const double*, double*, double*, double*);

}  // namespace nodegrad
