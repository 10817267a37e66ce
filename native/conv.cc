// 2-D convolution: answers empty work itself, then runs the first strategy of the selection table
// below whose predicate holds for the direction (forward, input gradient, weight gradient). Each
// strategy lives in its own file: conv_direct.cc, conv_implicit.cc, conv_im2col.cc.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "conv_common.h"
#include "conv_strategies.h"
#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

using conv::ConvDims;
using conv::dimsOf;

// ---- predicates ----

bool stride1Undilated(const Conv2dShape& s) {
  return s.strideH == 1 && s.strideW == 1 && s.dilationH == 1 && s.dilationW == 1;
}
bool largerThan1x1(const Conv2dShape& s) { return s.kernelH > 1 || s.kernelW > 1; }
// The input gradient of a stride-1 convolution is a stride-1 convolution of the output gradient
// padded by kernel - 1 - padding on each side, which must not be negative.
int64_t transposedPadH(const Conv2dShape& s) { return s.kernelH - 1 - s.padH; }
int64_t transposedPadW(const Conv2dShape& s) { return s.kernelW - 1 - s.padW; }

// Direct kernels: float32 on AVX-512, few output channels (a 6- or 16-row GEMM wastes most of a
// 12-row micro-kernel), stride 1, no dilation, larger than 1x1 (1x1 reads its input in place) and
// planes small enough that one image's buffers stay in cache.
bool directSuits(const Conv2dShape& s, int64_t outChannels, int64_t pw, int64_t outH) {
  return conv::directEnabled() && stride1Undilated(s) && largerThan1x1(s) && outChannels <= 16 && outH * pw <= 4096;
}
template <typename T>
bool directForwardSuits(const Conv2dShape& s) {
  return std::is_same_v<T, float> && directSuits(s, dimsOf(s).coutG, s.inW + 2 * s.padW, s.outH);
}
template <typename T>
bool directInputSuits(const Conv2dShape& s) {
  return std::is_same_v<T, float> && transposedPadH(s) >= 0 && transposedPadW(s) >= 0 &&
         directSuits(s, dimsOf(s).cinG, s.outW + 2 * transposedPadW(s), s.inH);
}

// Implicit GEMM: large planes (one image already makes a long GEMM), stride 1, no dilation, not 1x1.
bool implicitSuits(const Conv2dShape& s, int64_t outPlane) {
  return stride1Undilated(s) && largerThan1x1(s) && outPlane >= 512;
}
bool implicitForwardSuits(const Conv2dShape& s) { return implicitSuits(s, s.outH * s.outW); }
bool implicitInputSuits(const Conv2dShape& s) {
  return transposedPadH(s) >= 0 && transposedPadW(s) >= 0 && implicitSuits(s, s.inH * s.inW);
}

bool always(const Conv2dShape&) { return true; }

// ---- the direct kernels exist for float32 on x86-64 only ----

template <typename T>
void directForward([[maybe_unused]] const Conv2dShape& s, [[maybe_unused]] const T* input,
                   [[maybe_unused]] const T* weight, [[maybe_unused]] const T* bias, [[maybe_unused]] T* out,
                   [[maybe_unused]] bool relu) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) conv::directForward(s, input, weight, bias, out, relu);
#endif
}
template <typename T>
void directBackwardInput([[maybe_unused]] const Conv2dShape& s, [[maybe_unused]] const T* gradOut,
                         [[maybe_unused]] const T* weight, [[maybe_unused]] T* gradInput) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) conv::directBackwardInput(s, gradOut, weight, gradInput);
#endif
}
template <typename T>
void directBackwardWeight([[maybe_unused]] const Conv2dShape& s, [[maybe_unused]] const T* input,
                          [[maybe_unused]] const T* gradOut, [[maybe_unused]] T* gradWeight) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) conv::directBackwardWeight(s, input, gradOut, gradWeight);
#endif
}

// ---- the selection table ----

