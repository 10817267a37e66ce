// Element-wise kernels: unary maps over contiguous buffers, binary maps with broadcasting through
// strides (a stride of 0 repeats an element, so expanded inputs are never materialized).
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

template <typename T>
inline T sigmoidOf(T x) {
  // Split by sign so exp never overflows for large |x|.
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T, typename F>
NODEGRAD_CLONES void mapUnary(const T* x, T* out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(x[i]);
}

template <typename T, typename F>
NODEGRAD_CLONES void mapBackward(const T* s, const T* g, T* out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(g[i], s[i]);
}

template <typename T>
struct BinaryFns {
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T div(T a, T b) { return a / b; }
  static T pow(T a, T b) { return static_cast<T>(std::pow(a, b)); }
  static T maximum(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a) || std::isnan(b)) return a + b;  // NaN propagates, as in PyTorch
    }
    return a > b ? a : b;
  }
  static T minimum(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a) || std::isnan(b)) return a + b;
    }
    return a < b ? a : b;
  }
  // PyTorch's threshold_backward: only y <= 0 blocks the gradient, so a NaN output passes it on.
  static T reluBackward(T g, T y) { return y <= T(0) ? T(0) : g; }
  static T sigmoidBackward(T g, T y) { return g * y * (T(1) - y); }
  static T tanhBackward(T g, T y) { return g * (T(1) - y * y); }
};

// Walks every index of `shape` except the last with a counter; the last axis is the inner loop,
// specialized for the common unit-stride and broadcast-scalar cases.
template <typename T, T (*F)(T, T)>
NODEGRAD_CLONES void binaryLoop(int ndim, const int64_t* shape, const T* a, const int64_t* as, const T* b,
                                const int64_t* bs, T* out) {
  if (ndim == 0) {
    out[0] = F(a[0], b[0]);
    return;
  }
  const int64_t inner = shape[ndim - 1];
  const int64_t sa = as[ndim - 1], sb = bs[ndim - 1];
  int64_t outerCount = 1;
  for (int d = 0; d < ndim - 1; ++d) outerCount *= shape[d];
  if (inner == 0 || outerCount == 0) return;
  std::vector<int64_t> counter(ndim > 1 ? ndim - 1 : 1, 0);
  int64_t offA = 0, offB = 0;
  for (int64_t o = 0; o < outerCount; ++o) {
    const T* pa = a + offA;
    const T* pb = b + offB;
    T* po = out + o * inner;
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < inner; ++i) po[i] = F(pa[i], pb[i]);
    } else if (sa == 1 && sb == 0) {
      const T vb = pb[0];
      for (int64_t i = 0; i < inner; ++i) po[i] = F(pa[i], vb);
    } else if (sa == 0 && sb == 1) {
      const T va = pa[0];
      for (int64_t i = 0; i < inner; ++i) po[i] = F(va, pb[i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) po[i] = F(pa[i * sa], pb[i * sb]);
    }
    for (int d = ndim - 2; d >= 0; --d) {
      offA += as[d];
      offB += bs[d];
      if (++counter[d] < shape[d]) break;
      offA -= as[d] * shape[d];
      offB -= bs[d] * shape[d];
      counter[d] = 0;
    }
  }
}

}  // namespace

// Element counts below this run on the calling thread: waking a worker costs a few microseconds,
// about what one thread needs for 64K simple element operations.
constexpr double kParallelElements = 65536;

