// Batch norm over [batch, channels, plane] as two passes per channel, forward and backward alike:
// a reduction (statistics; the sums of dy and dy·(x − mean)) and an element-wise pass (normalize +
// affine + ReLU; dx). A task owns a block of whole channels, so the element-wise pass re-reads the
// channel the reduction just brought into cache and no two threads write the same statistic.
// Sums run in float lanes over short blocks, each block added into double: the loops vectorize
// without reassociation flags and the totals keep double accuracy.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "norm.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

constexpr int kLanes = 16;
// Elements per lane-block: a float lane sums 16 terms before the block goes into double.
constexpr int64_t kBlock = int64_t{16} * kLanes;

// y = x·scale + shift per channel. Forward and backward both derive it from the stored mean and
// invstd (in T) with this function, so the backward's ReLU mask sees the forward's exact values.
template <typename T>
struct ChannelAffine {
  T scale, shift;
};

template <typename T>
ChannelAffine<T> channelAffine(const T* weight, const T* bias, const T* mean, const T* invstd, int64_t c) {
  const T scale = static_cast<T>((weight ? double(weight[c]) : 1.0) * double(invstd[c]));
  const T shift = static_cast<T>((bias ? double(bias[c]) : 0.0) - double(mean[c]) * double(scale));
  return {scale, shift};
}

// The values of one channel: `batch` runs of `plane` contiguous elements, `stride` apart.
template <typename T>
struct ChannelView {
  const T* first;
  int64_t batch, plane, stride;
};

#if defined(__GNUC__)
// kLanes values as one SIMD value (GCC/clang vector extension): one zmm of floats under AVX-512.
template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  using type = float __attribute__((vector_size(kLanes * sizeof(float))));
};
template <>
struct VecOf<double> {
  using type = double __attribute__((vector_size(kLanes * sizeof(double))));
};
template <typename T>
using Vec = typename VecOf<T>::type;
using DoubleVec = double __attribute__((vector_size(kLanes * sizeof(double))));
#define NODEGRAD_TO_DOUBLE(v) __builtin_convertvector(v, DoubleVec)
#else
#error "native/batch_norm.cc needs the GCC/clang vector extension"
#endif

// load() is inlined into each clone, so no vector crosses a call between differently compiled code:
// GCC's note that the AVX-512 return ABI differs does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
template <typename T>
[[gnu::always_inline]] inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline double total(const DoubleVec& v) {
  double t = 0;
  for (int l = 0; l < kLanes; ++l) t += v[l];
  return t;
}

// Σ (x − shift) and Σ (x − shift)² over a channel. The shift (a value of the channel) keeps the
// one-pass variance free of cancellation.
template <typename T>
NODEGRAD_CLONES void shiftedSums(const ChannelView<T>& v, T shift, double& s1, double& s2) {
  DoubleVec d1 = {}, d2 = {};
  double t1 = 0, t2 = 0;
  for (int64_t n = 0; n < v.batch; ++n) {
    const T* x = v.first + n * v.stride;
    int64_t i = 0;
    while (v.plane - i >= kLanes) {
      const int64_t end = i + std::min<int64_t>((v.plane - i) / kLanes * kLanes, kBlock);
      Vec<T> a1 = {}, a2 = {};
      for (; i < end; i += kLanes) {
        const Vec<T> d = load(x + i) - shift;
        a1 += d;
        a2 += d * d;
      }
      d1 += NODEGRAD_TO_DOUBLE(a1);
      d2 += NODEGRAD_TO_DOUBLE(a2);
    }
    for (; i < v.plane; ++i) {
      const double d = double(x[i]) - double(shift);
      t1 += d;
      t2 += d * d;
    }
  }
  s1 = t1 + total(d1);
  s2 = t2 + total(d2);
}

