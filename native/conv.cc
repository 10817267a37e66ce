// 2-D convolution as im2col + GEMM, per image and group. Images are spread over the thread pool
// (each thread with its own column buffer and serial GEMM); with fewer images than threads, the
// GEMM itself is split instead. A 1x1, stride-1, unpadded convolution reads its input as the
// column matrix directly (no copy).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "conv_direct.h"
#include "kernels.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad {
namespace {

bool isPointwise(const Conv2dShape& s) {
  return s.kernelH == 1 && s.kernelW == 1 && s.strideH == 1 && s.strideW == 1 && s.padH == 0 &&
         s.padW == 0;
}

template <typename T>
T* threadScratch(int64_t size) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < size) buffer.resize(static_cast<size_t>(size));
  return buffer.data();
}

// col[(c * kh + i) * kw + j][oh * outW + ow] = input[c][oh*sh - ph + i*dh][ow*sw - pw + j*dw], 0 outside.
// Rows are ldcol apart, so several images can fill side-by-side column blocks of one matrix.
template <typename T>
void im2colGeneral(const Conv2dShape& s, int64_t channels, const T* input, T* col, int64_t ldcol, int64_t oh0,
                   int64_t oh1) {
  const int64_t plane = ldcol;
  for (int64_t c = 0; c < channels; ++c) {
    const T* in = input + c * s.inH * s.inW;
    for (int64_t i = 0; i < s.kernelH; ++i) {
      for (int64_t j = 0; j < s.kernelW; ++j) {
        T* row = col + ((c * s.kernelH + i) * s.kernelW + j) * plane;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          T* dst = row + (oh - oh0) * s.outW;
          const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
          if (ih < 0 || ih >= s.inH) {
            std::fill(dst, dst + s.outW, T(0));
            continue;
          }
          const T* src = in + ih * s.inW;
          const int64_t offset = j * s.dilationW - s.padW;
          if (s.strideW == 1) {
            // Valid ow: 0 <= ow + offset < inW. Rows are short (LeNet: 28), so plain loops: a
            // memcpy/fill call per row cost more than the copy itself.
            const int64_t lo = std::min(s.outW, std::max<int64_t>(0, -offset));
            const int64_t hi = std::max(lo, std::min(s.outW, s.inW - offset));
            for (int64_t ow = 0; ow < lo; ++ow) dst[ow] = T(0);
            const T* from = src + offset;
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = from[ow];
            for (int64_t ow = hi; ow < s.outW; ++ow) dst[ow] = T(0);
          } else {
            for (int64_t ow = 0; ow < s.outW; ++ow) {
              const int64_t iw = ow * s.strideW + offset;
              dst[ow] = (iw >= 0 && iw < s.inW) ? src[iw] : T(0);
            }
          }
        }
      }
    }
  }
}

// Stride 1, no dilation (LeNet, ResNet's 3x3 layers): each column row is a plain 2-D copy of a
// shifted window. Padding is materialized once per image in a zero-bordered copy, so the copy loop
// has no bounds checks; for short rows (LeNet's 10 and 28) the checks and zero fills per row
// cost more than the copy (im2col was half of conv2's forward time).
template <typename T>
NODEGRAD_CLONES void im2col(const Conv2dShape& s, int64_t channels, const T* input, T* col, int64_t ldcol,
                            int64_t oh0 = 0, int64_t oh1 = -1) {
  if (oh1 < 0) oh1 = s.outH;
  if (s.strideH != 1 || s.strideW != 1 || s.dilationH != 1 || s.dilationW != 1) {
    im2colGeneral(s, channels, input, col, ldcol, oh0, oh1);
    return;
  }
  const int64_t pw = s.inW + 2 * s.padW, ph = s.inH + 2 * s.padH;
  const T* src = input;
  if (s.padH || s.padW) {
    thread_local std::vector<T> padded;
    thread_local const T* paddedFrom = nullptr;
    // The first row tile of an image pads it; the image's later tiles (same thread, right after)
    // reuse that copy.
    if (oh0 == 0 || paddedFrom != input) {
      if (static_cast<int64_t>(padded.size()) < channels * ph * pw) padded.resize(static_cast<size_t>(channels * ph * pw));
      std::fill(padded.begin(), padded.begin() + channels * ph * pw, T(0));
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t h = 0; h < s.inH; ++h)
          std::memcpy(padded.data() + (c * ph + h + s.padH) * pw + s.padW, input + (c * s.inH + h) * s.inW, sizeof(T) * s.inW);
      paddedFrom = input;
    }
    src = padded.data();
  }
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < s.kernelH; ++i) {
      for (int64_t j = 0; j < s.kernelW; ++j) {
        T* dst = col + ((c * s.kernelH + i) * s.kernelW + j) * ldcol;
        const T* from = src + (c * ph + oh0 + i) * pw + j;
        if (s.outW >= 32) {
          // Long rows: glibc's memcpy runs the CPU's widest vector copy (this file is compiled
          // for the baseline ISA, whose loop copies 16 bytes at a time).
          for (int64_t oh = oh0; oh < oh1; ++oh, dst += s.outW, from += pw) std::memcpy(dst, from, sizeof(T) * s.outW);
        } else {
          for (int64_t oh = oh0; oh < oh1; ++oh, dst += s.outW, from += pw)
            for (int64_t ow = 0; ow < s.outW; ++ow) dst[ow] = from[ow];
        }
      }
    }
  }
}

