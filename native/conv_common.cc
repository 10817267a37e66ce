// Helpers shared by the convolution strategies (conv_common.h).
#include "conv_common.h"

#include <algorithm>
#include <cstring>

#include "simd.h"

namespace nodegrad::conv {

std::vector<int64_t> tapOffsets(int64_t cin, int64_t kh, int64_t kw, int64_t plane, int64_t pw, int64_t length) {
  std::vector<int64_t> offsets(static_cast<size_t>(length), 0);
  for (int64_t c = 0; c < cin; ++c)
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) offsets[static_cast<size_t>((c * kh + i) * kw + j)] = c * plane + i * pw + j;
  return offsets;
}

template <typename T>
NODEGRAD_CLONES void padImage(const T* in, int64_t channels, int64_t h, int64_t w, int64_t top, int64_t left, T* buffer,
                              int64_t length) {
  const int64_t pw = w + 2 * left, ph = h + 2 * top;
  std::fill(buffer, buffer + length, T(0));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < h; ++y)
      std::memcpy(buffer + (c * ph + y + top) * pw + left, in + (c * h + y) * w, sizeof(T) * w);
}

template <typename T>
NODEGRAD_CLONES void keepOutputs(const T* flat, int64_t channels, int64_t ldf, int64_t rows, int64_t outW, int64_t pw,
                                 const T* bias, bool relu, T* out, int64_t outPlane) {
  for (int64_t c = 0; c < channels; ++c) {
    const T b = bias ? bias[c] : T(0);
    for (int64_t y = 0; y < rows; ++y) {
      const T* from = flat + c * ldf + y * pw;
      T* to = out + c * outPlane + y * outW;
      if (relu) {
        for (int64_t x = 0; x < outW; ++x) to[x] = std::max(from[x] + b, T(0));
      } else {
        for (int64_t x = 0; x < outW; ++x) to[x] = from[x] + b;
      }
    }
  }
}

template <typename T>
NODEGRAD_CLONES void biasRelu(T* out, int64_t planes, int64_t channels, int64_t plane, const T* bias, bool relu) {
  for (int64_t i = 0; i < planes; ++i) {
    T* row = out + i * plane;
    const T b = bias ? bias[i % channels] : T(0);
    if (relu) {
      for (int64_t p = 0; p < plane; ++p) row[p] = std::max(row[p] + b, T(0));
    } else {
      for (int64_t p = 0; p < plane; ++p) row[p] += b;
    }
  }
}

template <typename T>
void flipWeight(const Conv2dShape& s, const ConvDims& d, const T* weight, int64_t g, std::vector<T>& flipped) {
  flipped.resize(static_cast<size_t>(d.cinG * d.coutG * s.kernelH * s.kernelW));
  for (int64_t ci = 0; ci < d.cinG; ++ci)
    for (int64_t co = 0; co < d.coutG; ++co)
      for (int64_t i = 0; i < s.kernelH; ++i)
        for (int64_t j = 0; j < s.kernelW; ++j)
          flipped[static_cast<size_t>(((ci * d.coutG + co) * s.kernelH + i) * s.kernelW + j)] =
              weight[(((g * d.coutG + co) * d.cinG + ci) * s.kernelH + s.kernelH - 1 - i) * s.kernelW + s.kernelW - 1 -
                     j];
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type, which cannot be parenthesized.
#define NODEGRAD_INSTANTIATE_CONV_COMMON(T)                                                                         \
  template void padImage<T>(const T*, int64_t, int64_t, int64_t, int64_t, int64_t, T*, int64_t);                    \
  template void keepOutputs<T>(const T*, int64_t, int64_t, int64_t, int64_t, int64_t, const T*, bool, T*, int64_t); \
  template void biasRelu<T>(T*, int64_t, int64_t, int64_t, const T*, bool);                                         \
  template void flipWeight<T>(const Conv2dShape&, const ConvDims&, const T*, int64_t, std::vector<T>&);
// NOLINTEND(bugprone-macro-parentheses)
NODEGRAD_INSTANTIATE_CONV_COMMON(float)
NODEGRAD_INSTANTIATE_CONV_COMMON(double)

}  // namespace nodegrad::conv
