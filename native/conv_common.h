// Helpers shared by the convolution strategies (conv_direct.cc, conv_implicit.cc, conv_im2col.cc):
// per-group sizes, per-thread scratch, the tap-offset table and padding copies of the flattened-plane
// strategies, the output copy with bias and ReLU, and the flipped weight of the input gradient.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace nodegrad::conv {

// Sizes of one group: input and output channels, taps per output (cinG * kh * kw), output and
// input plane sizes.
struct ConvDims {
  int64_t cinG, coutG, k, plane, inPlane;
};

inline ConvDims dimsOf(const Conv2dShape& s) {
  const int64_t cinG = s.inChannels / s.groups;
  return {cinG, s.outChannels / s.groups, cinG * s.kernelH * s.kernelW, s.outH * s.outW, s.inH * s.inW};
}

inline bool isPointwise(const Conv2dShape& s) {
  return s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padH == 0 && s.padW == 0;
}

inline int64_t roundUp(int64_t n, int64_t step) { return (n + step - 1) / step * step; }

// This thread's scratch of at least `size` elements, one buffer per element type shared by every
// strategy and grown on demand, so repeated convolutions fault no fresh pages.
template <typename T>
T* threadScratch(int64_t size) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// Serial GEMM for callers that already split work over the pool, else one split over the pool.
template <typename T>
void runGemm(bool serial, const GemmArgs& g, const T* a, const T* b, T* c) {
  if (serial)
    gemmSerial<T>(g, a, b, c);
  else
    gemm<T>(g, a, b, c);
}

// Where tap (c, i, j) of a kh x kw kernel over cin padded planes (plane elements, rows pw apart)
// starts: c * plane + i * pw + j, in (c, i, j) order; `length` >= cin * kh * kw pads with 0.
std::vector<int64_t> tapOffsets(int64_t cin, int64_t kh, int64_t kw, int64_t plane, int64_t pw, int64_t length);

// One image's channels [channels][h][w] into a zero-bordered [channels][h + 2 top][w + 2 left]
// buffer followed by zero slack (length elements in all).
template <typename T>
void padImage(const T* in, int64_t channels, int64_t h, int64_t w, int64_t top, int64_t left, T* buffer,
              int64_t length);

// The kept outputs of `rows` flattened output rows (channel c at flat + c * ldf), plus bias and
// ReLU, into the NCHW output rows starting at out (channel planes outPlane apart).
template <typename T>
void keepOutputs(const T* flat, int64_t channels, int64_t ldf, int64_t rows, int64_t outW, int64_t pw, const T* bias,
                 bool relu, T* out, int64_t outPlane);

// out[i][c][p] = (relu ? max(x + bias[c], 0), NaN kept : x + bias[c]) over `planes` [plane] rows, channel i % channels.
template <typename T>
void biasRelu(T* out, int64_t planes, int64_t channels, int64_t plane, const T* bias, bool relu);

// [cout][cin][kh][kw] of group g -> [cin][cout][kh][kw] with the kernel turned by 180 degrees:
// the weight of the transposed convolution that maps output gradients to input gradients.
template <typename T>
void flipWeight(const Conv2dShape& s, const ConvDims& d, const T* weight, int64_t g, std::vector<T>& flipped);

}  // namespace nodegrad::conv