// The adjoint of im2col: input[c][ih][iw] += col[...] for every window position that read it.
template <typename T>
void col2imGeneral(const Conv2dShape& s, int64_t channels, const T* col, T* input, int64_t ldcol, int64_t oh0,
                   int64_t oh1) {
  const int64_t plane = ldcol;
  for (int64_t c = 0; c < channels; ++c) {
    T* in = input + c * s.inH * s.inW;
    for (int64_t i = 0; i < s.kernelH; ++i) {
      for (int64_t j = 0; j < s.kernelW; ++j) {
        const T* row = col + ((c * s.kernelH + i) * s.kernelW + j) * plane;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
          if (ih < 0 || ih >= s.inH) continue;
          T* dst = in + ih * s.inW;
          const T* src = row + (oh - oh0) * s.outW;
          const int64_t offset = j * s.dilationW - s.padW;
          for (int64_t ow = 0; ow < s.outW; ++ow) {
            const int64_t iw = ow * s.strideW + offset;
            if (iw >= 0 && iw < s.inW) dst[iw] += src[ow];
          }
        }
      }
    }
  }
}

// Stride 1, no dilation: accumulate into a zero-bordered buffer with plain shifted adds, then add
// its interior into the input gradient (the adjoint of im2col's fast path).
template <typename T>
NODEGRAD_CLONES void col2im(const Conv2dShape& s, int64_t channels, const T* col, T* input, int64_t ldcol,
                            int64_t oh0 = 0, int64_t oh1 = -1) {
  if (oh1 < 0) oh1 = s.outH;
  if (s.strideH != 1 || s.strideW != 1 || s.dilationH != 1 || s.dilationW != 1) {
    col2imGeneral(s, channels, col, input, ldcol, oh0, oh1);
    return;
  }
  const int64_t pw = s.inW + 2 * s.padW, ph = s.inH + 2 * s.padH;
  thread_local std::vector<T> padded;
  if (static_cast<int64_t>(padded.size()) < channels * ph * pw) padded.resize(static_cast<size_t>(channels * ph * pw));
  T* acc = padded.data();
  std::fill(acc, acc + channels * ph * pw, T(0));
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t i = 0; i < s.kernelH; ++i) {
      for (int64_t j = 0; j < s.kernelW; ++j) {
        const T* src = col + ((c * s.kernelH + i) * s.kernelW + j) * ldcol;
        T* to = acc + (c * ph + oh0 + i) * pw + j;
        for (int64_t oh = oh0; oh < oh1; ++oh, src += s.outW, to += pw)
          for (int64_t ow = 0; ow < s.outW; ++ow) to[ow] += src[ow];
      }
    }
  }
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t h = 0; h < s.inH; ++h) {
      const T* from = acc + (c * ph + h + s.padH) * pw + s.padW;
      T* into = input + (c * s.inH + h) * s.inW;
      for (int64_t w = 0; w < s.inW; ++w) into[w] += from[w];
    }
}

struct ConvDims {
  int64_t cinG, coutG, k, plane, inPlane;
};

ConvDims dimsOf(const Conv2dShape& s) {
  const int64_t cinG = s.inChannels / s.groups;
  return {cinG, s.outChannels / s.groups, cinG * s.kernelH * s.kernelW, s.outH * s.outW,
          s.inH * s.inW};
}

// Output rows per column tile for one image: the tile's columns (k x rows*outW) stay within about
// 512 KiB, so im2col writes them into cache and the GEMM reads them from there. Without tiling a
// ResNet 3x3 layer's full column matrix (576 x 3136 floats, 7 MiB) went through memory twice.
int64_t rowsPerTile(const Conv2dShape& s, int64_t k, size_t elementSize) {
  const int64_t cols = static_cast<int64_t>((512 * 1024) / (elementSize * static_cast<size_t>(k)));
  return std::max<int64_t>(1, std::min(s.outH, cols / std::max<int64_t>(1, s.outW)));
}

// Images per GEMM: small output planes (LeNet's 10x10) make thin GEMMs whose packing and call
// overhead dominate, so several images share one GEMM with their columns side by side. Large
// planes (ResNet's 56x56) already give long GEMMs: one image each.
int64_t imagesPerGemm(const Conv2dShape& s, int64_t plane) {
  if (plane >= 512) return 1;
  const int64_t wanted = (512 + plane - 1) / plane;
  const int64_t perThread = (s.batch + numThreads() - 1) / numThreads();
  return std::max<int64_t>(1, std::min({wanted, perThread, s.batch}));
}