template <typename T>
struct Strategy {
  const char* name;
  // When the strategy applies, per direction; nullptr: never.
  bool (*forwardSuits)(const Conv2dShape&);
  bool (*inputSuits)(const Conv2dShape&);
  bool (*weightSuits)(const Conv2dShape&);
  void (*forward)(const Conv2dShape&, const T* input, const T* weight, const T* bias, T* out, bool relu);
  void (*backwardInput)(const Conv2dShape&, const T* gradOut, const T* weight, T* gradInput);
  void (*backwardWeight)(const Conv2dShape&, const T* input, const T* gradOut, T* gradWeight);
};

// Tried in order; the last row applies to every geometry. The 1x1 row is the im2col + GEMM code
// taking its no-copy branch (the input is its own column matrix).
template <typename T>
constexpr Strategy<T> kStrategies[] = {
    // name           when: forward          input gradient         weight gradient
    {"direct", directForwardSuits<T>, directInputSuits<T>, directForwardSuits<T>, directForward<T>,
     directBackwardInput<T>, directBackwardWeight<T>},
    {"implicit GEMM", implicitForwardSuits, implicitInputSuits, nullptr, conv::implicitForward<T>,
     conv::implicitBackwardInput<T>, nullptr},
    {"1x1 no copy", conv::isPointwise, conv::isPointwise, conv::isPointwise, conv::im2colForward<T>,
     conv::im2colBackwardInput<T>, conv::im2colBackwardWeight<T>},
    {"im2col + GEMM", always, always, always, conv::im2colForward<T>, conv::im2colBackwardInput<T>,
     conv::im2colBackwardWeight<T>},
};

template <typename T, typename Suits>
const Strategy<T>& pick(const Conv2dShape& s, Suits suits) {
  for (const Strategy<T>& strategy : kStrategies<T>)
    if (strategy.*suits && (strategy.*suits)(s)) return strategy;
  return std::end(kStrategies<T>)[-1];
}

// ---- empty work ----

// Nothing to write: no images, no output channels or an empty output plane.
bool outputEmpty(const Conv2dShape& s) {
  return s.batch <= 0 || s.outChannels <= 0 || s.outH <= 0 || s.outW <= 0 || s.groups <= 0;
}
// Every output is a sum of no products: no input channels per group, an empty kernel or input plane.
bool tapsEmpty(const Conv2dShape& s) {
  return s.inChannels / s.groups <= 0 || s.kernelH <= 0 || s.kernelW <= 0 || s.inH <= 0 || s.inW <= 0;
}

template <typename T>
void fillZero(T* data, int64_t size) {
  if (size > 0) std::fill(data, data + size, T(0));
}

// Sum of one plane with eight independent partial sums: a single running sum is one long chain
// of dependent adds (4 cycles each), the partial sums vectorize.
template <typename T>
NODEGRAD_CLONES double sumPlane(const T* row, int64_t n) {
  T partial[8] = {};
  int64_t p = 0;
  for (; p + 8 <= n; p += 8)
    for (int j = 0; j < 8; ++j) partial[j] += row[p + j];
  double acc = 0;
  for (T v : partial) acc += v;
  for (; p < n; ++p) acc += row[p];
  return acc;
}

// x - x is 0 for every finite x and NaN otherwise, so one vectorized sum finds any NaN or ±inf.
template <typename T>
NODEGRAD_CLONES bool allFinite(const T* data, int64_t n) {
  T partial[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) partial[j] += data[i + j] - data[i + j];
  T acc = 0;
  for (T v : partial) acc += v;
  for (; i < n; ++i) acc += data[i] - data[i];
  return acc == 0;
}

// ---- taps that read only padding ----

