// The table of table-driven unary ops: one row per op gives its enum name, its forward expression
// of the input `v` and its backward expression of the upstream gradient `g` and the saved value `s`
// (the input or the output, as the op's row in lib/ops/unary.ts says). `a` and `b` are the op's two
// parameters. The UnaryOp enum, the forward switch and the backward switch are generated from it;
// the order of the rows is the order of lib/ops/unary.ts's table (test/ops/unary.test.ts checks).
#pragma once
#include <algorithm>
#include <cmath>

#include "fast_math.h"

namespace nodegrad::unary_math {

template <typename T>
inline T erfinvOf(T y) {
  // Giles' single-precision approximation, refined by two Newton steps on erf(x) - y in double.
  const auto x = static_cast<double>(y);
  if (!(x > -1.0 && x < 1.0)) return static_cast<T>(x == 1.0 ? INFINITY : x == -1.0 ? -INFINITY : NAN);
  double w = -std::log((1.0 - x) * (1.0 + x)), p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    for (const double c : {3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                           -0.00417768164, 0.246640727, 1.50140941})
      p = c + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    for (const double c : {0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                           1.00167406, 2.83297682})
      p = c + p * w;
  }
  double r = p * x;
  for (int i = 0; i < 2; ++i) r -= (std::erf(r) - x) / (1.1283791670955126 * std::exp(-r * r));
  return static_cast<T>(r);
}

template <typename T>
inline T logisticOf(T x) {
  // Split by sign so exp never overflows for large |x|.
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
inline T mishDerivative(T x) {
  const T t = std::tanh(std::log1p(std::exp(x)));
  return t + x * logisticOf(x) * (T(1) - t * t);
}

// PyTorch's log_sigmoid and its backward: min(x, 0) - log1p(exp(-|x|)) never overflows.
template <typename T>
inline T logSigmoidOf(T x) {
  return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x)));
}

template <typename T>
inline T logSigmoidDerivative(T x) {
  const T z = std::exp(-std::abs(x));
  return x < T(0) ? T(1) - z / (T(1) + z) : z / (T(1) + z);
}

constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

// PyTorch's gelu: a = 0 is the exact erf form, a = 1 the tanh approximation. Written with
// fast::erfc / fast::tanh / fast::expNonPositive so that float loops vectorize (double: libm).
template <typename T>
inline T geluOf(T x, T a) {
  if (a == T(0)) return T(0.5) * x * fast::erfc(x * T(-0.70710678118654752440));
  const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + fast::tanh(inner));
}

template <typename T>
inline T geluDerivative(T x, T a) {
  if (a == T(0)) {
    const T cdf = T(0.5) * fast::erfc(x * T(-0.70710678118654752440));
    return cdf + x * T(0.39894228040143267794) * fast::expNonPositive(T(-0.5) * x * x);
  }
  const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  const T t = fast::tanh(inner);
  const T innerDerivative = T(0.79788456080286535588) * (T(1) + T(3) * T(0.044715) * x * x);
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * innerDerivative;
}

}  // namespace nodegrad::unary_math

// X(Name, forward of v, backward of g and s). nearbyint rounds half to even, as PyTorch's round.
#define NODEGRAD_UNARY_OPS(X)                                                       \
  X(Square, v* v, g* T(2) * s)                                                      \
  X(Gelu, geluOf(v, a), g* geluDerivative(s, a))                                    \
  X(Sin, std::sin(v), g* std::cos(s))                                               \
  X(Cos, std::cos(v), -g* std::sin(s))                                              \
  X(Tan, std::tan(v), g*(T(1) + s * s))                                             \
  X(Asin, std::asin(v), g / std::sqrt(T(1) - s * s))                                \
  X(Acos, std::acos(v), -g / std::sqrt(T(1) - s * s))                               \
  X(Atan, std::atan(v), g / (T(1) + s * s))                                         \
  X(Sinh, std::sinh(v), g* std::cosh(s))                                            \
  X(Cosh, std::cosh(v), g* std::sinh(s))                                            \
  X(Erf, std::erf(v), g* T(1.12837916709551257390) * std::exp(-s * s))              \
  X(Erfc, std::erfc(v), -g* T(1.12837916709551257390) * std::exp(-s * s))           \
  X(Erfinv, erfinvOf(v), g* T(0.88622692545275801365) * std::exp(s * s))            \
  X(Expm1, std::expm1(v), g*(s + T(1)))                                             \
  X(Log1p, std::log1p(v), g / (s + T(1)))                                           \
  X(Log2, std::log2(v), g / (s * T(0.69314718055994530942)))                        \
  X(Log10, std::log10(v), g / (s * T(2.30258509299404568402)))                      \
  X(Floor, std::floor(v), T(0))                                                     \
  X(Ceil, std::ceil(v), T(0))                                                       \
  X(Round, std::nearbyint(v), T(0))                                                 \
  X(Trunc, std::trunc(v), T(0))                                                     \
  X(Frac, v - std::trunc(v), g)                                                     \
  X(Reciprocal, T(1) / v, -g * s * s)                                               \
  X(Rsqrt, T(1) / std::sqrt(v), T(-0.5) * g * s * s * s)                            \
  X(Silu, v* logisticOf(v), g* logisticOf(s) * (T(1) + s * (T(1) - logisticOf(s)))) \
  X(Mish, v* std::tanh(std::log1p(std::exp(v))), g* mishDerivative(s))              \
  X(Softplus, v* a > b ? v : std::log1p(std::exp(v * a)) / a,                       \
    s * a > b ? g : g * std::exp(s * a) / (std::exp(s * a) + T(1)))                 \
  X(Elu, v <= T(0) ? a * std::expm1(v) : v, s <= T(0) ? g * a * std::exp(s) : g)    \
  X(Selu, T(kSeluScale) * (v <= T(0) ? T(kSeluAlpha) * std::expm1(v) : v),          \
    s <= T(0) ? g * T(kSeluScale * kSeluAlpha) * std::exp(s) : g * T(kSeluScale))   \
  X(LeakyRelu, v > T(0) ? v : v * a, s > T(0) ? g : g * a)                          \
  X(Hardtanh, v < a ? a : (v > b ? b : v), (s <= a || s >= b) ? T(0) : g)           \
  X(Hardswish, v* std::min(std::max(v + T(3), T(0)), T(6)) / T(6),                  \
    s < T(-3) ? T(0) : (s <= T(3) ? g * (s / T(3) + T(0.5)) : g))                   \
  X(LogSigmoid, logSigmoidOf(v), g* logSigmoidDerivative(s))                        \
  X(Softsign, v / (T(1) + std::abs(v)), g / ((T(1) + std::abs(s)) * (T(1) + std::abs(s))))
