// The table of table-driven unary ops: one row per op gives its enum name, its forward expression
// of the input `v` and its backward expression of the upstream gradient `g` and the saved value `s`
// (the input or the output, as the op's row in lib/ops/unary.ts says). `a` and `b` are the op's two
// parameters. The UnaryOp enum, the forward switch and the backward switch are generated from it;
// the order of the rows is the order of lib/ops/unary.ts's table (test/ops/unary.test.ts checks).
#pragma once
#include <cmath>

namespace nodegrad {
namespace unary_math {

// PyTorch's gelu: a = 0 is the exact erf form, a = 1 the tanh approximation.
template <typename T>
inline T geluOf(T x, T a) {
  if (a == T(0)) return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
  const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + std::tanh(inner));
}

template <typename T>
inline T geluDerivative(T x, T a) {
  if (a == T(0)) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
    return cdf + x * T(0.39894228040143267794) * std::exp(T(-0.5) * x * x);
  }
  const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  const T t = std::tanh(inner);
  const T innerDerivative = T(0.79788456080286535588) * (T(1) + T(3) * T(0.044715) * x * x);
  return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * innerDerivative;
}

}  // namespace unary_math
}  // namespace nodegrad

// X(Name, forward of v, backward of g and s)
#define NODEGRAD_UNARY_OPS(X)                      \
  X(Square, v * v, g * T(2) * s)                   \
  X(Gelu, geluOf(v, a), g * geluDerivative(s, a))             \
  X(Sin, std::sin(v), g * std::cos(s))                        \
  X(Cos, std::cos(v), -g * std::sin(s))                       \
  X(Tan, std::tan(v), g * (T(1) + s * s))                     \
  X(Asin, std::asin(v), g / std::sqrt(T(1) - s * s))          \
  X(Acos, std::acos(v), -g / std::sqrt(T(1) - s * s))         \
  X(Atan, std::atan(v), g / (T(1) + s * s))                   \
  X(Sinh, std::sinh(v), g * std::cosh(s))                     \
  X(Cosh, std::cosh(v), g * std::sinh(s))
