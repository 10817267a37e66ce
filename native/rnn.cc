// Fused gate kernels of the recurrent layers. A step's element-wise work is small (batch x hidden),
// so each runs on the calling thread; the GEMMs around it use the pool.
#include "rnn.h"

#include <cmath>
#include <vector>

#include "fast_math.h"
#include "simd.h"

namespace nodegrad {
namespace {

using fast::sigmoid;

template <typename T>
inline T bias(const T* b, int64_t j) {
  return b ? b[j] : T(0);
}

}  // namespace

template <typename T>
void rnnCell(const RecurrentCellShape& s, bool relu, const T* xGates, const T* hGates, const T* biasHh, T* h) {
  const int64_t n = s.batch * s.hidden;
  for (int64_t i = 0; i < n; ++i) {
    const T a = xGates[i] + hGates[i] + bias(biasHh, i % s.hidden);
    h[i] = relu ? (a > T(0) ? a : T(0)) : fast::tanh(a);
  }
}

template <typename T>
void rnnCellBackward(const RecurrentCellShape& s, bool relu, const T* h, const T* gradH, T* gradGates) {
  const int64_t n = s.batch * s.hidden;
  for (int64_t i = 0; i < n; ++i)
    gradGates[i] = relu ? (h[i] > T(0) ? gradH[i] : T(0)) : gradH[i] * (T(1) - h[i] * h[i]);
}

// One batch row of the LSTM cell. Branch-free with unaliased pointers, so that it vectorizes.
template <typename T>
NODEGRAD_CLONES void lstmRow(int64_t H, const T* __restrict xg, const T* __restrict hg, const T* __restrict bias,
                             const T* __restrict cPrev, T* __restrict c, T* __restrict h, T* __restrict saved) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = sigmoid(xg[j] + hg[j] + bias[j]);
    const T f = sigmoid(xg[H + j] + hg[H + j] + bias[H + j]);
    const T g = fast::tanh(xg[2 * H + j] + hg[2 * H + j] + bias[2 * H + j]);
    const T o = sigmoid(xg[3 * H + j] + hg[3 * H + j] + bias[3 * H + j]);
    const T cNext = f * cPrev[j] + i * g;
    c[j] = cNext;
    h[j] = o * fast::tanh(cNext);
    saved[j] = i;
    saved[H + j] = f;
    saved[2 * H + j] = g;
    saved[3 * H + j] = o;
  }
}

template <typename T>
void lstmCell(const RecurrentCellShape& s, const T* xGates, const T* hGates, const T* biasHh, const T* cPrev, T* c,
              T* h, T* gates) {
  const int64_t H = s.hidden;
  // Without a bias, zeros; without gates to keep, a scratch row they are written to and dropped.
  std::vector<T> zeros(biasHh ? 0 : static_cast<size_t>(4 * H), T(0));
  std::vector<T> scratch(gates ? 0 : static_cast<size_t>(4 * H));
  const T* bias = biasHh ? biasHh : zeros.data();
  for (int64_t b = 0; b < s.batch; ++b) {
    T* saved = gates ? gates + b * 4 * H : scratch.data();
    lstmRow(H, xGates + b * 4 * H, hGates + b * 4 * H, bias, cPrev + b * H, c + b * H, h + b * H, saved);
  }
}

template <typename T>
NODEGRAD_CLONES void lstmCellBackward(const RecurrentCellShape& s, const T* gates, const T* cPrev, const T* c,
                                      const T* gradH, T* gradC, T* gradGates) {
  const int64_t H = s.hidden;
  for (int64_t b = 0; b < s.batch; ++b) {
    const T* gt = gates + b * 4 * H;
    T* dg = gradGates + b * 4 * H;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const T i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
      const T tc = fast::tanh(c[k]);
      const T dc = gradC[k] + gradH[k] * o * (T(1) - tc * tc);
      dg[j] = dc * g * i * (T(1) - i);
      dg[H + j] = dc * cPrev[k] * f * (T(1) - f);
      dg[2 * H + j] = dc * i * (T(1) - g * g);
      dg[3 * H + j] = gradH[k] * tc * o * (T(1) - o);
      gradC[k] = dc * f;
    }
  }
}

