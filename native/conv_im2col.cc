// 2-D convolution as im2col + GEMM, per image and group. Images are spread over the thread pool
// (each thread with its own column buffer and serial GEMM); with fewer images than threads, the
// GEMM itself is split instead. A 1x1, stride-1, unpadded convolution reads its input as the
// column matrix directly (no copy).
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv_common.h"
#include "conv_strategies.h"
#include "simd.h"
#include "thread_pool.h"

namespace nodegrad::conv {
namespace {

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
      if (static_cast<int64_t>(padded.size()) < channels * ph * pw)
        padded.resize(static_cast<size_t>(channels * ph * pw));
      std::fill(padded.begin(), padded.begin() + channels * ph * pw, T(0));
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t h = 0; h < s.inH; ++h)
          std::memcpy(padded.data() + (c * ph + h + s.padH) * pw + s.padW, input + (c * s.inH + h) * s.inW,
                      sizeof(T) * s.inW);
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

// Output rows per column tile for one image: the tile's columns (k x rows*outW) stay within about
// 512 KiB, so im2col writes them into cache and the GEMM reads them from there. Without tiling a
// ResNet 3x3 layer's full column matrix (576 x 3136 floats, 7 MiB) went through memory twice.
int64_t rowsPerTile(const Conv2dShape& s, int64_t k, size_t elementSize) {
  const auto cols = static_cast<int64_t>((size_t{512} * 1024) / (elementSize * static_cast<size_t>(k)));
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

// Copies channels [c0, c0 + count) of `count` images' [channels, plane] maps into (or out of) a
// [count, cols] block whose rows hold the images side by side.
template <typename T>
void gatherPlanes(const T* src, int64_t images, int64_t channelStride, int64_t imageStride, int64_t rows, int64_t plane,
                  T* dst) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < images; ++i)
      std::memcpy(dst + (r * images + i) * plane, src + i * imageStride + r * channelStride, sizeof(T) * plane);
}

// A 1x1 convolution over 1x1 planes is a linear layer: [N, C] rows. One GEMM per group over the
// whole batch, split over the pool (one image per GEMM made each a matrix-vector product reading
// the whole weight).
bool isLinear(const Conv2dShape& s) { return isPointwise(s) && s.inH == 1 && s.inW == 1; }

// out^T [coutG, N] = W_g [coutG, cinG] x x^T [cinG, N] on transposed copies of the (small)
// activations: with B = W_g^T instead, the GEMM took its dot-product path for short m, several
// times slower than the packed kernel here.
template <typename T>
void linearForward(const Conv2dShape& s, const ConvDims& d, const T* input, const T* weight, T* out) {
  T* xT = threadScratch<T>(s.inChannels * s.batch + s.outChannels * s.batch);
  T* outT = xT + s.inChannels * s.batch;
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < s.inChannels; ++c) xT[c * s.batch + n] = input[n * s.inChannels + c];
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmArgs args;
    args.m = d.coutG;
    args.n = s.batch;
    args.k = d.cinG;
    args.lda = d.cinG;
    args.ldb = s.batch;
    args.ldc = s.batch;
    gemm<T>(args, weight + g * d.coutG * d.cinG, static_cast<const T*>(xT + g * d.cinG * s.batch),
            outT + g * d.coutG * s.batch);
  }
  for (int64_t n = 0; n < s.batch; ++n)
    for (int64_t c = 0; c < s.outChannels; ++c) out[n * s.outChannels + c] = outT[c * s.batch + n];
}

// dx [N, cinG] = dOut [N, coutG] x W_g.
template <typename T>
void linearBackwardInput(const Conv2dShape& s, const ConvDims& d, const T* gradOut, const T* weight, T* gradInput) {
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmArgs args;
    args.m = s.batch;
    args.n = d.cinG;
    args.k = d.coutG;
    args.lda = s.outChannels;
    args.ldb = d.cinG;
    args.ldc = s.inChannels;
    gemm<T>(args, gradOut + g * d.coutG, weight + g * d.coutG * d.cinG, gradInput + g * d.cinG);
  }
}

