// LayerNorm / RMSNorm over contiguous rows. Statistics and gradient sums run in double with eight
// independent lanes, so float32 rows keep float64 accuracy and the lanes vectorize without
// reassociation flags. Rows split over the thread pool; the weight and bias gradients sum per task
// into private buffers, added up at the end, so no two threads write the same column.
#include <algorithm>
#include <cmath>
#include <vector>

#include "norm.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

constexpr int kLanes = 8;

#if defined(__GNUC__)
// A vector of kLanes doubles (GCC/clang vector extension): the lanes add as one SIMD operation.
using Lanes = double __attribute__((vector_size(kLanes * sizeof(double))));
#else
struct Lanes {
  double v[kLanes] = {};
  double& operator[](int l) { return v[l]; }
  double operator[](int l) const { return v[l]; }
  Lanes& operator+=(const Lanes& o) {
    for (int l = 0; l < kLanes; ++l) v[l] += o.v[l];
    return *this;
  }
};
#endif

// sum of term(j) for j in [0, n), in kLanes partial sums.
template <typename Term>
inline double laneSum(int64_t n, const Term& term) {
  Lanes acc = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    Lanes v;
    for (int l = 0; l < kLanes; ++l) v[l] = term(j + l);
    acc += v;
  }
  double total = 0;
  for (; j < n; ++j) total += term(j);
  for (int l = 0; l < kLanes; ++l) total += acc[l];
  return total;
}

// Two sums in one pass: term(j, x, y) sets the j-th terms of each.
template <typename Term>
inline void laneSum2(int64_t n, const Term& term, double& sumX, double& sumY) {
  Lanes accX = {}, accY = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    Lanes vx, vy;
    for (int l = 0; l < kLanes; ++l) {
      double x = 0, y = 0;
      term(j + l, x, y);
      vx[l] = x;
      vy[l] = y;
    }
    accX += vx;
    accY += vy;
  }
  for (; j < n; ++j) {
    double x = 0, y = 0;
    term(j, x, y);
    sumX += x;
    sumY += y;
  }
  for (int l = 0; l < kLanes; ++l) {
    sumX += accX[l];
    sumY += accY[l];
  }
}

template <typename T>
NODEGRAD_CLONES void forwardRows(const T* x, int64_t begin, int64_t end, int64_t cols, double eps, bool rms,
                                 const T* weight, const T* bias, T* out, T* mean, T* rstd) {
  for (int64_t r = begin; r < end; ++r) {
    const T* p = x + r * cols;
    T* q = out + r * cols;
    const double m = rms ? 0.0 : laneSum(cols, [p](int64_t j) { return static_cast<double>(p[j]); }) / cols;
    const double sq = laneSum(cols, [p, m](int64_t j) {
      const double d = p[j] - m;
      return d * d;
    });
    const double s = 1.0 / std::sqrt(sq / cols + eps);
    if (mean) mean[r] = static_cast<T>(m);
    rstd[r] = static_cast<T>(s);
    if (weight && bias) {
      for (int64_t j = 0; j < cols; ++j) q[j] = static_cast<T>((p[j] - m) * s * weight[j] + bias[j]);
    } else if (weight) {
      for (int64_t j = 0; j < cols; ++j) q[j] = static_cast<T>((p[j] - m) * s * weight[j]);
    } else {
      for (int64_t j = 0; j < cols; ++j) q[j] = static_cast<T>((p[j] - m) * s + (bias ? double(bias[j]) : 0.0));
    }
  }
}

// One row of gradInput: with dy = grad * weight, dx = s * (dy - mean(dy) - xhat * mean(dy * xhat)),
// without mean(dy) for rms. `weight` is inlined per call site, so the loops carry no branch.
template <typename T, typename Weight>
NODEGRAD_CLONES void inputGradRow(const T* p, const T* g, int64_t cols, double m, double s, bool rms,
                                  const Weight& weight, T* gi) {
  double a = 0, b = 0;
  laneSum2(
      cols,
      [&](int64_t j, double& da, double& db) {
        da = static_cast<double>(g[j]) * weight(j);
        db = da * ((p[j] - m) * s);
      },
      a, b);
  a = rms ? 0.0 : a / cols;
  b /= cols;
  // dx = s·dy + k1·x + k0 (PyTorch's form): two multiply-adds per element in T.
  const T k1 = static_cast<T>(-s * s * b), k0 = static_cast<T>(s * s * b * m - s * a), st = static_cast<T>(s);
  for (int64_t j = 0; j < cols; ++j) gi[j] = st * (g[j] * weight(j)) + k1 * p[j] + k0;
}

