// Optimizer updates, one fused pass per parameter tensor (PyTorch's update rules, in place).
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {

namespace {

// The update loops take every option as a value and every buffer as restrict, one loop per case, so
// each compiles to straight vector code.
template <typename T>
NODEGRAD_CLONES void sgdRange(T* __restrict param, const T* __restrict grad, T* __restrict buf, int64_t n, T lr, T mu,
                              T damp, T wd, T sign, bool nesterov, bool first) {
  if (!buf) {
    for (int64_t i = 0; i < n; ++i) param[i] -= lr * (sign * grad[i] + wd * param[i]);
  } else if (first) {
    for (int64_t i = 0; i < n; ++i) {
      const T d = sign * grad[i] + wd * param[i];
      buf[i] = d;
      param[i] -= lr * (nesterov ? d + mu * d : d);
    }
  } else if (nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const T d = sign * grad[i] + wd * param[i];
      const T b = mu * buf[i] + damp * d;
      buf[i] = b;
      param[i] -= lr * (d + mu * b);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const T b = mu * buf[i] + damp * (sign * grad[i] + wd * param[i]);
      buf[i] = b;
      param[i] -= lr * b;
    }
  }
}

template <typename T>
NODEGRAD_CLONES void adamRange(T* __restrict param, const T* __restrict grad, T* __restrict expAvg,
                               T* __restrict expAvgSq, T* __restrict maxExpAvgSq, int64_t n, T stepSize, T b1, T b2,
                               T sqrtBias2, T eps, T wd, T lr, T sign, bool decoupled) {
  const T decay = decoupled ? T(1) - lr * wd : T(1);
  for (int64_t i = 0; i < n; ++i) {
    // AdamW decays the weight directly; Adam adds the L2 term to the gradient.
    const T p = param[i] * decay;
    const T g = decoupled ? sign * grad[i] : sign * grad[i] + wd * param[i];
    const T m = b1 * expAvg[i] + (T(1) - b1) * g;
    T v = b2 * expAvgSq[i] + (T(1) - b2) * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    if (maxExpAvgSq) {
      v = std::max(maxExpAvgSq[i], v);
      maxExpAvgSq[i] = v;
    }
    param[i] = p - stepSize * m / (std::sqrt(v) / sqrtBias2 + eps);
  }
}

}  // namespace

template <typename T>
void sgdStep(T* param, const T* grad, T* momentumBuffer, int64_t n, const SgdOptions& o, bool firstStep) {
  const T lr = static_cast<T>(o.lr), mu = static_cast<T>(o.momentum), damp = static_cast<T>(1 - o.dampening);
  const T wd = static_cast<T>(o.weightDecay), sign = o.maximize ? T(-1) : T(1);
  const bool nesterov = o.nesterov;
  // Memory-bound: split only when each thread gets enough to amortize waking it.
  parallelRange(n, 2.0 * n, [&](int64_t begin, int64_t end) {
    sgdRange(param + begin, grad + begin, momentumBuffer ? momentumBuffer + begin : nullptr, end - begin, lr, mu, damp,
             wd, sign, nesterov, firstStep);
  });
}

template <typename T>
void adamStep(T* param, const T* grad, T* expAvg, T* expAvgSq, T* maxExpAvgSq, int64_t n, const AdamOptions& o,
              int64_t step) {
  const double bias1 = 1 - std::pow(o.beta1, static_cast<double>(step));
  const double bias2 = 1 - std::pow(o.beta2, static_cast<double>(step));
  const T stepSize = static_cast<T>(o.lr / bias1);
  const T b1 = static_cast<T>(o.beta1), b2 = static_cast<T>(o.beta2);
  const T sqrtBias2 = static_cast<T>(std::sqrt(bias2)), eps = static_cast<T>(o.eps);
  const T wd = static_cast<T>(o.weightDecay), lr = static_cast<T>(o.lr), sign = o.maximize ? T(-1) : T(1);
  const bool decoupled = o.decoupled;
  parallelRange(n, 10.0 * n, [&](int64_t begin, int64_t end) {
    adamRange(param + begin, grad + begin, expAvg + begin, expAvgSq + begin,
              maxExpAvgSq ? maxExpAvgSq + begin : nullptr, end - begin, stepSize, b1, b2, sqrtBias2, eps, wd, lr, sign,
              decoupled);
  });
}

template void sgdStep<float>(float*, const float*, float*, int64_t, const SgdOptions&, bool);
template void sgdStep<double>(double*, const double*, double*, int64_t, const SgdOptions&, bool);
template void adamStep<float>(float*, const float*, float*, float*, float*, int64_t, const AdamOptions&, int64_t);
template void adamStep<double>(double*, const double*, double*, double*, double*, int64_t, const AdamOptions&, int64_t);

}  // namespace nodegrad