// Σ dy' and Σ dy'·(x − mean) over a channel, dy' = dy masked by the ReLU (y > 0).
template <bool Relu, typename T>
NODEGRAD_CLONES void gradSums(const ChannelView<T>& v, const T* grad, ChannelAffine<T> f, T mean, double& sumDy,
                              double& sumDyXc) {
  DoubleVec d1 = {}, d2 = {};
  double t1 = 0, t2 = 0;
  const Vec<T> zero = {};
  for (int64_t n = 0; n < v.batch; ++n) {
    const T* x = v.first + n * v.stride;
    const T* g = grad + n * v.stride;
    int64_t i = 0;
    while (v.plane - i >= kLanes) {
      const int64_t end = i + std::min<int64_t>((v.plane - i) / kLanes * kLanes, kBlock);
      Vec<T> a1 = {}, a2 = {};
      for (; i < end; i += kLanes) {
        const Vec<T> xv = load(x + i);
        Vec<T> dy = load(g + i);
        if constexpr (Relu) dy = xv * f.scale + f.shift > T(0) ? dy : zero;
        a1 += dy;
        a2 += dy * (xv - mean);
      }
      d1 += NODEGRAD_TO_DOUBLE(a1);
      d2 += NODEGRAD_TO_DOUBLE(a2);
    }
    for (; i < v.plane; ++i) {
      const double dy = Relu && !(x[i] * f.scale + f.shift > T(0)) ? 0.0 : double(g[i]);
      t1 += dy;
      t2 += dy * (double(x[i]) - double(mean));
    }
  }
  sumDy = t1 + total(d1);
  sumDyXc = t2 + total(d2);
}

// out = x·scale + shift (then ReLU, NaN kept as the ReLU op keeps it) over a channel.
template <bool Relu, typename T>
NODEGRAD_CLONES void applyAffine(const ChannelView<T>& v, T* out, ChannelAffine<T> f) {
  for (int64_t n = 0; n < v.batch; ++n) {
    const T* x = v.first + n * v.stride;
    T* y = out + n * v.stride;
    for (int64_t i = 0; i < v.plane; ++i) {
      const T value = x[i] * f.scale + f.shift;
      y[i] = Relu && value < T(0) ? T(0) : value;
    }
  }
}

// dx = scale·dy' + k·(x − mean) + k0 over a channel (k = k0 = 0 without batch statistics).
template <bool Relu, typename T>
NODEGRAD_CLONES void inputGrad(const ChannelView<T>& v, const T* grad, T* gradInput, ChannelAffine<T> f, T mean, T k,
                               T k0) {
  for (int64_t n = 0; n < v.batch; ++n) {
    const T* x = v.first + n * v.stride;
    const T* g = grad + n * v.stride;
    T* gi = gradInput + n * v.stride;
    for (int64_t i = 0; i < v.plane; ++i) {
      const T dy = Relu && !(x[i] * f.scale + f.shift > T(0)) ? T(0) : g[i];
      gi[i] = f.scale * dy + k * (x[i] - mean) + k0;
    }
  }
}

// Stores channel c's statistics from the shifted sums (training) or the running statistics, and
// updates the running statistics in training.
template <typename T>
void storeStatistics(const BatchNormShape& s, int64_t c, T shift, double s1, double s2, T* runningMean, T* runningVar,
                     T* saveMean, T* saveInvstd) {
  if (!s.training) {
    saveMean[c] = runningMean[c];
    saveInvstd[c] = static_cast<T>(1.0 / std::sqrt(double(runningVar[c]) + s.eps));
    return;
  }
  const int64_t count = s.batch * s.plane;
  const double m1 = s1 / count;
  const double variance = std::max(s2 / count - m1 * m1, 0.0);
  const double mean = double(shift) + m1;
  saveMean[c] = static_cast<T>(mean);
  saveInvstd[c] = static_cast<T>(1.0 / std::sqrt(variance + s.eps));
  if (runningMean && runningVar) {
    const double unbiased = count > 1 ? variance * count / (count - 1) : variance;
    runningMean[c] = static_cast<T>((1 - s.momentum) * runningMean[c] + s.momentum * mean);
    runningVar[c] = static_cast<T>((1 - s.momentum) * runningVar[c] + s.momentum * unbiased);
  }
}