// The kernel rows [lo, hi) that read the input for at least one output row (lo == hi: none).
struct TapRange {
  int64_t lo, hi;
};
TapRange liveTaps(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
  TapRange r{kernel, 0};
  for (int64_t i = 0; i < kernel; ++i)
    for (int64_t o = 0; o < out; ++o) {
      const int64_t at = o * stride - pad + i * dilation;
      if (at >= 0 && at < in) {
        r.lo = std::min(r.lo, i);
        r.hi = i + 1;
        break;
      }
    }
  return r;
}

// The same convolution with its kernel cut to the taps that read real data (a 3x3, padding-1
// kernel over a 1x1 plane is its centre tap: a 1x1 convolution). The cut taps only ever multiply
// padding zeros, so dropping them changes no output. Returns false where nothing can be cut, the
// cut kernel's symmetric padding would not give the same output size, or the cut convolution is
// not 1x1, stride 1, unpadded (a cut 2x2 stride-2 kernel ran at half speed: the weight copy cost
// more than the taps saved).
bool cutPaddingTaps(const Conv2dShape& s, Conv2dShape& cut, TapRange& rows, TapRange& cols) {
  rows = liveTaps(s.inH, s.outH, s.kernelH, s.strideH, s.padH, s.dilationH);
  cols = liveTaps(s.inW, s.outW, s.kernelW, s.strideW, s.padW, s.dilationW);
  if (rows.lo >= rows.hi || cols.lo >= cols.hi) return false;
  if (rows.hi - rows.lo == s.kernelH && cols.hi - cols.lo == s.kernelW) return false;
  cut = s;
  cut.kernelH = rows.hi - rows.lo;
  cut.kernelW = cols.hi - cols.lo;
  cut.padH = s.padH - rows.lo * s.dilationH;
  cut.padW = s.padW - cols.lo * s.dilationW;
  auto size = [](int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
    return span < 0 ? int64_t{-1} : span / stride + 1;
  };
  return conv::isPointwise(cut) && cut.padH >= 0 && cut.padW >= 0 &&
         size(s.inH, cut.kernelH, s.strideH, cut.padH, s.dilationH) == s.outH &&
         size(s.inW, cut.kernelW, s.strideW, cut.padW, s.dilationW) == s.outW;
}

// Copies the live taps of a full [rows][kernelH][kernelW] weight into the cut one
// ([rows][kh'][kw']), or the cut one's taps back into the full one with zeros at its other taps.
// Plain loops over the pool: the taps are a few elements each (a memmove call per tap cost more
// than the copy), and a 512x512x3x3 weight is 9 MiB to read or write, once.
template <typename T>
void copyTaps(const Conv2dShape& s, const TapRange& r, const TapRange& c, const T* from, T* to, bool intoCut) {
  const int64_t rows = s.outChannels * (s.inChannels / s.groups), kh = r.hi - r.lo, kw = c.hi - c.lo;
  const int64_t fullRow = s.kernelH * s.kernelW, cutRow = kh * kw, first = r.lo * s.kernelW + c.lo;
  parallelRange(rows, static_cast<double>(rows * fullRow), [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      if (!intoCut)
        for (int64_t t = 0; t < fullRow; ++t) to[q * fullRow + t] = T(0);
      for (int64_t i = 0; i < kh; ++i) {
        const int64_t full = q * fullRow + first + i * s.kernelW, cut = q * cutRow + i * kw;
        for (int64_t j = 0; j < kw; ++j) {
          if (intoCut)
            to[cut + j] = from[full + j];
          else
            to[full + j] = from[cut + j];
        }
      }
    }
  });
}

// Per calling thread, kept between calls: the cut weight or its gradient.
template <typename T>
T* cutWeightBuffer(const Conv2dShape& cut) {
  thread_local std::vector<T> buffer;
  const int64_t size = cut.outChannels * (cut.inChannels / cut.groups) * cut.kernelH * cut.kernelW;
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

}  // namespace

