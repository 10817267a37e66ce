// Optimizer updates, one fused pass per parameter tensor (PyTorch's update rules, in place).
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "thread_pool.h"

namespace nodegrad {

template <typename T>
void sgdStep(T* param, const T* grad, T* momentumBuffer, int64_t n, const SgdOptions& o, bool firstStep) {
  const T lr = static_cast<T>(o.lr), mu = static_cast<T>(o.momentum), damp = static_cast<T>(1 - o.dampening);
  const T wd = static_cast<T>(o.weightDecay), sign = o.maximize ? T(-1) : T(1);
  parallelRange(n, 4.0 * n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T d = sign * grad[i] + wd * param[i];
      if (momentumBuffer) {
        const T b = firstStep ? d : mu * momentumBuffer[i] + damp * d;
        momentumBuffer[i] = b;
        d = o.nesterov ? d + mu * b : b;
      }
      param[i] -= lr * d;
    }
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
  parallelRange(n, 10.0 * n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T g = sign * grad[i];
      // AdamW decays the weight directly; Adam adds the L2 term to the gradient.
      if (o.decoupled) param[i] *= T(1) - lr * wd;
      else g += wd * param[i];
      expAvg[i] = b1 * expAvg[i] + (T(1) - b1) * g;
      expAvgSq[i] = b2 * expAvgSq[i] + (T(1) - b2) * g * g;
      T second = expAvgSq[i];
      if (maxExpAvgSq) {
        maxExpAvgSq[i] = std::max(maxExpAvgSq[i], second);
        second = maxExpAvgSq[i];
      }
      param[i] -= stepSize * expAvg[i] / (std::sqrt(second) / sqrtBias2 + eps);
    }
  });
}

template void sgdStep<float>(float*, const float*, float*, int64_t, const SgdOptions&, bool);
template void sgdStep<double>(double*, const double*, double*, int64_t, const SgdOptions&, bool);
template void adamStep<float>(float*, const float*, float*, float*, float*, int64_t, const AdamOptions&, int64_t);
template void adamStep<double>(double*, const double*, double*, double*, double*, int64_t, const AdamOptions&, int64_t);

}  // namespace nodegrad