// Runs fn(firstImage, count, serialGemm) for every group of images: over the pool when there
// are enough groups, else one group at a time with the GEMM itself split over the pool.
template <typename Fn>
void forEachGroup(int64_t batch, int64_t perGroup, Fn fn) {
  const int64_t groups = (batch + perGroup - 1) / perGroup;
  auto run = [&](int64_t grp, bool serial) {
    const int64_t first = grp * perGroup;
    fn(first, std::min(perGroup, batch - first), serial);
  };
  if (groups >= numThreads() && numThreads() > 1) {
    parallelFor(groups, [&](int64_t grp) { run(grp, true); });
  } else {
    for (int64_t grp = 0; grp < groups; ++grp) run(grp, false);
  }
}

template <typename T>
void runGemm(bool serial, const GemmArgs& g, const T* a, const T* b, T* c) {
  if (serial) gemmSerial<T>(g, a, b, c);
  else gemm<T>(g, a, b, c);
}

// Copies channels [c0, c0 + count) of `count` images' [channels, plane] maps into (or out of) a
// [count, cols] block whose rows hold the images side by side.
template <typename T>
void gatherPlanes(const T* src, int64_t images, int64_t channelStride, int64_t imageStride, int64_t rows,
                  int64_t plane, T* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < images; ++i)
      std::memcpy(dst + (r * images + i) * plane, src + i * imageStride + r * channelStride, sizeof(T) * plane);
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
  for (int j = 0; j < 8; ++j) acc += partial[j];
  for (; p < n; ++p) acc += row[p];
  return acc;
}

// out[i][c][p] = (relu ? max(0, x + bias[c]) : x + bias[c]) over `planes` [plane] rows, channel i % channels.
template <typename T>
NODEGRAD_CLONES void biasRelu(T* out, int64_t planes, int64_t channels, int64_t plane, const T* bias, bool relu) {
  for (int64_t i = 0; i < planes; ++i) {
    T* row = out + i * plane;
    const T b = bias ? bias[i % channels] : T(0);
    if (relu) {
      for (int64_t p = 0; p < plane; ++p) row[p] = std::max(T(0), row[p] + b);
    } else {
      for (int64_t p = 0; p < plane; ++p) row[p] += b;
    }
  }
}

// ---- implicit GEMM over flattened padded planes (stride 1, no dilation) ----
//
// With the input zero-padded into planes of pw = inW + 2 * padW columns, output position
// q = oh * pw + ow reads input q + i * pw + j for tap (i, j): row (c, i, j) of the column matrix is
// the padded plane shifted by c * plane + i * pw + j. The GEMM reads those rows in place through
// GemmArgs::bRows, so no column matrix is built; it computes pw - outW extra positions per output
// row (2 of 58 for a 3x3 layer on 56x56), which are dropped when the tile is copied out.

int64_t roundUp(int64_t n, int64_t step) { return (n + step - 1) / step * step; }

// Where tap (c, i, j) of a kh x kw kernel over cin padded planes (plane elements, rows pw apart)
// starts: c * plane + i * pw + j, in (c, i, j) order; `length` >= cin * kh * kw pads with 0.
std::vector<int64_t> tapOffsets(int64_t cin, int64_t kh, int64_t kw, int64_t plane, int64_t pw, int64_t length) {
  std::vector<int64_t> offsets(static_cast<size_t>(length), 0);
  for (int64_t c = 0; c < cin; ++c)
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j) offsets[static_cast<size_t>((c * kh + i) * kw + j)] = c * plane + i * pw + j;
  return offsets;
}

// One image's channels [channels][h][w] into a zero-bordered [channels][h + 2 top][w + 2 left]
// buffer followed by zero slack (length elements in all).
template <typename T>
NODEGRAD_CLONES void padImage(const T* in, int64_t channels, int64_t h, int64_t w, int64_t top, int64_t left,
                              T* buffer, int64_t length) {
  const int64_t pw = w + 2 * left, ph = h + 2 * top;
  std::fill(buffer, buffer + length, T(0));
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < h; ++y)
      std::memcpy(buffer + (c * ph + y + top) * pw + left, in + (c * h + y) * w, sizeof(T) * w);
}

// The kept outputs of `rows` flattened output rows (channel c at flat + c * ldf), plus bias and
// ReLU, into the NCHW output rows starting at out (channel planes outPlane apart).
template <typename T>
NODEGRAD_CLONES void keepOutputs(const T* flat, int64_t channels, int64_t ldf, int64_t rows, int64_t outW,
                                 int64_t pw, const T* bias, bool relu, T* out, int64_t outPlane) {
  for (int64_t c = 0; c < channels; ++c) {
    const T b = bias ? bias[c] : T(0);
    for (int64_t y = 0; y < rows; ++y) {
      const T* from = flat + c * ldf + y * pw;
      T* to = out + c * outPlane + y * outW;
      if (relu) {
        for (int64_t x = 0; x < outW; ++x) to[x] = std::max(T(0), from[x] + b);
      } else {
        for (int64_t x = 0; x < outW; ++x) to[x] = from[x] + b;
      }
    }
  }
}

