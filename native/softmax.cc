// Softmax, log-softmax and their backward over the middle axis of [outer, n, inner], and the
// fused cross-entropy from logits. Every exp() sees x - max(x) <= 0, so huge logits never
// overflow and tiny ones underflow to exactly 0 instead of NaN.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "fast_math.h"
#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

// e[c] = exp(z[c] - m) for a float row, in a loop that vectorizes; returns their sum in double.
NODEGRAD_CLONES double expShifted(const float* z, float m, float* e, int64_t n) {
  for (int64_t c = 0; c < n; ++c) e[c] = fast::expNonPositive(z[c] - m);
  double sum = 0;
  for (int64_t c = 0; c < n; ++c) sum += e[c];
  return sum;
}

}  // namespace

template <typename T>
void softmax(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, bool log) {
  parallelRange(outer * inner, 8.0 * outer * n * inner, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t o = r / inner, i = r % inner;
      const T* p = x + o * n * inner + i;
      T* q = out + o * n * inner + i;
      T m = -std::numeric_limits<T>::infinity();
      // A NaN, +inf or all -inf row makes some x - m NaN, so the whole row is NaN, as in PyTorch.
      for (int64_t j = 0; j < n; ++j) m = std::max(m, p[j * inner]);
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(p[j * inner] - m));
      if (log) {
        const T lse = static_cast<T>(std::log(sum)) + m;
        for (int64_t j = 0; j < n; ++j) q[j * inner] = p[j * inner] - lse;
      } else {
        const double inv = 1.0 / sum;
        for (int64_t j = 0; j < n; ++j)
          q[j * inner] = static_cast<T>(std::exp(static_cast<double>(p[j * inner] - m)) * inv);
      }
    }
  });
}

template <typename T>
void softmaxBackward(const T* y, const T* g, int64_t outer, int64_t n, int64_t inner, T* gx, bool log) {
  parallelRange(outer * inner, 4.0 * outer * n * inner, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t base = (r / inner) * n * inner + r % inner;
      double dot = 0;
      if (log) {
        for (int64_t j = 0; j < n; ++j) dot += g[base + j * inner];
        for (int64_t j = 0; j < n; ++j) {
          const int64_t at = base + j * inner;
          gx[at] = static_cast<T>(g[at] - std::exp(static_cast<double>(y[at])) * dot);
        }
      } else {
        for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(g[base + j * inner]) * y[base + j * inner];
        for (int64_t j = 0; j < n; ++j) {
          const int64_t at = base + j * inner;
          gx[at] = static_cast<T>(y[at] * (g[at] - dot));
        }
      }
    }
  });
}

template <typename T>
void crossEntropy(const T* logits, int64_t n, int64_t classes, const int32_t* target, const T* weight,
                  int64_t ignoreIndex, double labelSmoothing, T* loss, T* grad) {
  double weightSum = 0;
  if (weight)
    for (int64_t c = 0; c < classes; ++c) weightSum += weight[c];
  else
    weightSum = static_cast<double>(classes);
  const double eps = labelSmoothing;
  parallelRange(n, 8.0 * n * classes, [&](int64_t begin, int64_t end) {
    std::vector<double> logp(static_cast<size_t>(classes));
    // float rows: exp(z - m) once, vectorized, for both the sum and the gradient's softmax.
    constexpr bool kFloat = std::is_same_v<T, float>;
    std::vector<float> ex(kFloat ? static_cast<size_t>(classes) : 0);
    for (int64_t i = begin; i < end; ++i) {
      const T* z = logits + i * classes;
      T* gz = grad ? grad + i * classes : nullptr;
      const int64_t y = target[i];
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < classes; ++c) {
        const auto v = static_cast<double>(z[c]);
        m = (v > m || std::isnan(v)) ? v : m;
      }
      if (y == ignoreIndex) {
        // PyTorch's gradient of an ignored row is 0 - softmax * 0: NaN when its log-softmax is NaN,
        // that is when the row's max is NaN, +inf or -inf.
        loss[i] = 0;
        if (gz) std::fill(gz, gz + classes, std::isfinite(m) ? T(0) : std::numeric_limits<T>::quiet_NaN());
        continue;
      }
      double sum = 0;
      if constexpr (kFloat) {
        sum = expShifted(z, static_cast<float>(m), ex.data(), classes);
      } else {
        for (int64_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c]) - m);
      }
      const double lse = m + std::log(sum);
      for (int64_t c = 0; c < classes; ++c) logp[static_cast<size_t>(c)] = static_cast<double>(z[c]) - lse;
      const double wy = weight ? static_cast<double>(weight[y]) : 1.0;
      // loss = (1 - eps) * w_y * (-log p_y) + eps / C * sum_c w_c * (-log p_c)
      double smooth = 0;
      if (eps > 0)
        for (int64_t c = 0; c < classes; ++c)
          smooth -= (weight ? static_cast<double>(weight[c]) : 1.0) * logp[static_cast<size_t>(c)];
      loss[i] = static_cast<T>((1 - eps) * wy * -logp[static_cast<size_t>(y)] + eps / classes * smooth);
      if (gz) {
        // d/dz_j = (1 - eps) * w_y * (p_j - [j == y]) + eps / C * (W * p_j - w_j)
        for (int64_t c = 0; c < classes; ++c) {
          const double p = kFloat ? ex[static_cast<size_t>(c)] / sum : std::exp(logp[static_cast<size_t>(c)]);
          const double wc = weight ? static_cast<double>(weight[c]) : 1.0;
          double d = (1 - eps) * wy * (p - (c == y ? 1.0 : 0.0));
          if (eps > 0) d += eps / classes * (weightSum * p - wc);
          gz[c] = static_cast<T>(d);
        }
      }
    }
  });
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type, which cannot be parenthesized.
#define NODEGRAD_INSTANTIATE_SOFTMAX(T)                                                      \
  template void softmax<T>(const T*, int64_t, int64_t, int64_t, T*, bool);                   \
  template void softmaxBackward<T>(const T*, const T*, int64_t, int64_t, int64_t, T*, bool); \
  template void crossEntropy<T>(const T*, int64_t, int64_t, const int32_t*, const T*, int64_t, double, T*, T*);
// NOLINTEND(bugprone-macro-parentheses)
NODEGRAD_INSTANTIATE_SOFTMAX(float)
NODEGRAD_INSTANTIATE_SOFTMAX(double)

}  // namespace nodegrad
