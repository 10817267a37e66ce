// Batch norm over [batch, channels, plane] as two passes per channel, forward and backward alike:
// a reduction (statistics; the sums of dy and dy·(x − mean)) and an element-wise pass (normalize +
// affine + ReLU; dx). A task owns a block of whole channels, so the element-wise pass re-reads the
// channel the reduction just brought into cache and no two threads write the same statistic.
// Sums run in float lanes over short blocks, each block added into double: the loops vectorize
// without reassociation flags and the totals keep double accuracy.
#include <algorithm>
#include <cmath>

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

// s1 += Σ (x − shift), s2 += Σ (x − shift)² over n contiguous values. The shift (a value of the
// channel) keeps the one-pass variance free of cancellation.
template <typename T>
NODEGRAD_CLONES void shiftedSums(const T* x, int64_t n, T shift, double& s1, double& s2) {
  int64_t i = 0;
  while (n - i >= kLanes) {
    const int64_t end = i + std::min<int64_t>((n - i) / kLanes * kLanes, kBlock);
    T a1[kLanes] = {}, a2[kLanes] = {};
    for (; i < end; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const T d = x[i + l] - shift;
        a1[l] += d;
        a2[l] += d * d;
      }
    for (int l = 0; l < kLanes; ++l) {
      s1 += a1[l];
      s2 += a2[l];
    }
  }
  for (; i < n; ++i) {
    const double d = double(x[i]) - double(shift);
    s1 += d;
    s2 += d * d;
  }
}

// sumDy += Σ dy', sumDyXc += Σ dy'·(x − mean) over n values, dy' = dy masked by the ReLU (y > 0).
template <bool Relu, typename T>
NODEGRAD_CLONES void gradSums(const T* x, const T* g, int64_t n, ChannelAffine<T> f, T mean, double& sumDy,
                              double& sumDyXc) {
  int64_t i = 0;
  const auto masked = [&](int64_t j) { return Relu && !(x[j] * f.scale + f.shift > T(0)) ? T(0) : g[j]; };
  while (n - i >= kLanes) {
    const int64_t end = i + std::min<int64_t>((n - i) / kLanes * kLanes, kBlock);
    T a1[kLanes] = {}, a2[kLanes] = {};
    for (; i < end; i += kLanes)
      for (int l = 0; l < kLanes; ++l) {
        const T dy = masked(i + l);
        a1[l] += dy;
        a2[l] += dy * (x[i + l] - mean);
      }
    for (int l = 0; l < kLanes; ++l) {
      sumDy += a1[l];
      sumDyXc += a2[l];
    }
  }
  for (; i < n; ++i) {
    const double dy = masked(i);
    sumDy += dy;
    sumDyXc += dy * (double(x[i]) - double(mean));
  }
}

// out = x·scale + shift (then ReLU, NaN kept as the ReLU op keeps it) over n values.
template <bool Relu, typename T>
NODEGRAD_CLONES void applyAffine(const T* x, T* out, int64_t n, ChannelAffine<T> f) {
  for (int64_t i = 0; i < n; ++i) {
    const T y = x[i] * f.scale + f.shift;
    out[i] = Relu && y < T(0) ? T(0) : y;
  }
}

// dx = scale·dy' + k·(x − mean) + k0 over n values (k = k0 = 0 without batch statistics).
template <bool Relu, typename T>
NODEGRAD_CLONES void inputGrad(const T* x, const T* g, T* gi, int64_t n, ChannelAffine<T> f, T mean, T k, T k0) {
  for (int64_t i = 0; i < n; ++i) {
    const T dy = Relu && !(x[i] * f.scale + f.shift > T(0)) ? T(0) : g[i];
    gi[i] = f.scale * dy + k * (x[i] - mean) + k0;
  }
}

// The channel's mean and invstd: from the batch (updating the running statistics) or the running ones.
template <typename T>
void channelStatistics(const BatchNormShape& s, const T* x, int64_t c, T* runningMean, T* runningVar, T* saveMean,
                       T* saveInvstd) {
  if (!s.training) {
    saveMean[c] = runningMean[c];
    saveInvstd[c] = static_cast<T>(1.0 / std::sqrt(double(runningVar[c]) + s.eps));
    return;
  }
  const int64_t count = s.batch * s.plane;
  const T shift = x[c * s.plane];
  double s1 = 0, s2 = 0;
  for (int64_t n = 0; n < s.batch; ++n) shiftedSums(x + (n * s.channels + c) * s.plane, s.plane, shift, s1, s2);
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

}  // namespace

template <typename T>
void batchNormForward(const BatchNormShape& s, const T* x, const T* weight, const T* bias, T* runningMean,
                      T* runningVar, T* out, T* saveMean, T* saveInvstd) {
  const double numel = double(s.batch) * s.channels * s.plane;
  parallelRange(s.channels, 4.0 * numel, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      channelStatistics(s, x, c, runningMean, runningVar, saveMean, saveInvstd);
      const ChannelAffine<T> f = channelAffine(weight, bias, saveMean, saveInvstd, c);
      for (int64_t n = 0; n < s.batch; ++n) {
        const int64_t at = (n * s.channels + c) * s.plane;
        if (s.relu)
          applyAffine<true>(x + at, out + at, s.plane, f);
        else
          applyAffine<false>(x + at, out + at, s.plane, f);
      }
    }
  });
}

template <typename T>
void batchNormBackward(const BatchNormShape& s, const T* x, const T* grad, const T* weight, const T* bias,
                       const T* mean, const T* invstd, T* gradInput, T* gradWeight, T* gradBias) {
  const double numel = double(s.batch) * s.channels * s.plane;
  const double count = double(s.batch) * s.plane;
  parallelRange(s.channels, 6.0 * numel, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const ChannelAffine<T> f = channelAffine(weight, bias, mean, invstd, c);
      double sumDy = 0, sumDyXc = 0;
      for (int64_t n = 0; n < s.batch; ++n) {
        const int64_t at = (n * s.channels + c) * s.plane;
        if (s.relu)
          gradSums<true>(x + at, grad + at, s.plane, f, mean[c], sumDy, sumDyXc);
        else
          gradSums<false>(x + at, grad + at, s.plane, f, mean[c], sumDy, sumDyXc);
      }
      const double r = invstd[c];
      if (gradWeight) gradWeight[c] = static_cast<T>(sumDyXc * r);
      if (gradBias) gradBias[c] = static_cast<T>(sumDy);
      if (!gradInput) continue;
      // With batch statistics the mean and invstd depend on x: dx = scale·(dy' − mean(dy') − x̂·mean(dy'·x̂)).
      const double k = s.training && count > 0 ? -double(f.scale) * r * r * sumDyXc / count : 0.0;
      const double k0 = s.training && count > 0 ? -double(f.scale) * sumDy / count : 0.0;
      for (int64_t n = 0; n < s.batch; ++n) {
        const int64_t at = (n * s.channels + c) * s.plane;
        if (s.relu)
          inputGrad<true>(x + at, grad + at, gradInput + at, s.plane, f, mean[c], T(k), T(k0));
        else
          inputGrad<false>(x + at, grad + at, gradInput + at, s.plane, f, mean[c], T(k), T(k0));
      }
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