// Stride-1 convolution of every image of one group by implicit GEMM: input images [cin][h][w]
// (inImageStride apart), padding (top, left) on both sides, weight [cout][cin * kh * kw].
template <typename T>
void implicitConvImages(int64_t batch, const T* input, int64_t inImageStride, int64_t cin, int64_t h, int64_t w,
                        int64_t top, int64_t left, int64_t kh, int64_t kw, const T* weight, int64_t cout,
                        const T* bias, bool relu, T* out, int64_t outImageStride) {
  const int64_t pw = w + 2 * left, ph = h + 2 * top, outH = ph - kh + 1, outW = pw - kw + 1;
  const int64_t plane = ph * pw, taps = cin * kh * kw, xLength = cin * plane + pw + 64;
  const std::vector<int64_t> offsets = tapOffsets(cin, kh, kw, plane, pw, taps);
  // Tiles of up to 16 MiB of (virtual) columns: the GEMM packs its B panels from the padded image
  // either way, and fewer, longer GEMMs repack the weights less and waste less on partial panels
  // (measured on ResNet's 3x3 layers: whole 56x56 images beat 512 KiB tiles by 15-20%).
  const int64_t tileCap = std::max<int64_t>(1, static_cast<int64_t>((16 * 1024 * 1024) / (sizeof(T) * taps)) / pw);
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

// Large planes (one image already makes a long GEMM), stride 1, no dilation, not 1x1.
bool implicitSuits(const Conv2dShape& s, int64_t outPlane) {
  return s.strideH == 1 && s.strideW == 1 && s.dilationH == 1 && s.dilationW == 1 &&
         (s.kernelH > 1 || s.kernelW > 1) && outPlane >= 512;
}

template <typename T>
bool implicitForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu) {
  const ConvDims d = dimsOf(s);
  if (!implicitSuits(s, d.plane)) return false;
  for (int64_t g = 0; g < s.groups; ++g)
    implicitConvImages(s.batch, input + g * d.cinG * d.inPlane, s.inChannels * d.inPlane, d.cinG, s.inH, s.inW,
                       s.padH, s.padW, s.kernelH, s.kernelW, weight + g * d.coutG * d.k, d.coutG,
                       bias ? bias + g * d.coutG : nullptr, relu, out + g * d.coutG * d.plane, s.outChannels * d.plane);
  return true;
}

// [cout][cin][kh][kw] of one group -> [cin][cout][kh][kw] with the kernel turned by 180 degrees:
// the weight of the transposed convolution that maps output gradients to input gradients.
template <typename T>
void flipWeight(const Conv2dShape& s, const ConvDims& d, const T* weight, int64_t g, std::vector<T>& flipped) {
  flipped.resize(static_cast<size_t>(d.cinG * d.coutG * s.kernelH * s.kernelW));
  for (int64_t ci = 0; ci < d.cinG; ++ci)
    for (int64_t co = 0; co < d.coutG; ++co)
      for (int64_t i = 0; i < s.kernelH; ++i)
        for (int64_t j = 0; j < s.kernelW; ++j)
          flipped[static_cast<size_t>(((ci * d.coutG + co) * s.kernelH + i) * s.kernelW + j)] =
              weight[(((g * d.coutG + co) * d.cinG + ci) * s.kernelH + s.kernelH - 1 - i) * s.kernelW + s.kernelW - 1 - j];
}

// The input gradient of a stride-1 convolution is a stride-1 convolution of the output gradient,
// padded by (kernel - 1 - padding), with the flipped weight: no column matrix and no col2im.
template <typename T>
bool implicitBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput) {
  const ConvDims d = dimsOf(s);
  const int64_t top = s.kernelH - 1 - s.padH, left = s.kernelW - 1 - s.padW;
  if (top < 0 || left < 0 || !implicitSuits(s, d.inPlane)) return false;
  std::vector<T> flipped;
  for (int64_t g = 0; g < s.groups; ++g) {
    flipWeight(s, d, weight, g, flipped);
    implicitConvImages(s.batch, gradOut + g * d.coutG * d.plane, s.outChannels * d.plane, d.coutG, s.outH, s.outW,
                       top, left, s.kernelH, s.kernelW, static_cast<const T*>(flipped.data()), d.cinG,
                       static_cast<const T*>(nullptr), false, gradInput + g * d.cinG * d.inPlane,
                       s.inChannels * d.inPlane);
  }
  return true;
}

// ---- direct path for few channels (conv_direct.h) ----