template <typename T>
void unaryRange(UnaryOp op, const T* x, T* out, int64_t n, double p1, double p2) {
  using namespace unary_math;
  const T a = static_cast<T>(p1), b = static_cast<T>(p2);
  switch (op) {
    case UnaryOp::Neg:
      mapUnary(x, out, n, [](T v) { return -v; });
      break;
    case UnaryOp::Exp:
      mapUnary(x, out, n, [](T v) { return std::exp(v); });
      break;
    case UnaryOp::Log:
      mapUnary(x, out, n, [](T v) { return std::log(v); });
      break;
    case UnaryOp::Sqrt:
      mapUnary(x, out, n, [](T v) { return std::sqrt(v); });
      break;
    case UnaryOp::Abs:
      mapUnary(x, out, n, [](T v) { return std::abs(v); });
      break;
    case UnaryOp::Sign:
      mapUnary(x, out, n, [](T v) { return static_cast<T>((v > T(0)) - (v < T(0))); });
      break;
    // v < 0 ? 0 : v keeps NaN (and -0, as PyTorch does) and compiles to one max instruction whose
    // NaN operand wins.
    case UnaryOp::Relu:
      mapUnary(x, out, n, [](T v) { return v < T(0) ? T(0) : v; });
      break;
    case UnaryOp::Sigmoid:
      mapUnary(x, out, n, [](T v) { return sigmoidOf(v); });
      break;
    case UnaryOp::Tanh:
      mapUnary(x, out, n, [](T v) { return std::tanh(v); });
      break;
    case UnaryOp::Clamp:
      mapUnary(x, out, n, [a, b](T v) { return v < a ? a : (v > b ? b : v); });
      break;
    case UnaryOp::ClampMask:
      mapUnary(x, out, n, [a, b](T v) { return (v >= a && v <= b) ? T(1) : T(0); });
      break;
    case UnaryOp::PowScalar:
      // PyTorch computes x ** 0.5 and x ** -0.5 as sqrt and rsqrt: sqrt(-inf) is NaN where pow gives inf.
      if (p1 == 0.5) {
        mapUnary(x, out, n, [](T v) { return std::sqrt(v); });
      } else if (p1 == -0.5) {
        mapUnary(x, out, n, [](T v) { return T(1) / std::sqrt(v); });
      } else {
        mapUnary(x, out, n, [a](T v) { return static_cast<T>(std::pow(v, a)); });
      }
      break;
    case UnaryOp::Affine:
      mapUnary(x, out, n, [a, b](T v) { return a * v + b; });
      break;
#define NODEGRAD_FORWARD_CASE(Name, forward, backward) \
  case UnaryOp::Name:                                  \
    mapUnary(x, out, n, [=](T v) {                     \
      (void)a;                                         \
      (void)b;                                         \
      return static_cast<T>(forward);                  \
    });                                                \
    break;
      NODEGRAD_UNARY_OPS(NODEGRAD_FORWARD_CASE)
#undef NODEGRAD_FORWARD_CASE
    case UnaryOp::Count:
      break;
  }
}

template <typename T>
void unaryBackwardRange(UnaryOp op, const T* s, const T* g, T* out, int64_t n, double p1, double p2) {
  using namespace unary_math;
  const T a = static_cast<T>(p1), b = static_cast<T>(p2);
  switch (op) {
#define NODEGRAD_BACKWARD_CASE(Name, forward, backward) \
  case UnaryOp::Name:                                   \
    mapBackward(s, g, out, n, [=](T g, T s) {           \
      (void)a;                                          \
      (void)b;                                          \
      return static_cast<T>(backward);                  \
    });                                                 \
    break;
    NODEGRAD_UNARY_OPS(NODEGRAD_BACKWARD_CASE)
#undef NODEGRAD_BACKWARD_CASE
    default:
      break;
  }
}

template <typename T>
void binaryRange(BinaryOp op, int ndim, const int64_t* shape, const T* a, const int64_t* as, const T* b,
                 const int64_t* bs, T* out) {
  using F = BinaryFns<T>;
  switch (op) {
    case BinaryOp::Add:
      binaryLoop<T, F::add>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Sub:
      binaryLoop<T, F::sub>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Mul:
      binaryLoop<T, F::mul>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Div:
      binaryLoop<T, F::div>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Pow:
      binaryLoop<T, F::pow>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Maximum:
      binaryLoop<T, F::maximum>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Minimum:
      binaryLoop<T, F::minimum>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::ReluBackward:
      binaryLoop<T, F::reluBackward>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::SigmoidBackward:
      binaryLoop<T, F::sigmoidBackward>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::TanhBackward:
      binaryLoop<T, F::tanhBackward>(ndim, shape, a, as, b, bs, out);
      break;
    case BinaryOp::Count:
      break;
  }
}