template <typename T>
void conv2dForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu) {
  if (outputEmpty(s)) return;
  const int64_t plane = s.outH * s.outW;
  if (tapsEmpty(s)) {
    fillZero(out, s.batch * s.outChannels * plane);
    conv::biasRelu(out, s.batch * s.outChannels, s.outChannels, plane, bias, relu);
    return;
  }
  Conv2dShape cut;
  TapRange rows{}, cols{};
  if (cutPaddingTaps(s, cut, rows, cols)) {
    T* w = cutWeightBuffer<T>(cut);
    copyTaps(s, rows, cols, weight, w, true);
    pick<T>(cut, &Strategy<T>::forwardSuits).forward(cut, input, w, bias, out, relu);
    return;
  }
  pick<T>(s, &Strategy<T>::forwardSuits).forward(s, input, weight, bias, out, relu);
}

template <typename T>
void conv2dBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput) {
  if (outputEmpty(s) || tapsEmpty(s)) {
    if (s.groups > 0) fillZero(gradInput, s.batch * s.inChannels * s.inH * s.inW);
    return;
  }
  Conv2dShape cut;
  TapRange rows{}, cols{};
  if (cutPaddingTaps(s, cut, rows, cols)) {
    T* w = cutWeightBuffer<T>(cut);
    copyTaps(s, rows, cols, weight, w, true);
    pick<T>(cut, &Strategy<T>::inputSuits).backwardInput(cut, gradOut, w, gradInput);
    return;
  }
  pick<T>(s, &Strategy<T>::inputSuits).backwardInput(s, gradOut, weight, gradInput);
}

template <typename T>
void conv2dBackwardWeight(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight, T* gradBias) {
  if (s.groups <= 0) return;
  if (outputEmpty(s) || tapsEmpty(s)) {
    fillZero(gradWeight, s.outChannels * (s.inChannels / s.groups) * s.kernelH * s.kernelW);
  } else {
    // Taps that read only padding get a zero gradient; the others that of the cut convolution.
    Conv2dShape cut;
    TapRange rows{}, cols{};
    const bool cutTaps = cutPaddingTaps(s, cut, rows, cols);
    const Conv2dShape& run = cutTaps ? cut : s;
    T* target = cutTaps ? cutWeightBuffer<T>(cut) : gradWeight;
    const Strategy<T>* strategy = &pick<T>(run, &Strategy<T>::weightSuits);
    // The direct kernels also multiply zero gradients of the discarded columns of the flattened
    // padded planes by the input there: a NaN or ±inf input would turn them into NaN where PyTorch
    // sums only real taps, so such inputs take the im2col path (the scan costs one read of the input).
    if (strategy == &kStrategies<T>[0] && !allFinite(input, s.batch * s.inChannels * s.inH * s.inW))
      strategy = &std::end(kStrategies<T>)[-1];
    strategy->backwardWeight(run, input, gradOut, target);
    if (cutTaps) {
      copyTaps(s, rows, cols, static_cast<const T*>(target), gradWeight, false);
    }
  }
  if (gradBias) {
    const int64_t plane = std::max<int64_t>(0, s.outH * s.outW);
    for (int64_t c = 0; c < s.outChannels; ++c) {
      double acc = 0;
      for (int64_t n = 0; n < s.batch; ++n) acc += sumPlane(gradOut + (n * s.outChannels + c) * plane, plane);
      gradBias[c] = static_cast<T>(acc);
    }
  }
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type, which cannot be parenthesized.
#define NODEGRAD_INSTANTIATE_CONV(T)                                                          \
  template void conv2dForward<T>(const Conv2dShape&, const T*, const T*, const T*, T*, bool); \
  template void conv2dBackwardInput<T>(const Conv2dShape&, const T*, const T*, T*);           \
  template void conv2dBackwardWeight<T>(const Conv2dShape&, const T*, const T*, T*, T*);
// NOLINTEND(bugprone-macro-parentheses)
NODEGRAD_INSTANTIATE_CONV(float)
NODEGRAD_INSTANTIATE_CONV(double)

}  // namespace nodegrad