// AVX-512 CPUs run the direct kernels unless NODEGRAD_CONV_DIRECT=0 or setConvDirect(false) (for
// comparisons and for testing both paths).
std::atomic<bool>& directSwitch() {
  static std::atomic<bool> enabled{[] {
    const char* env = std::getenv("NODEGRAD_CONV_DIRECT");
    return !(env && env[0] == '0');
  }()};
  return enabled;
}

bool directAvailable() {
#if defined(__x86_64__)
  static const bool available = convDirectAvailable();
  return available;
#else
  return false;
#endif
}

bool directEnabled() { return directAvailable() && directSwitch().load(std::memory_order_relaxed); }

#if defined(__x86_64__)
// Few output channels (a 6- or 16-row GEMM wastes most of a 12-row micro-kernel), stride 1, no
// dilation, a kernel larger than 1x1 (1x1 reads its input in place) and planes small enough that
// one image's buffers stay in cache.
bool directSuits(const Conv2dShape& s, int64_t outChannels, int64_t pw, int64_t outH) {
  return directEnabled() && s.strideH == 1 && s.strideW == 1 && s.dilationH == 1 && s.dilationW == 1 &&
         (s.kernelH > 1 || s.kernelW > 1) && outChannels <= 16 && outH * pw <= 4096;
}

// Stride-1 convolution of every image of one group through the direct kernel: input images of
// [cin][h][w] (imageStride apart), padding (top, left) on both sides, weight [cout][cin * kh * kw].
void directConvImages(int64_t batch, const float* input, int64_t inImageStride, int64_t cin, int64_t h, int64_t w,
                      int64_t top, int64_t left, int64_t kh, int64_t kw, const float* weight, int64_t cout,
                      const float* bias, bool relu, float* out, int64_t outImageStride) {
  const int64_t pw = w + 2 * left, ph = h + 2 * top, outH = ph - kh + 1, outW = pw - kw + 1;
  const int64_t plane = ph * pw, positions = roundUp(outH * pw, kDirectLanes);
  const int64_t taps = cin * kh * kw, xLength = cin * plane + positions + kDirectSlack;
  const std::vector<int64_t> offsets = tapOffsets(cin, kh, kw, plane, pw, taps);
  parallelFor(batch, [&](int64_t n) {
    float* x = threadScratch<float>(xLength + cout * positions);
    float* flat = x + xLength;
    padImage(input + n * inImageStride, cin, h, w, top, left, x, xLength);
    convDirectForward_f32_avx512(x, offsets.data(), taps, weight, cout, positions, flat, positions);
    keepOutputs(static_cast<const float*>(flat), cout, positions, outH, outW, pw, bias, relu, out + n * outImageStride,
                outH * outW);
  });
}

bool directForward(const Conv2dShape& s, const float* input, const float* weight, const float* bias, float* out,
                   bool relu) {
  const ConvDims d = dimsOf(s);
  if (!directSuits(s, d.coutG, s.inW + 2 * s.padW, s.outH)) return false;
  for (int64_t g = 0; g < s.groups; ++g)
    directConvImages(s.batch, input + g * d.cinG * d.inPlane, s.inChannels * d.inPlane, d.cinG, s.inH, s.inW,
                     s.padH, s.padW, s.kernelH, s.kernelW, weight + g * d.coutG * d.k, d.coutG,
                     bias ? bias + g * d.coutG : nullptr, relu, out + g * d.coutG * d.plane,
                     s.outChannels * d.plane);
  return true;
}

// The input gradient of a stride-1 convolution is a stride-1 convolution of the output gradient,
// padded by (kernel - 1 - padding), with the kernel flipped and its in/out channels swapped.
bool directBackwardInput(const Conv2dShape& s, const float* gradOut, const float* weight, float* gradInput) {
  const ConvDims d = dimsOf(s);
  const int64_t top = s.kernelH - 1 - s.padH, left = s.kernelW - 1 - s.padW;
  if (top < 0 || left < 0 || !directSuits(s, d.cinG, s.outW + 2 * left, s.inH)) return false;
  std::vector<float> flipped;
  for (int64_t g = 0; g < s.groups; ++g) {
    flipWeight(s, d, weight, g, flipped);
    directConvImages(s.batch, gradOut + g * d.coutG * d.plane, s.outChannels * d.plane, d.coutG, s.outH, s.outW,
                     top, left, s.kernelH, s.kernelW, flipped.data(), d.cinG, nullptr, false,
                     gradInput + g * d.cinG * d.inPlane, s.inChannels * d.inPlane);
  }
  return true;
}