// dW_g [coutG, cinG] = dOut^T [coutG, N] x x [N, cinG].
template <typename T>
void linearBackwardWeight(const Conv2dShape& s, const ConvDims& d, const T* input, const T* gradOut, T* gradWeight) {
  for (int64_t g = 0; g < s.groups; ++g) {
    GemmArgs args;
    args.transA = true;
    args.m = d.coutG;
    args.n = d.cinG;
    args.k = s.batch;
    args.lda = s.outChannels;
    args.ldb = s.inChannels;
    args.ldc = d.cinG;
    gemm<T>(args, gradOut + g * d.coutG, input + g * d.cinG, gradWeight + g * d.coutG * d.cinG);
  }
}

}  // namespace

template <typename T>
void im2colForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out, bool relu) {
  const ConvDims d = dimsOf(s);
  if (isLinear(s)) {
    linearForward(s, d, input, weight, out);
    if (bias || relu) biasRelu(out, s.batch * s.outChannels, s.outChannels, 1, bias, relu);
    return;
  }
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
    if (bias || relu)
      biasRelu(out + first * s.outChannels * d.plane, count * s.outChannels, s.outChannels, d.plane, bias, relu);
  });
}

template <typename T>
void im2colBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput) {
  const ConvDims d = dimsOf(s);
  if (isLinear(s)) {
    linearBackwardInput(s, d, gradOut, weight, gradInput);
    return;
  }
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
void im2colBackwardWeight(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight) {
  const ConvDims d = dimsOf(s);
  if (isLinear(s)) {
    linearBackwardWeight(s, d, input, gradOut, gradWeight);
    return;
  }
  const bool pointwise = isPointwise(s);
  const int64_t weightSize = s.outChannels * d.k;
  const int threads = numThreads();
  const int64_t per = pointwise ? 1 : imagesPerGemm(s, d.plane);
  const int64_t groupsOfImages = (s.batch + per - 1) / per;
  // Each chunk of image groups sums into its own buffer (chunk 0 into gradWeight); then they are added.
  const int64_t chunks = (threads > 1 && groupsOfImages >= threads) ? threads : 1;
  // Per calling thread and kept between calls: fresh buffers per call (up to 9 MiB each for a
  // 512x512x3x3 weight) faulted their pages anew every backward.
  thread_local std::vector<T> partials;
  partials.resize(static_cast<size_t>((chunks > 1 ? chunks - 1 : 0) * weightSize));
  T* const partialSums = partials.data();  // the lambdas run on pool threads: not their own thread_local
  auto runChunk = [&](int64_t chunk) {
    const bool serial = chunks > 1;
    T* target = chunk == 0 ? gradWeight : partialSums + (chunk - 1) * weightSize;
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
  for (int64_t chunk = 1; chunk < chunks; ++chunk) {
    const T* partial = partialSums + (chunk - 1) * weightSize;
    for (int64_t i = 0; i < weightSize; ++i) gradWeight[i] += partial[i];
  }
}

// NOLINTBEGIN(bugprone-macro-parentheses): T is a type, which cannot be parenthesized.
#define NODEGRAD_INSTANTIATE_CONV_IM2COL(T)                                                   \
  template void im2colForward<T>(const Conv2dShape&, const T*, const T*, const T*, T*, bool); \
  template void im2colBackwardInput<T>(const Conv2dShape&, const T*, const T*, T*);           \
  template void im2colBackwardWeight<T>(const Conv2dShape&, const T*, const T*, T*);
// NOLINTEND(bugprone-macro-parentheses)
NODEGRAD_INSTANTIATE_CONV_IM2COL(float)
NODEGRAD_INSTANTIATE_CONV_IM2COL(double)

}  // namespace nodegrad::conv