template <typename T>
void gruCell(const RecurrentCellShape& s, const T* xGates, const T* hGates, const T* biasHh, const T* hPrev, T* h,
             T* saved) {
  const int64_t H = s.hidden;
  for (int64_t b = 0; b < s.batch; ++b) {
    const T* xg = xGates + b * 3 * H;
    const T* hg = hGates + b * 3 * H;
    T* sv = saved ? saved + b * 4 * H : nullptr;
    for (int64_t j = 0; j < H; ++j) {
      const T r = sigmoid(xg[j] + hg[j] + bias(biasHh, j));
      const T z = sigmoid(xg[H + j] + hg[H + j] + bias(biasHh, H + j));
      const T hn = hg[2 * H + j] + bias(biasHh, 2 * H + j);
      const T n = fast::tanh(xg[2 * H + j] + r * hn);
      h[b * H + j] = (T(1) - z) * n + z * hPrev[b * H + j];
      if (sv) {
        sv[j] = r;
        sv[H + j] = z;
        sv[2 * H + j] = n;
        sv[3 * H + j] = hn;
      }
    }
  }
}

template <typename T>
void gruCellBackward(const RecurrentCellShape& s, const T* saved, const T* hPrev, const T* gradH, T* gradXGates,
                     T* gradHGates, T* gradHPrev) {
  const int64_t H = s.hidden;
  for (int64_t b = 0; b < s.batch; ++b) {
    const T* sv = saved + b * 4 * H;
    T* dx = gradXGates + b * 3 * H;
    T* dh = gradHGates + b * 3 * H;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const T r = sv[j], z = sv[H + j], n = sv[2 * H + j], hn = sv[3 * H + j];
      const T g = gradH[k];
      const T dn = g * (T(1) - z) * (T(1) - n * n);
      const T dz = g * (hPrev[k] - n) * z * (T(1) - z);
      const T dr = dn * hn * r * (T(1) - r);
      dx[j] = dr;
      dx[H + j] = dz;
      dx[2 * H + j] = dn;
      dh[j] = dr;
      dh[H + j] = dz;
      dh[2 * H + j] = dn * r;
      gradHPrev[k] += g * z;
    }
  }
}

template void rnnCell<float>(const RecurrentCellShape&, bool, const float*, const float*, const float*, float*);
template void rnnCellBackward<float>(const RecurrentCellShape&, bool, const float*, const float*, float*);
template void lstmCell<float>(const RecurrentCellShape&, const float*, const float*, const float*, const float*, float*,
                              float*, float*);
template void lstmCellBackward<float>(const RecurrentCellShape&, const float*, const float*, const float*, const float*,
                                      float*, float*);
template void gruCell<float>(const RecurrentCellShape&, const float*, const float*, const float*, const float*, float*,
                             float*);
template void gruCellBackward<float>(const RecurrentCellShape&, const float*, const float*, const float*, float*,
                                     float*, float*);
template void rnnCell<double>(const RecurrentCellShape&, bool, const double*, const double*, const double*, double*);
template void rnnCellBackward<double>(const RecurrentCellShape&, bool, const double*, const double*, double*);
template void lstmCell<double>(const RecurrentCellShape&, const double*, const double*, const double*, const double*,
                               double*, double*, double*);
template void lstmCellBackward<double>(const RecurrentCellShape&, const double*, const double*, const double*,
                                       const double*, double*, double*);
template void gruCell<double>(const RecurrentCellShape&, const double*, const double*, const double*, const double*,
                              double*, double*);
template void gruCellBackward<double>(const RecurrentCellShape&, const double*, const double*, const double*, double*,
                                      double*, double*);

}  // namespace nodegrad