// Weight gradient: each thread takes a contiguous share of the images, pads them and lays their
// output gradients out on the flattened planes (zeros at the discarded positions), a few images at
// a time, and accumulates its own [cout][taps] sums; the shares are added at the end.
bool directBackwardWeight(const Conv2dShape& s, const float* input, const float* gradOut, float* gradWeight) {
  const ConvDims d = dimsOf(s);
  const int64_t pw = s.inW + 2 * s.padW, ph = s.inH + 2 * s.padH;
  if (!directSuits(s, d.coutG, pw, s.outH)) return false;
  const int64_t plane = ph * pw, positions = roundUp(s.outH * pw, kDirectLanes);
  const int64_t taps = d.k, tapsPadded = roundUp(taps, kDirectGradTaps);
  const int64_t channels = roundUp(d.coutG, kDirectGradChannels);
  const int64_t xLength = d.cinG * plane + positions + kDirectSlack, gLength = channels * positions;
  const std::vector<int64_t> offsets = tapOffsets(d.cinG, s.kernelH, s.kernelW, plane, pw, tapsPadded);
  constexpr int64_t kImagesAtOnce = 8;
  const int64_t shares = std::min<int64_t>(numThreads(), s.batch);
  std::vector<float> sums(static_cast<size_t>(shares * channels * tapsPadded));
  for (int64_t g = 0; g < s.groups; ++g) {
    std::fill(sums.begin(), sums.end(), 0.0f);
    parallelFor(shares, [&](int64_t share) {
      const int64_t begin = s.batch * share / shares, end = s.batch * (share + 1) / shares;
      float* buffers = threadScratch<float>(kImagesAtOnce * (xLength + gLength));
      const float* xs[kImagesAtOnce];
      const float* gs[kImagesAtOnce];
      for (int64_t n0 = begin; n0 < end; n0 += kImagesAtOnce) {
        const int64_t count = std::min(kImagesAtOnce, end - n0);
        for (int64_t i = 0; i < count; ++i) {
          float* x = buffers + i * (xLength + gLength);
          float* gv = x + xLength;
          const int64_t n = n0 + i;
          padImage(input + n * s.inChannels * d.inPlane + g * d.cinG * d.inPlane, d.cinG, s.inH, s.inW, s.padH,
                   s.padW, x, xLength);
          // Output gradient rows at the kept positions of the flattened planes, zeros elsewhere.
          std::fill(gv, gv + gLength, 0.0f);
          for (int64_t c = 0; c < d.coutG; ++c)
            for (int64_t y = 0; y < s.outH; ++y)
              std::memcpy(gv + c * positions + y * pw, gradOut + n * s.outChannels * d.plane +
                          (g * d.coutG + c) * d.plane + y * s.outW, sizeof(float) * s.outW);
          xs[i] = x;
          gs[i] = gv;
        }
        convDirectWeightGrad_f32_avx512(xs, gs, count, offsets.data(), tapsPadded, channels, positions, positions,
                                        sums.data() + share * channels * tapsPadded);
      }
    });
    for (int64_t c = 0; c < d.coutG; ++c)
      for (int64_t r = 0; r < taps; ++r) {
        float total = 0;
        for (int64_t share = 0; share < shares; ++share)
          total += sums[static_cast<size_t>((share * channels + c) * tapsPadded + r)];
        gradWeight[(g * d.coutG + c) * taps + r] = total;
      }
  }
  return true;
}

#endif  // __x86_64__

}  // namespace

bool setConvDirect(bool enabled) {
  const bool before = directEnabled();
  directSwitch().store(enabled);
  return before;
}

bool convDirectActive() { return directEnabled(); }

namespace {

template <typename T>
bool tryDirectForward([[maybe_unused]] const Conv2dShape& s, [[maybe_unused]] const T* input,
                      [[maybe_unused]] const T* weight, [[maybe_unused]] const T* bias, [[maybe_unused]] T* out,
                      [[maybe_unused]] bool relu) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) return directForward(s, input, weight, bias, out, relu);
#endif
  return false;
}

template <typename T>
bool tryDirectBackwardInput([[maybe_unused]] const Conv2dShape& s, [[maybe_unused]] const T* gradOut,
                            [[maybe_unused]] const T* weight, [[maybe_unused]] T* gradInput) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) return directBackwardInput(s, gradOut, weight, gradInput);
#endif
  return false;
}

template <typename T>
bool tryDirectBackwardWeight([[maybe_unused]] const Conv2dShape& s, [[maybe_unused]] const T* input,
                             [[maybe_unused]] const T* gradOut, [[maybe_unused]] T* gradWeight) {
#if defined(__x86_64__)
  if constexpr (std::is_same_v<T, float>) return directBackwardWeight(s, input, gradOut, gradWeight);
#endif
  return false;
}

}  // namespace