template <typename T>
NODEGRAD_CLONES void copyRange(int ndim, const int64_t* shape, const T* src, const int64_t* ss, T* dst,
                               const int64_t* ds) {
  if (ndim == 0) {
    dst[0] = src[0];
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  if (total == 0) return;
  const int64_t inner = shape[ndim - 1];
  const int64_t si = ss[ndim - 1], di = ds[ndim - 1];
  std::vector<int64_t> counter(ndim, 0);
  int64_t offS = 0, offD = 0;
  for (int64_t o = 0; o < total / inner; ++o) {
    const T* ps = src + offS;
    T* pd = dst + offD;
    if (si == 1 && di == 1) {
      for (int64_t i = 0; i < inner; ++i) pd[i] = ps[i];
    } else {
      for (int64_t i = 0; i < inner; ++i) pd[i * di] = ps[i * si];
    }
    for (int d = ndim - 2; d >= 0; --d) {
      offS += ss[d];
      offD += ds[d];
      if (++counter[d] < shape[d]) break;
      offS -= ss[d] * shape[d];
      offD -= ds[d] * shape[d];
      counter[d] = 0;
    }
  }
}

// Splits [0, shape[0]) of a strided operation over the pool when it is large: each thread runs the
// serial loop on its slab of the first dimension, so every element is computed as it would be on
// one thread.
template <typename Fn>
void splitFirstDim(int ndim, const int64_t* shape, Fn fn) {
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  if (ndim == 0 || total < kParallelElements || numThreads() == 1) {
    fn(int64_t{0}, ndim == 0 ? int64_t{1} : shape[0]);
    return;
  }
  parallelRange(shape[0], static_cast<double>(total), fn);
}

template <typename T>
void unary(UnaryOp op, const T* x, T* out, int64_t n, double p1, double p2) {
  if (n < kParallelElements) {
    unaryRange(op, x, out, n, p1, p2);
    return;
  }
  parallelRange(n, static_cast<double>(n),
                [&](int64_t begin, int64_t end) { unaryRange(op, x + begin, out + begin, end - begin, p1, p2); });
}

template <typename T>
void unaryBackward(UnaryOp op, const T* s, const T* g, T* out, int64_t n, double p1, double p2) {
  if (n < kParallelElements) {
    unaryBackwardRange(op, s, g, out, n, p1, p2);
    return;
  }
  parallelRange(n, static_cast<double>(n), [&](int64_t begin, int64_t end) {
    unaryBackwardRange(op, s + begin, g + begin, out + begin, end - begin, p1, p2);
  });
}

template <typename T>
void binary(BinaryOp op, int ndim, const int64_t* shape, const T* a, const int64_t* as, const T* b, const int64_t* bs,
            T* out) {
  int64_t rowSize = 1;
  for (int d = 1; d < ndim; ++d) rowSize *= shape[d];
  splitFirstDim(ndim, shape, [&](int64_t begin, int64_t end) {
    if (ndim == 0) return binaryRange(op, ndim, shape, a, as, b, bs, out);
    std::vector<int64_t> part(shape, shape + ndim);
    part[0] = end - begin;
    binaryRange(op, ndim, part.data(), a + begin * as[0], as, b + begin * bs[0], bs, out + begin * rowSize);
  });
}

template <typename T>
void copyStrided(int ndim, const int64_t* shape, const T* src, const int64_t* ss, T* dst, const int64_t* ds) {
  splitFirstDim(ndim, shape, [&](int64_t begin, int64_t end) {
    if (ndim == 0) return copyRange(ndim, shape, src, ss, dst, ds);
    std::vector<int64_t> part(shape, shape + ndim);
    part[0] = end - begin;
    copyRange(ndim, part.data(), src + begin * ss[0], ss, dst + begin * ds[0], ds);
  });
}

template void unary<float>(UnaryOp, const float*, float*, int64_t, double, double);
template void unary<double>(UnaryOp, const double*, double*, int64_t, double, double);
template void unaryBackward<float>(UnaryOp, const float*, const float*, float*, int64_t, double, double);
template void unaryBackward<double>(UnaryOp, const double*, const double*, double*, int64_t, double, double);
template void binary<float>(BinaryOp, int, const int64_t*, const float*, const int64_t*, const float*, const int64_t*,
                            float*);
template void binary<double>(BinaryOp, int, const int64_t*, const double*, const int64_t*, const double*,
                             const int64_t*, double*);
template void binary<int32_t>(BinaryOp, int, const int64_t*, const int32_t*, const int64_t*, const int32_t*,
                              const int64_t*, int32_t*);
template void copyStrided<float>(int, const int64_t*, const float*, const int64_t*, float*, const int64_t*);
template void copyStrided<double>(int, const int64_t*, const double*, const int64_t*, double*, const int64_t*);
template void copyStrided<int32_t>(int, const int64_t*, const int32_t*, const int64_t*, int32_t*, const int64_t*);

}  // namespace nodegrad