// The gradient's per-channel factors: dx = scale·dy' + k·(x − mean) + k0, where with batch statistics
// (which depend on x) k and k0 carry mean(dy') and mean(dy'·x̂); gradWeight and gradBias stored.
template <typename T>
std::pair<T, T> storeGradSums(const BatchNormShape& s, int64_t c, ChannelAffine<T> f, double sumDy, double sumDyXc,
                              const T* invstd, T* gradWeight, T* gradBias) {
  const double r = invstd[c];
  const double count = double(s.batch) * s.plane;
  if (gradWeight) gradWeight[c] = static_cast<T>(sumDyXc * r);
  if (gradBias) gradBias[c] = static_cast<T>(sumDy);
  if (!s.training || count == 0) return {T(0), T(0)};
  return {static_cast<T>(-double(f.scale) * r * r * sumDyXc / count), static_cast<T>(-double(f.scale) * sumDy / count)};
}

// Planes shorter than kLanes (1×1, 2×2): one short run per (sample, channel) would cost more in loop
// overhead than in arithmetic, so channels [begin, end) are walked sample by sample, as one
// contiguous row per sample, with per-channel accumulators.
template <typename T>
void smallPlaneForward(const BatchNormShape& s, const T* x, const T* weight, const T* bias, T* runningMean,
                       T* runningVar, T* out, T* saveMean, T* saveInvstd, int64_t begin, int64_t end) {
  const auto width = static_cast<size_t>(end - begin);
  std::vector<double> s1(width), s2(width);
  for (int64_t n = 0; s.training && n < s.batch; ++n)
    for (int64_t c = begin; c < end; ++c) {
      const double shift = x[c * s.plane];
      const T* run = x + (n * s.channels + c) * s.plane;
      for (int64_t i = 0; i < s.plane; ++i) {
        const double d = double(run[i]) - shift;
        s1[c - begin] += d;
        s2[c - begin] += d * d;
      }
    }
  std::vector<ChannelAffine<T>> f(width);
  for (int64_t c = begin; c < end; ++c) {
    storeStatistics(s, c, x[c * s.plane], s1[c - begin], s2[c - begin], runningMean, runningVar, saveMean, saveInvstd);
    f[c - begin] = channelAffine(weight, bias, saveMean, saveInvstd, c);
  }
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = begin; c < end; ++c) {
      const int64_t at = (n * s.channels + c) * s.plane;
      const ChannelAffine<T> a = f[c - begin];
      for (int64_t i = at; i < at + s.plane; ++i) {
        const T y = x[i] * a.scale + a.shift;
        out[i] = s.relu && y < T(0) ? T(0) : y;
      }
    }
}

template <typename T>
void smallPlaneBackward(const BatchNormShape& s, const T* x, const T* grad, const T* weight, const T* bias,
                        const T* mean, const T* invstd, T* gradInput, T* gradWeight, T* gradBias, int64_t begin,
                        int64_t end) {
  const auto width = static_cast<size_t>(end - begin);
  std::vector<ChannelAffine<T>> f(width);
  for (int64_t c = begin; c < end; ++c) f[c - begin] = channelAffine(weight, bias, mean, invstd, c);
  const auto masked = [&](int64_t c, int64_t i) {
    const ChannelAffine<T> a = f[c - begin];
    return s.relu && !(x[i] * a.scale + a.shift > T(0)) ? T(0) : grad[i];
  };
  std::vector<double> sumDy(width), sumDyXc(width);
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = begin; c < end; ++c) {
      const int64_t at = (n * s.channels + c) * s.plane;
      for (int64_t i = at; i < at + s.plane; ++i) {
        const double dy = masked(c, i);
        sumDy[c - begin] += dy;
        sumDyXc[c - begin] += dy * (double(x[i]) - double(mean[c]));
      }
    }
  std::vector<std::pair<T, T>> k(width);
  for (int64_t c = begin; c < end; ++c)
    k[c - begin] =
        storeGradSums(s, c, f[c - begin], sumDy[c - begin], sumDyXc[c - begin], invstd, gradWeight, gradBias);
  if (!gradInput) return;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = begin; c < end; ++c) {
      const int64_t at = (n * s.channels + c) * s.plane;
      const auto [kx, k0] = k[c - begin];
      for (int64_t i = at; i < at + s.plane; ++i)
        gradInput[i] = f[c - begin].scale * masked(c, i) + kx * (x[i] - mean[c]) + k0;
    }
}

}  // namespace