template <typename T>
void conv2dForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out,
                   bool relu) {
  if (tryDirectForward(s, input, weight, bias, out, relu) || implicitForward(s, input, weight, bias, out, relu)) return;
  const ConvDims d = dimsOf(s);
  const bool pointwise = isPointwise(s);
  const int64_t per = pointwise ? 1 : imagesPerGemm(s, d.plane);
  forEachGroup(s.batch, per, [&](int64_t first, int64_t count, bool serial) {
    const int64_t cols = count * d.plane;
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* col = input + first * s.inChannels * d.inPlane + g * d.cinG * d.inPlane;
      if (!pointwise && count == 1) {
        // One image: im2col and GEMM tile by tile of output rows.
        const int64_t rows = rowsPerTile(s, d.k, sizeof(T));
        T* buffer = threadScratch<T>(d.k * rows * s.outW);
        T* o = out + first * s.outChannels * d.plane + g * d.coutG * d.plane;
        for (int64_t oh0 = 0; oh0 < s.outH; oh0 += rows) {
          const int64_t oh1 = std::min(s.outH, oh0 + rows), tileCols = (oh1 - oh0) * s.outW;
          im2col(s, d.cinG, col, buffer, tileCols, oh0, oh1);
          GemmArgs args;
          args.m = d.coutG;
          args.n = tileCols;
          args.k = d.k;
          args.lda = d.k;
          args.ldb = tileCols;
          args.ldc = d.plane;
          runGemm(serial, args, weight + g * d.coutG * d.k, static_cast<const T*>(buffer), o + oh0 * s.outW);
        }
        continue;
      }
      if (!pointwise) {
        T* buffer = threadScratch<T>(d.k * cols + (count > 1 ? d.coutG * cols : 0));
        for (int64_t i = 0; i < count; ++i)
          im2col(s, d.cinG, input + (first + i) * s.inChannels * d.inPlane + g * d.cinG * d.inPlane,
                 buffer + i * d.plane, cols);
        col = buffer;
      }
      GemmArgs args;
      args.m = d.coutG;
      args.n = cols;
      args.k = d.k;
      args.lda = d.k;
      args.ldb = cols;
      T* o = out + first * s.outChannels * d.plane + g * d.coutG * d.plane;
      if (count == 1) {
        args.ldc = d.plane;
        runGemm(serial, args, weight + g * d.coutG * d.k, col, o);
      } else {
        // [coutG, count * plane] result, then each image's block to its place in NCHW.
        T* result = const_cast<T*>(col) + d.k * cols;
        args.ldc = cols;
        runGemm(serial, args, weight + g * d.coutG * d.k, col, result);
        for (int64_t co = 0; co < d.coutG; ++co)
          for (int64_t i = 0; i < count; ++i)
            std::memcpy(o + i * s.outChannels * d.plane + co * d.plane, result + co * cols + i * d.plane,
                        sizeof(T) * d.plane);
      }
    }
    if (bias || relu) biasRelu(out + first * s.outChannels * d.plane, count * s.outChannels, s.outChannels, d.plane, bias, relu);
  });
}

template <typename T>
void conv2dBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput) {
  if (tryDirectBackwardInput(s, gradOut, weight, gradInput) || implicitBackwardInput(s, gradOut, weight, gradInput)) return;
  const ConvDims d = dimsOf(s);
  const bool pointwise = isPointwise(s);
  const int64_t per = pointwise ? 1 : imagesPerGemm(s, d.plane);
  forEachGroup(s.batch, per, [&](int64_t first, int64_t count, bool serial) {
    const int64_t cols = count * d.plane;
    T* gi = gradInput + first * s.inChannels * d.inPlane;
    if (!pointwise) std::fill(gi, gi + count * s.inChannels * d.inPlane, T(0));
    for (int64_t g = 0; g < s.groups; ++g) {
      // dcol [k, cols] = W_g^T [k, coutG] x dOut_g [coutG, cols]
      GemmArgs args;
      args.transA = true;
      args.m = d.k;
      args.n = cols;
      args.k = d.coutG;
      args.lda = d.k;
      T* target = gi + g * d.cinG * d.inPlane;
      const T* go = gradOut + first * s.outChannels * d.plane + g * d.coutG * d.plane;
      if (count == 1) {
        args.ldb = d.plane;
        args.ldc = d.plane;
        T* dcol = pointwise ? target : threadScratch<T>(d.k * d.plane);
        runGemm(serial, args, weight + g * d.coutG * d.k, go, dcol);
        if (!pointwise) col2im(s, d.cinG, dcol, target, d.plane);
      } else {
        T* dcol = threadScratch<T>(d.k * cols + d.coutG * cols);
        T* gathered = dcol + d.k * cols;
        gatherPlanes(go, count, d.plane, s.outChannels * d.plane, d.coutG, d.plane, gathered);
        args.ldb = cols;
        args.ldc = cols;
        runGemm(serial, args, weight + g * d.coutG * d.k, static_cast<const T*>(gathered), dcol);
        for (int64_t i = 0; i < count; ++i)
          col2im(s, d.cinG, dcol + i * d.plane, target + i * s.inChannels * d.inPlane, cols);
      }
    }
  });
}

