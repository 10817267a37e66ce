// Implicit GEMM over flattened padded planes (stride 1, no dilation), forward and input gradient.
//
// With the input zero-padded into planes of pw = inW + 2 * padW columns, output position
// q = oh * pw + ow reads input q + i * pw + j for tap (i, j): row (c, i, j) of the column matrix is
// the padded plane shifted by c * plane + i * pw + j. The GEMM reads those rows in place through
// GemmArgs::bRows, so no column matrix is built; it computes pw - outW extra positions per output
// row (2 of 58 for a 3x3 layer on 56x56), which are dropped when the tile is copied out.
#include <algorithm>
#include <vector>

#include "conv_common.h"
#include "conv_strategies.h"
#include "thread_pool.h"

namespace nodegrad::conv {
namespace {

// Stride-1 convolution of every image of one group by implicit GEMM: input images [cin][h][w]
// (inImageStride apart), padding (top, left) on both sides, weight [cout][cin * kh * kw].
template <typename T>
void implicitConvImages(int64_t batch, const T* input, int64_t inImageStride, int64_t cin, int64_t h, int64_t w,
                        int64_t top, int64_t left, int64_t kh, int64_t kw, const T* weight, int64_t cout, const T* bias,
                        bool relu, T* out, int64_t outImageStride) {
  const int64_t pw = w + 2 * left, ph = h + 2 * top, outH = ph - kh + 1, outW = pw - kw + 1;
  const int64_t plane = ph * pw, taps = cin * kh * kw, xLength = cin * plane + pw + 64;
  const std::vector<int64_t> offsets = tapOffsets(cin, kh, kw, plane, pw, taps);
  // Tiles of up to 16 MiB of (virtual) columns: the GEMM packs its B panels from the padded image
  // either way, and fewer, longer GEMMs repack the weights less and waste less on partial panels
  // (measured on ResNet's 3x3 layers: whole 56x56 images beat 512 KiB tiles by 15-20%).
  const int64_t tileCap =
      std::max<int64_t>(1, static_cast<int64_t>((size_t{16} * 1024 * 1024) / (sizeof(T) * taps)) / pw);
  const int64_t rowsPerTile = std::min(outH, tileCap);
  auto image = [&](int64_t n, bool serial) {
    T* x = threadScratch<T>(xLength + cout * rowsPerTile * pw);
    T* tile = x + xLength;
    padImage(input + n * inImageStride, cin, h, w, top, left, x, xLength);
    for (int64_t oh0 = 0; oh0 < outH; oh0 += rowsPerTile) {
      const int64_t rows = std::min(rowsPerTile, outH - oh0), cols = rows * pw;
      GemmArgs args;
      args.m = cout;
      args.n = cols;
      args.k = taps;
      args.lda = taps;
      args.ldc = cols;
      args.bRows = offsets.data();
      runGemm(serial, args, weight, static_cast<const T*>(x + oh0 * pw), tile);
      keepOutputs(static_cast<const T*>(tile), cout, cols, rows, outW, pw, bias, relu,
                  out + n * outImageStride + oh0 * outW, outH * outW);
    }
  };
  if (batch >= numThreads() && numThreads() > 1) {
    parallelFor(batch, [&](int64_t n) { image(n, true); });
  } else {
    for (int64_t n = 0; n < batch; ++n) image(n, false);
  }
}

}  // namespace

template <typename T>
void implicitForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu) {
  const ConvDims d = dimsOf(s);
  for (int64_t g = 0; g < s.groups; ++g)
    implicitConvImages(s.batch, input + g * d.cinG * d.inPlane, s.inChannels * d.inPlane, d.cinG, s.inH, s.inW, s.padH,
                       s.padW, s.kernelH, s.kernelW, weight + g * d.coutG * d.k, d.coutG,
                       bias ? bias + g * d.coutG : nullptr, relu, out + g * d.coutG * d.plane, s.outChannels * d.plane);
}

// The input gradient of a stride-1 convolution is a stride-1 convolution of the output gradient,
// padded by (kernel - 1 - padding), with the flipped weight: no column matrix and no col2im.
template <typename T>
void implicitBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput) {
  const ConvDims d = dimsOf(s);
  const int64_t top = s.kernelH - 1 - s.padH, left = s.kernelW - 1 - s.padW;
  // Per thread and kept between calls (as threadScratch): a fresh buffer per call faults its pages anew.
  thread_local std::vector<T> flipped;
  for (int64_t g = 0; g < s.groups; ++g) {
    flipWeight(s, d, weight, g, flipped);
    implicitConvImages(s.batch, gradOut + g * d.coutG * d.plane, s.outChannels * d.plane, d.coutG, s.outH, s.outW, top,
                       left, s.kernelH, s.kernelW, static_cast<const T*>(flipped.data()), d.cinG,
                       static_cast<const T*>(nullptr), false, gradInput + g * d.cinG * d.inPlane,
                       s.inChannels * d.inPlane);
  }
}

template void implicitForward<float>(const Conv2dShape&, const float*, const float*, const float*, float*, bool);
template void implicitForward<double>(const Conv2dShape&, const double*, const double*, const double*, double*, bool);
template void implicitBackwardInput<float>(const Conv2dShape&, const float*, const float*, float*);
template void implicitBackwardInput<double>(const Conv2dShape&, const double*, const double*, double*);

}  // namespace nodegrad::conv