template <typename T>
void batchNormForward(const BatchNormShape& s, const T* x, const T* weight, const T* bias, T* runningMean,
                      T* runningVar, T* out, T* saveMean, T* saveInvstd) {
  const double numel = double(s.batch) * s.channels * s.plane;
  parallelRange(s.channels, 4.0 * numel, [&](int64_t begin, int64_t end) {
    if (s.plane < kLanes) {
      smallPlaneForward(s, x, weight, bias, runningMean, runningVar, out, saveMean, saveInvstd, begin, end);
      return;
    }
    for (int64_t c = begin; c < end; ++c) {
      const ChannelView<T> v{x + c * s.plane, s.batch, s.plane, s.channels * s.plane};
      const T shift = x[c * s.plane];
      double s1 = 0, s2 = 0;
      if (s.training) shiftedSums(v, shift, s1, s2);
      storeStatistics(s, c, shift, s1, s2, runningMean, runningVar, saveMean, saveInvstd);
      const ChannelAffine<T> f = channelAffine(weight, bias, saveMean, saveInvstd, c);
      if (s.relu)
        applyAffine<true>(v, out + c * s.plane, f);
      else
        applyAffine<false>(v, out + c * s.plane, f);
    }
  });
}

template <typename T>
void batchNormBackward(const BatchNormShape& s, const T* x, const T* grad, const T* weight, const T* bias,
                       const T* mean, const T* invstd, T* gradInput, T* gradWeight, T* gradBias) {
  const double numel = double(s.batch) * s.channels * s.plane;
  parallelRange(s.channels, 6.0 * numel, [&](int64_t begin, int64_t end) {
    if (s.plane < kLanes) {
      smallPlaneBackward(s, x, grad, weight, bias, mean, invstd, gradInput, gradWeight, gradBias, begin, end);
      return;
    }
    for (int64_t c = begin; c < end; ++c) {
      const ChannelAffine<T> f = channelAffine(weight, bias, mean, invstd, c);
      const int64_t at = c * s.plane;
      const ChannelView<T> v{x + at, s.batch, s.plane, s.channels * s.plane};
      double sumDy = 0, sumDyXc = 0;
      if (s.relu)
        gradSums<true>(v, grad + at, f, mean[c], sumDy, sumDyXc);
      else
        gradSums<false>(v, grad + at, f, mean[c], sumDy, sumDyXc);
      const auto [k, k0] = storeGradSums(s, c, f, sumDy, sumDyXc, invstd, gradWeight, gradBias);
      if (!gradInput) continue;
      if (s.relu)
        inputGrad<true>(v, grad + at, gradInput + at, f, mean[c], k, k0);
      else
        inputGrad<false>(v, grad + at, gradInput + at, f, mean[c], k, k0);
    }
  });
}

template <typename T>
void addRelu(const T* a, const T* b, T* out, int64_t n) {
  parallelRange(n, double(n), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T y = a[i] + b[i];
      out[i] = y < T(0) ? T(0) : y;
    }
  });
}

// NOLINTBEGIN(bugprone-macro-parentheses)
#define NODEGRAD_INSTANTIATE_BATCH_NORM(T)                                                                    \
  template void batchNormForward<T>(const BatchNormShape&, const T*, const T*, const T*, T*, T*, T*, T*, T*); \
  template void batchNormBackward<T>(const BatchNormShape&, const T*, const T*, const T*, const T*, const T*, \
                                     const T*, T*, T*, T*);                                                   \
  template void addRelu<T>(const T*, const T*, T*, int64_t);
// NOLINTEND(bugprone-macro-parentheses)
NODEGRAD_INSTANTIATE_BATCH_NORM(float)
NODEGRAD_INSTANTIATE_BATCH_NORM(double)

}  // namespace nodegrad
