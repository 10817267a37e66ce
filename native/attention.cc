// Scaled dot-product attention, FlashAttention-style: a task takes one (batch, query block) pair,
// walks the key blocks with a running max and sum per query row, and rescales its output
// accumulator whenever the max grows; only the output and each row's log-sum-exp are stored. The
// backward recomputes each score tile from q, k and the log-sum-exp. Every inner loop runs over a
// contiguous row (keys of a packed, transposed tile, or features), so it vectorizes; NODEGRAD_CLONES
// compiles the tile functions for AVX-512, AVX2+FMA and baseline x86-64.
#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

// Tile sizes: a packed key tile (E x kBlockK) and a query tile's scores (kBlockQ x kBlockK) stay
// in L1/L2 for E up to 128.
constexpr int64_t kBlockQ = 64;
constexpr int64_t kBlockK = 64;

// e^x for x <= 0 (a score minus its row's max), branch-free so that loops over it vectorize, which
// std::exp does not without -ffast-math: Cephes' expf polynomial, rel. error ~2e-7.
inline float expNonPositive(float x) {
  x = x < -87.0f ? -87.0f : x;
  // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer in any rounding-free build.
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  const float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
                   1.6666665459e-1f) *
                      r +
                  5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scaleBits = 0;
  std::memcpy(&scaleBits, &bits, sizeof bits);
  return e * scaleBits;
}
inline double expNonPositive(double x) { return std::exp(x); }

// Keys query row `row` of a tile starting at key `k0` may see: all n, or (causal) those <= row.
inline int64_t visibleKeys(const AttentionArgs& a, int64_t row, int64_t k0, int64_t n) {
  if (!a.causal) return n;
  return std::clamp<int64_t>(row - k0 + 1, 0, n);
}

// packed[d * kBlockK + c] = rows[c * dim + d] for c < n, zero for the tile's unused columns.
template <typename T>
void packTransposed(const T* rows, int64_t n, int64_t dim, T* packed) {
  std::fill(packed, packed + dim * kBlockK, T(0));
  for (int64_t c = 0; c < n; ++c)
    for (int64_t d = 0; d < dim; ++d) packed[d * kBlockK + c] = rows[c * dim + d];
}

// out[c] = scale · x · column c of the packed tile, for all kBlockK columns.
template <typename T>
inline void rowTimesTile(const T* x, const T* packed, int64_t dim, T scale, T* out) {
  T acc[kBlockK] = {};
  for (int64_t d = 0; d < dim; ++d) {
    const T xd = x[d];
    const T* column = packed + d * kBlockK;
    for (int64_t c = 0; c < kBlockK; ++c) acc[c] += xd * column[c];
  }
  for (int64_t c = 0; c < kBlockK; ++c) out[c] = acc[c] * scale;
}