// dW by im2col + GEMM, image groups spread over the pool.
template <typename T>
void weightGradByGemm(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight) {
  const ConvDims d = dimsOf(s);
  const bool pointwise = isPointwise(s);
  const int64_t weightSize = s.outChannels * d.k;
  const int threads = numThreads();
  const int64_t per = pointwise ? 1 : imagesPerGemm(s, d.plane);
  const int64_t groupsOfImages = (s.batch + per - 1) / per;
  // Each chunk of image groups sums into its own buffer (chunk 0 into gradWeight); then they are added.
  const int64_t chunks = (threads > 1 && groupsOfImages >= threads) ? threads : 1;
  std::vector<std::vector<T>> partials(static_cast<size_t>(chunks > 1 ? chunks - 1 : 0),
                                       std::vector<T>(static_cast<size_t>(weightSize)));
  auto runChunk = [&](int64_t chunk) {
    const bool serial = chunks > 1;
    T* target = chunk == 0 ? gradWeight : partials[static_cast<size_t>(chunk - 1)].data();
    const int64_t begin = groupsOfImages * chunk / chunks, end = groupsOfImages * (chunk + 1) / chunks;
    std::fill(target, target + weightSize, T(0));
    for (int64_t grp = begin; grp < end; ++grp) {
      const int64_t first = grp * per, count = std::min(per, s.batch - first), cols = count * d.plane;
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* col = input + first * s.inChannels * d.inPlane + g * d.cinG * d.inPlane;
        const T* go = gradOut + first * s.outChannels * d.plane + g * d.coutG * d.plane;
        if (!pointwise && count == 1) {
          // One image: accumulate tile by tile of output rows, the columns staying in cache.
          const int64_t rows = rowsPerTile(s, d.k, sizeof(T));
          T* tile = threadScratch<T>(d.k * rows * s.outW);
          for (int64_t oh0 = 0; oh0 < s.outH; oh0 += rows) {
            const int64_t oh1 = std::min(s.outH, oh0 + rows), tileCols = (oh1 - oh0) * s.outW;
            im2col(s, d.cinG, col, tile, tileCols, oh0, oh1);
            GemmArgs args;
            args.transB = true;
            args.m = d.coutG;
            args.n = d.k;
            args.k = tileCols;
            args.lda = d.plane;
            args.ldb = tileCols;
            args.ldc = d.k;
            args.beta = 1.0;
            runGemm(serial, args, go + oh0 * s.outW, static_cast<const T*>(tile), target + g * d.coutG * d.k);
          }
          continue;
        }
        T* buffer = threadScratch<T>((pointwise ? 0 : d.k * cols) + (count > 1 ? d.coutG * cols : 0));
        if (!pointwise) {
          for (int64_t i = 0; i < count; ++i)
            im2col(s, d.cinG, input + (first + i) * s.inChannels * d.inPlane + g * d.cinG * d.inPlane,
                   buffer + i * d.plane, cols);
          col = buffer;
        }
        if (count > 1) {
          T* gathered = buffer + (pointwise ? 0 : d.k * cols);
          gatherPlanes(go, count, d.plane, s.outChannels * d.plane, d.coutG, d.plane, gathered);
          go = gathered;
        }
        // dW_g [coutG, k] += dOut_g [coutG, cols] x col^T [cols, k]
        GemmArgs args;
        args.transB = true;
        args.m = d.coutG;
        args.n = d.k;
        args.k = cols;
        args.lda = count > 1 ? cols : d.plane;
        args.ldb = count > 1 || !pointwise ? cols : d.inPlane;
        args.ldc = d.k;
        args.beta = 1.0;
        runGemm(serial, args, go, col, target + g * d.coutG * d.k);
      }
    }
  };
  parallelFor(chunks, runChunk);
  for (const auto& partial : partials)
    for (int64_t i = 0; i < weightSize; ++i) gradWeight[i] += partial[static_cast<size_t>(i)];
}

template <typename T>
void conv2dBackwardWeight(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight,
                          T* gradBias) {
  const ConvDims d = dimsOf(s);
  if (!tryDirectBackwardWeight(s, input, gradOut, gradWeight)) weightGradByGemm(s, input, gradOut, gradWeight);
  if (gradBias) {
    for (int64_t c = 0; c < s.outChannels; ++c) {
      double acc = 0;
      for (int64_t n = 0; n < s.batch; ++n) acc += sumPlane(gradOut + (n * s.outChannels + c) * d.plane, d.plane);
      gradBias[c] = static_cast<T>(acc);
    }
  }
}

#define NODEGRAD_INSTANTIATE_CONV(T)                                                             \
  template void conv2dForward<T>(const Conv2dShape&, const T*, const T*, const T*, T*, bool);     \
  template void conv2dBackwardInput<T>(const Conv2dShape&, const T*, const T*, T*);              \
  template void conv2dBackwardWeight<T>(const Conv2dShape&, const T*, const T*, T*, T*);
NODEGRAD_INSTANTIATE_CONV(float)
NODEGRAD_INSTANTIATE_CONV(double)

}  // namespace nodegrad