// Rows [begin, end): gradInput rows, and the rows' weight/bias gradient sums added into gw/gb (double).
template <typename T>
NODEGRAD_CLONES void backwardRows(const T* x, const T* grad, int64_t begin, int64_t end, int64_t cols, bool rms,
                                  const T* weight, const T* mean, const T* rstd, T* gradInput, double* gw, double* gb) {
  for (int64_t r = begin; r < end; ++r) {
    const T* p = x + r * cols;
    const T* g = grad + r * cols;
    const double m = rms ? 0.0 : static_cast<double>(mean[r]);
    const double s = rstd[r];
    if (gw && gb) {
      for (int64_t j = 0; j < cols; ++j) {
        gw[j] += g[j] * ((p[j] - m) * s);
        gb[j] += g[j];
      }
    } else if (gw) {
      for (int64_t j = 0; j < cols; ++j) gw[j] += g[j] * ((p[j] - m) * s);
    } else if (gb) {
      for (int64_t j = 0; j < cols; ++j) gb[j] += g[j];
    }
    if (!gradInput) continue;
    T* gi = gradInput + r * cols;
    if (weight)
      inputGradRow(
          p, g, cols, m, s, rms, [weight](int64_t j) { return weight[j]; }, gi);
    else
      inputGradRow(
          p, g, cols, m, s, rms, [](int64_t) { return T(1); }, gi);
  }
}

}  // namespace

template <typename T>
void layerNormForward(const T* x, int64_t rows, int64_t cols, double eps, bool rms, const T* weight, const T* bias,
                      T* out, T* mean, T* rstd) {
  parallelRange(rows, 6.0 * rows * cols, [&](int64_t begin, int64_t end) {
    forwardRows(x, begin, end, cols, eps, rms, weight, bias, out, mean, rstd);
  });
}

template <typename T>
void layerNormBackward(const T* x, const T* grad, int64_t rows, int64_t cols, bool rms, const T* weight, const T* mean,
                       const T* rstd, T* gradInput, T* gradWeight, T* gradBias) {
  // One task per thread when the work pays for waking them; each task owns a block of rows.
  const int64_t tasks = 10.0 * rows * cols < 32768 ? 1 : std::min<int64_t>(rows, numThreads());
  const int64_t width = (gradWeight ? cols : 0) + (gradBias ? cols : 0);
  std::vector<double> partial(static_cast<size_t>(tasks * width), 0.0);
  const auto run = [&](int64_t task) {
    const int64_t begin = rows * task / tasks, end = rows * (task + 1) / tasks;
    double* gw = gradWeight ? partial.data() + task * width : nullptr;
    double* gb = gradBias ? partial.data() + task * width + (gradWeight ? cols : 0) : nullptr;
    backwardRows(x, grad, begin, end, cols, rms, weight, mean, rstd, gradInput, gw, gb);
  };
  if (tasks == 1)
    run(0);
  else
    parallelFor(tasks, run);
  for (int64_t c = 0; c < width; ++c) {
    double total = 0;
    for (int64_t t = 0; t < tasks; ++t) total += partial[t * width + c];
    T* dst = gradWeight && c < cols ? gradWeight + c : gradBias + (c - (gradWeight ? cols : 0));
    *dst = static_cast<T>(total);
  }
}

template void layerNormForward<float>(const float*, int64_t, int64_t, double, bool, const float*, const float*, float*,
                                      float*, float*);
template void layerNormForward<double>(const double*, int64_t, int64_t, double, bool, const double*, const double*,
                                       double*, double*, double*);
template void layerNormBackward<float>(const float*, const float*, int64_t, int64_t, bool, const float*, const float*,
                                       const float*, float*, float*, float*);
template void layerNormBackward<double>(const double*, const double*, int64_t, int64_t, bool, const double*,
                                        const double*, const double*, double*, double*, double*);

}  // namespace nodegrad