// y[0..n) += alpha · x[0..n)
template <typename T>
inline void axpy(int64_t n, T alpha, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// One query tile of one batch entry: rows [q0, q0 + rows).
template <typename T>
NODEGRAD_CLONES void forwardTile(const AttentionArgs& a, int64_t b, int64_t q0, int64_t rows, const T* q, const T* k,
                                 const T* v, T* out, T* logsumexp, std::vector<T>& scratch) {
  const int64_t E = a.headDim, Ev = a.valueDim, S = a.keys;
  scratch.resize(static_cast<size_t>(E * kBlockK + kBlockQ * Ev + 2 * kBlockQ + kBlockK));
  T* const kt = scratch.data();
  T* const acc = kt + E * kBlockK;
  T* const rowMax = acc + kBlockQ * Ev;
  T* const rowSum = rowMax + kBlockQ;
  T* const p = rowSum + kBlockQ;
  const T scale = static_cast<T>(a.scale);
  const T* const qb = q + (b * a.queries + q0) * E;
  const T* const kb = k + b * S * E;
  const T* const vb = v + b * S * Ev;
  std::fill(acc, acc + rows * Ev, T(0));
  std::fill(rowMax, rowMax + rows, -std::numeric_limits<T>::infinity());
  std::fill(rowSum, rowSum + rows, T(0));
  const int64_t keyEnd = a.causal ? std::min(S, q0 + rows) : S;
  for (int64_t k0 = 0; k0 < keyEnd; k0 += kBlockK) {
    const int64_t n = std::min(kBlockK, S - k0);
    packTransposed(kb + k0 * E, n, E, kt);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t seen = visibleKeys(a, q0 + i, k0, n);
      if (seen == 0) continue;
      rowTimesTile(qb + i * E, kt, E, scale, p);
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
      T* const accRow = acc + i * Ev;
      if (rescale != T(1))
        for (int64_t d = 0; d < Ev; ++d) accRow[d] *= rescale;
      for (int64_t c = 0; c < seen; ++c) axpy(Ev, p[c], vb + (k0 + c) * Ev, accRow);
    }
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
  scratch.resize(static_cast<size_t>(E * kBlockK + Ev * kBlockK + kBlockK * (E + Ev) + 3 * kBlockK));
  T* const kt = scratch.data();
  T* const vt = kt + E * kBlockK;
  T* const dk = vt + Ev * kBlockK;
  T* const dv = dk + kBlockK * E;
  T* const p = dv + kBlockK * Ev;
  T* const dp = p + kBlockK;
  T* const ds = dp + kBlockK;
  const T scale = static_cast<T>(a.scale);
  const T* const qb = q + b * L * E;
  const T* const kb = k + b * S * E;
  const T* const vb = v + b * S * Ev;
  const T* const gob = gradOut + b * L * Ev;
  const T* const lse = logsumexp + b * L;
  const T* const deltaB = delta + b * L;
  for (int64_t tile = first; tile * kBlockK < S; tile += step) {
    const int64_t k0 = tile * kBlockK, n = std::min(kBlockK, S - k0);
    packTransposed(kb + k0 * E, n, E, kt);
    packTransposed(vb + k0 * Ev, n, Ev, vt);
    std::fill(dk, dk + n * E, T(0));
    std::fill(dv, dv + n * Ev, T(0));
    for (int64_t i = a.causal ? k0 : 0; i < L; ++i) {
      const int64_t seen = visibleKeys(a, i, k0, n);
      if (seen == 0 || lse[i] == -std::numeric_limits<T>::infinity()) continue;
      const T* const qi = qb + i * E;
      const T* const goi = gob + i * Ev;
      rowTimesTile(qi, kt, E, scale, p);
      rowTimesTile(goi, vt, Ev, T(1), dp);
      for (int64_t c = 0; c < seen; ++c) {
        p[c] = expNonPositive(p[c] - lse[i]);
        ds[c] = p[c] * (dp[c] - deltaB[i]) * scale;
      }
      T* const dqi = dq + i * E;
      for (int64_t c = 0; c < seen; ++c) {
        axpy(Ev, p[c], goi, dv + c * Ev);
        axpy(E, ds[c], qi, dk + c * E);
        axpy(E, ds[c], kb + (k0 + c) * E, dqi);
      }
    }
    std::copy(dk, dk + n * E, gradK + (b * S + k0) * E);
    std::copy(dv, dv + n * Ev, gradV + (b * S + k0) * Ev);
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
    for (int64_t s = 0; s < shares; ++s)
      axpy(L * E, T(1), partial.data() + (b * shares + s) * L * E, gradQ + b * L * E);
}

template void attentionForward<float>(const AttentionArgs&, const float*, const float*, const float*, float*, float*);
template void attentionForward<double>(const AttentionArgs&, const double*, const double*, const double*, double*,
                                       double*);
template void attentionBackward<float>(const AttentionArgs&, const float*, const float*, const float*, const float*,
                                       const float*, const float*, float*, float*, float*);
template void attentionBackward<double>(const AttentionArgs&, const double*, const double*, const double*,
                                        const double*, const double*, const double*, double*, double*, double*);

}  // namespace nodegrad
