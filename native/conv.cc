// 2-D convolution as im2col + GEMM, per image and group. Images are spread over the thread pool
// (each thread with its own column buffer and serial GEMM); with fewer images than threads, the
// GEMM itself is split instead. A 1x1, stride-1, unpadded convolution reads its input as the
// column matrix directly (no copy).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
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
template <typename T>
void im2col(const Conv2dShape& s, int64_t channels, const T* input, T* col) {
  const int64_t plane = s.outH * s.outW;
  for (int64_t c = 0; c < channels; ++c) {
    const T* in = input + c * s.inH * s.inW;
    for (int64_t i = 0; i < s.kernelH; ++i) {
      for (int64_t j = 0; j < s.kernelW; ++j) {
        T* row = col + ((c * s.kernelH + i) * s.kernelW + j) * plane;
        for (int64_t oh = 0; oh < s.outH; ++oh) {
          T* dst = row + oh * s.outW;
          const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
          if (ih < 0 || ih >= s.inH) {
            std::fill(dst, dst + s.outW, T(0));
            continue;
          }
          const T* src = in + ih * s.inW;
          const int64_t offset = j * s.dilationW - s.padW;
          if (s.strideW == 1) {
            // Valid ow: 0 <= ow + offset < inW.
            const int64_t lo = std::min(s.outW, std::max<int64_t>(0, -offset));
            const int64_t hi = std::max(lo, std::min(s.outW, s.inW - offset));
            std::fill(dst, dst + lo, T(0));
            if (hi > lo) std::memcpy(dst + lo, src + lo + offset, sizeof(T) * (hi - lo));
            std::fill(dst + hi, dst + s.outW, T(0));
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

// The adjoint of im2col: input[c][ih][iw] += col[...] for every window position that read it.
template <typename T>
void col2im(const Conv2dShape& s, int64_t channels, const T* col, T* input) {
  const int64_t plane = s.outH * s.outW;
  for (int64_t c = 0; c < channels; ++c) {
    T* in = input + c * s.inH * s.inW;
    for (int64_t i = 0; i < s.kernelH; ++i) {
      for (int64_t j = 0; j < s.kernelW; ++j) {
        const T* row = col + ((c * s.kernelH + i) * s.kernelW + j) * plane;
        for (int64_t oh = 0; oh < s.outH; ++oh) {
          const int64_t ih = oh * s.strideH - s.padH + i * s.dilationH;
          if (ih < 0 || ih >= s.inH) continue;
          T* dst = in + ih * s.inW;
          const T* src = row + oh * s.outW;
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

struct ConvDims {
  int64_t cinG, coutG, k, plane, inPlane;
};

ConvDims dimsOf(const Conv2dShape& s) {
  const int64_t cinG = s.inChannels / s.groups;
  return {cinG, s.outChannels / s.groups, cinG * s.kernelH * s.kernelW, s.outH * s.outW,
          s.inH * s.inW};
}

// Runs fn(image, serialGemm) for every image: over the pool when there are enough images.
template <typename Fn>
void forEachImage(int64_t batch, Fn fn) {
  if (batch >= numThreads() && numThreads() > 1) {
    parallelFor(batch, [&](int64_t n) { fn(n, true); });
  } else {
    for (int64_t n = 0; n < batch; ++n) fn(n, false);
  }
}

template <typename T>
void runGemm(bool serial, const GemmArgs& g, const T* a, const T* b, T* c) {
  if (serial) gemmSerial<T>(g, a, b, c);
  else gemm<T>(g, a, b, c);
}

}  // namespace

template <typename T>
void conv2dForward(const Conv2dShape& s, const T* input, const T* weight, const T* bias, T* out,
                   bool relu) {
  const ConvDims d = dimsOf(s);
  const bool pointwise = isPointwise(s);
  forEachImage(s.batch, [&](int64_t n, bool serial) {
    const T* in = input + n * s.inChannels * d.inPlane;
    T* o = out + n * s.outChannels * d.plane;
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* col = in + g * d.cinG * d.inPlane;
      if (!pointwise) {
        T* buffer = threadScratch<T>(d.k * d.plane);
        im2col(s, d.cinG, col, buffer);
        col = buffer;
      }
      GemmArgs args;
      args.m = d.coutG;
      args.n = d.plane;
      args.k = d.k;
      args.lda = d.k;
      args.ldb = d.plane;
      args.ldc = d.plane;
      runGemm(serial, args, weight + g * d.coutG * d.k, col, o + g * d.coutG * d.plane);
    }
    if (bias || relu) {
      for (int64_t c = 0; c < s.outChannels; ++c) {
        T* row = o + c * d.plane;
        const T b = bias ? bias[c] : T(0);
        if (relu) {
          for (int64_t p = 0; p < d.plane; ++p) row[p] = std::max(T(0), row[p] + b);
        } else {
          for (int64_t p = 0; p < d.plane; ++p) row[p] += b;
        }
      }
    }
  });
}

template <typename T>
void conv2dBackwardInput(const Conv2dShape& s, const T* gradOut, const T* weight, T* gradInput) {
  const ConvDims d = dimsOf(s);
  const bool pointwise = isPointwise(s);
  forEachImage(s.batch, [&](int64_t n, bool serial) {
    const T* go = gradOut + n * s.outChannels * d.plane;
    T* gi = gradInput + n * s.inChannels * d.inPlane;
    if (!pointwise) std::fill(gi, gi + s.inChannels * d.inPlane, T(0));
    for (int64_t g = 0; g < s.groups; ++g) {
      // dcol [k, plane] = W_g^T [k, coutG] x dOut_g [coutG, plane]
      GemmArgs args;
      args.transA = true;
      args.m = d.k;
      args.n = d.plane;
      args.k = d.coutG;
      args.lda = d.k;
      args.ldb = d.plane;
      args.ldc = d.plane;
      T* target = gi + g * d.cinG * d.inPlane;
      T* dcol = pointwise ? target : threadScratch<T>(d.k * d.plane);
      runGemm(serial, args, weight + g * d.coutG * d.k, go + g * d.coutG * d.plane, dcol);
      if (!pointwise) col2im(s, d.cinG, dcol, target);
    }
  });
}

template <typename T>
void conv2dBackwardWeight(const Conv2dShape& s, const T* input, const T* gradOut, T* gradWeight,
                          T* gradBias) {
  const ConvDims d = dimsOf(s);
  const bool pointwise = isPointwise(s);
  const int64_t weightSize = s.outChannels * d.k;
  const int threads = numThreads();
  // Each chunk of images sums into its own buffer (chunk 0 into gradWeight); then they are added.
  const int64_t chunks = (threads > 1 && s.batch >= threads) ? threads : 1;
  std::vector<std::vector<T>> partials(static_cast<size_t>(chunks > 1 ? chunks - 1 : 0),
                                       std::vector<T>(static_cast<size_t>(weightSize)));
  auto runChunk = [&](int64_t chunk) {
    const bool serial = chunks > 1;
    T* target = chunk == 0 ? gradWeight : partials[static_cast<size_t>(chunk - 1)].data();
    const int64_t begin = s.batch * chunk / chunks, end = s.batch * (chunk + 1) / chunks;
    std::fill(target, target + weightSize, T(0));
    for (int64_t n = begin; n < end; ++n) {
      const T* in = input + n * s.inChannels * d.inPlane;
      const T* go = gradOut + n * s.outChannels * d.plane;
      for (int64_t g = 0; g < s.groups; ++g) {
        const T* col = in + g * d.cinG * d.inPlane;
        if (!pointwise) {
          T* buffer = threadScratch<T>(d.k * d.plane);
          im2col(s, d.cinG, col, buffer);
          col = buffer;
        }
        // dW_g [coutG, k] += dOut_g [coutG, plane] x col^T [plane, k]
        GemmArgs args;
        args.transB = true;
        args.m = d.coutG;
        args.n = d.k;
        args.k = d.plane;
        args.lda = d.plane;
        args.ldb = d.plane;
        args.ldc = d.k;
        args.beta = 1.0;
        runGemm(serial, args, go + g * d.coutG * d.plane, col, target + g * d.coutG * d.k);
      }
    }
  };
  parallelFor(chunks, runChunk);
  for (const auto& partial : partials)
    for (int64_t i = 0; i < weightSize; ++i) gradWeight[i] += partial[static_cast<size_t>(i)];
  if (gradBias) {
    for (int64_t c = 0; c < s.outChannels; ++c) {
      double acc = 0;
      for (int64_t n = 0; n < s.batch; ++n) {
        const T* row = gradOut + (n * s.outChannels + c) * d.plane;
        for (int64_t p = 0; p < d.plane; ++p) acc += row[p];
      }
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
